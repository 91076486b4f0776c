"""The errors of call-frame information (CFI) decoding and unwinding."""
from __future__ import annotations

__all__ = ["CfiError", "UnknownValue"]


class CfiError(Exception):
    """Malformed or unsupported call-frame information."""


class UnknownValue(Exception):
    """A value the unwinder cannot know (unsaved register, unreadable memory)."""
