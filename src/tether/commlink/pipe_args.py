"""The PipeManager's argument checks and its delimiter search (pure)."""
from __future__ import annotations

import math

__all__ = ["Data", "Delims", "to_bytes", "to_delimiters", "to_count", "to_timeout", "find_until"]

# What the send and receive methods accept: str (sent as UTF-8) or bytes;
# a delimiter, or a list or tuple of them.
Data = str | bytes | bytearray | memoryview
Delims = Data | list[Data] | tuple[Data, ...]


def to_bytes(value, what: str) -> bytes:
    """str (UTF-8) or any bytes-like object -> bytes; TypeError otherwise."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def to_delimiters(delims) -> tuple[bytes, ...]:
    """One delimiter or a list/tuple of them -> tuple of non-empty bytes."""
    items = delims if isinstance(delims, (list, tuple)) else [delims]
    if not items:
        raise ValueError("delims must name at least one delimiter")
    result = tuple(to_bytes(d, "each delimiter") for d in items)
    if any(not d for d in result):
        raise ValueError("a delimiter must not be empty")
    return result


def to_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return value


def to_timeout(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, not {type(value).__name__}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"timeout must be zero or more seconds, got {value}")
    return float(value)


def find_until(buf: bytearray, delims: tuple[bytes, ...], count: int, drop: bool):
    """Where the `count`-th delimiter ends in `buf`: (data to return, bytes to consume) or None."""
    pieces = []
    pos = 0
    for _ in range(count):
        best_end = best_start = -1
        for delim in delims:
            start = buf.find(delim, pos)
            if start == -1:
                continue
            end = start + len(delim)
            # The match that ends first is the first one visible in the stream,
            # whatever the read sizes were; on a tie prefer the longer match.
            if best_end == -1 or end < best_end or (end == best_end and start < best_start):
                best_end, best_start = end, start
        if best_end == -1:
            return None
        pieces.append(bytes(buf[pos:best_start] if drop else buf[pos:best_end]))
        pos = best_end
    return b"".join(pieces), pos
