"""libdebug's addressing modes: which address an (address, file) pair means.

Breakpoints, watchpoints, memory access and step_until take an address and a
`file` argument (libdebug documents it under "Absolute and Relative
Addressing"):

- "absolute": the address is used as it is.
- "hybrid" (the default): libdebug first tries the address as absolute; if
  it does not lie in any memory map of the process, it is taken as relative
  to the base of the debugged binary.
- "binary": relative to the base of the debugged binary.
- any other string, e.g. "libc", "ld", "libcrypto.so.3": relative to the base
  of the one mapped file that name designates.

The base of a file is the start of its lowest mapping (for a PIE program or
a shared library that is its load address; for a non-PIE program 0x400000).
An address that is already at or above that base is kept as absolute: it
cannot be an offset inside the file (ASLR bases are far above any file size),
and it is what a disassembly of a non-PIE program shows, so
breakpoint(0x401136, file="binary") means 0x401136 there.

A name designates a file by the basename of its path (the kernel's
"(deleted)" mark ignored), best match first: the exact basename
("libc.so.6"), then a basename starting with the name followed by "." or "-"
("libc" -> libc.so.6, never libcrypto.so.3; "ld" -> ld-linux-x86-64.so.2),
then any basename containing it ("crypto" -> libcrypto.so.3, "stack" ->
[stack]). A name with a "/" is compared with whole paths. Nothing matching,
or two different files matching equally well, is a ValueError naming the
library.
"""
from __future__ import annotations

import os

from .maps import program_file, strip_deleted

__all__ = ["resolve_address", "base_of", "backing_file_of", "maps_of"]

SPECIAL_MODES = ("absolute", "hybrid", "binary")


def _check_file(file) -> str:
    if not isinstance(file, str):
        raise TypeError(f"file must be a str such as 'hybrid' or 'libc', not {type(file).__name__}")
    if not file:
        raise ValueError("file must not be empty: use 'absolute', 'hybrid', 'binary' "
                         "or a library name")
    return file


def backing_file_of(file: str, maps, binary_path: str | None = None) -> str:
    """The backing-file name in `maps` that `file` designates ("binary" or a
    library name; see the module docstring). Raises ValueError when nothing
    or more than one file matches."""
    file = _check_file(file)
    if file in ("binary", "hybrid"):
        program = program_file(maps, binary_path)
        if program is None:
            raise ValueError(f"the debugged program ({binary_path or 'unknown path'}) "
                             f"is not in the process's memory maps")
        return program
    if file == "absolute":
        raise ValueError("'absolute' addressing has no backing file")

    names = []
    for m in maps:
        name = strip_deleted(m.backing_file)
        if name and name not in names:
            names.append(name)

    if "/" in file:
        tiers = [[n for n in names if n == file], [n for n in names if file in n]]
    else:
        base = os.path.basename
        tiers = [
            [n for n in names if base(n) == file],
            [n for n in names if base(n).startswith((file + ".", file + "-"))],
            [n for n in names if file in base(n)],
        ]
    for found in tiers:
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValueError(f"library name '{file}' is ambiguous: it matches "
                             f"{', '.join(found)}; give a longer name")
    raise ValueError(f"no mapped file matches the library name '{file}'")


def maps_of(file: str, maps, binary_path: str | None = None) -> list:
    """The maps of the file that `file` designates, in address order."""
    name = backing_file_of(file, maps, binary_path)
    return sorted((m for m in maps if strip_deleted(m.backing_file) == name),
                  key=lambda m: m.start)


def base_of(file: str, maps, binary_path: str | None = None) -> int:
    """Base address of `file` ("binary", "hybrid" = the binary's base,
    "absolute" = 0, or a library name): the start of its lowest mapping."""
    if _check_file(file) == "absolute":
        return 0
    return maps_of(file, maps, binary_path)[0].start


def resolve_address(address: int, file: str, maps, binary_path: str | None = None) -> int:
    """The absolute address that `address` means in addressing mode `file`."""
    if isinstance(address, bool) or not isinstance(address, int):
        raise TypeError(f"address must be an int, not {type(address).__name__}")
    if address < 0:
        raise ValueError(f"address must not be negative: {address:#x}")
    file = _check_file(file)
    if file == "absolute":
        return address
    if file == "hybrid":
        if any(address in m for m in maps):
            return address
        file = "binary"
    base = base_of(file, maps, binary_path)
    # At or above the base it is already absolute (see the module docstring).
    return address if address >= base else base + address
