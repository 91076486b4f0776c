"""The x86-64 Linux system call table, and strace-like formatting of a call:
the names of syscall_table (numbers, names, argument kinds) and
syscall_format (format_syscall), under the one name the rest of tether imports.
"""
from __future__ import annotations

from .syscall_format import AT_FDCWD, format_syscall
from .syscall_table import (SYSCALL_ARGS, SYSCALL_NAMES, SYSCALL_NUMBERS, syscall_name,
                            syscall_number, syscall_signature)

__all__ = [
    "SYSCALL_NAMES", "SYSCALL_NUMBERS", "SYSCALL_ARGS", "syscall_number", "syscall_name",
    "syscall_signature", "format_syscall",
]
