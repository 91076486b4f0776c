"""The architecture layer: one package per architecture (amd64/, i386/),
each with its table (`<arch>.arch.ARCH`, see table.py), and how a process's
architecture is told: from the ELF header of its program."""
from __future__ import annotations

import os

from .amd64.arch import ARCH as AMD64
from .i386.arch import ARCH as I386
from .table import Arch

__all__ = ["AMD64", "ARCHES", "Arch", "I386", "arch_named", "arch_of_elf_header", "arch_of_process"]

ARCHES = {arch.name: arch for arch in (AMD64, I386)}


def arch_named(name: str) -> Arch:
    """The table of an architecture by its libdebug name ("amd64", "i386")."""
    arch = ARCHES.get(name)
    if arch is None:
        raise ValueError(f"unknown architecture {name!r} (tether knows {', '.join(ARCHES)})")
    return arch


def arch_of_elf_header(head: bytes) -> Arch | None:
    """The architecture of an ELF file from its first 20 bytes (class at
    byte 4, little-endian e_machine at 18), or None if it is none of ours."""
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little")
    for arch in ARCHES.values():
        if head[4] == arch.elf_class and machine == arch.elf_machine:
            return arch
    return None


def arch_of_process(pid: int, default: Arch = AMD64) -> Arch:
    """The architecture of the program process `pid` runs now, from the ELF
    header of /proc/pid/exe (20 bytes read); `default` when it cannot be
    read (the process is gone, or its program is not an ELF file of ours)."""
    try:
        fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return default
    try:
        head = os.pread(fd, 20, 0)
    except OSError:
        return default
    finally:
        os.close(fd)
    return arch_of_elf_header(head) or default
