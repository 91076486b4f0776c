"""Memory maps of a process, as the kernel lists them in /proc/<pid>/maps.

Line format (proc(5)):  start-end perms offset dev inode [pathname]
e.g. "55d0c8a00000-55d0c8a02000 r--p 00000000 08:01 1234   /usr/bin/true".
The pathname is absent for anonymous maps, a bracketed name for special ones
("[heap]", "[stack]", "[vdso]", "[vvar]", "[anon:name]"), and ends with
" (deleted)" when the file was unlinked after being mapped.

An anonymous map's `backing_file` is "anon_<start in hex>", as libdebug
names it (so that each one can be told apart and addressed by name).
"""
from __future__ import annotations

import os
import re

__all__ = ["MemoryMap", "MemoryMapList", "parse_maps", "format_maps", "strip_deleted",
           "read_maps", "program_file"]

DELETED_SUFFIX = " (deleted)"
ANON_PREFIX = "anon_"

# The pathname column is padded with spaces after the inode; a name may itself
# contain spaces, so it is "everything after the padding", never split further.
_LINE = re.compile(
    r"^([0-9a-fA-F]+)-([0-9a-fA-F]+)\s+([-rwxpsS]{4})\s+([0-9a-fA-F]+)\s+"
    r"(\S+)\s+(\d+)(?: +(.*))?$")


def strip_deleted(name: str) -> str:
    """The path of a backing file without the kernel's " (deleted)" mark."""
    if name.endswith(DELETED_SUFFIX):
        return name[: -len(DELETED_SUFFIX)]
    return name


class MemoryMap:
    """One mapping: [start, end) with permissions like "r-xp", the offset
    into its backing file, and the backing file's path or special name
    ("" for anonymous memory). Immutable. (A plain class, not a dataclass:
    importing dataclasses would cost every start-up some 11 ms.)"""

    start: int
    end: int
    permissions: str
    size: int
    offset: int
    backing_file: str
    # The load base of the backing file (start of its lowest mapping); for
    # anonymous memory, the map's own start. Not part of equality. (tether's
    # own; libdebug's `base` is the map's start, and so is ours below.)
    file_base: int

    def __init__(self, start: int, end: int, permissions: str, size: int, offset: int,
                 backing_file: str, file_base: int = -1):
        self.__dict__.update(start=start, end=end, permissions=permissions, size=size,
                             offset=offset, backing_file=backing_file,
                             file_base=start if file_base == -1 else file_base)

    def __setattr__(self, name, value):
        raise AttributeError(f"MemoryMap is immutable: cannot set {name}")

    @property
    def base(self) -> int:
        """The start of the map (libdebug's alias of `start`)."""
        return self.start

    def _key(self) -> tuple:
        return (self.start, self.end, self.permissions, self.size, self.offset, self.backing_file)

    def __eq__(self, other) -> bool:
        # As libdebug's: any two maps (live or from a snapshot) are equal
        # when start, end, permissions, size, offset and backing file are.
        if not isinstance(other, MemoryMap):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def is_readable(self) -> bool:
        return self.permissions[:1] == "r"

    @property
    def is_writable(self) -> bool:
        return self.permissions[1:2] == "w"

    @property
    def is_executable(self) -> bool:
        return self.permissions[2:3] == "x"

    @property
    def is_private(self) -> bool:
        return self.permissions[3:4] == "p"

    @property
    def is_anonymous(self) -> bool:
        """True for anonymous memory (no file, no special name)."""
        return self.backing_file.startswith(ANON_PREFIX) or not self.backing_file

    @property
    def is_file_backed(self) -> bool:
        """True for maps of a file on disk (a path, possibly deleted)."""
        return self.backing_file.startswith("/")

    def __contains__(self, address) -> bool:
        if not isinstance(address, int):
            return False
        return self.start <= address < self.end

    def __repr__(self) -> str:
        return (f"MemoryMap(start={self.start:#x}, end={self.end:#x}, "
                f"permissions={self.permissions!r}, size={self.size:#x}, "
                f"offset={self.offset:#x}, backing_file={self.backing_file!r})")


class MemoryMapList(list):
    """A list of MemoryMap that can be filtered by address or by name.

    `binary_path`, when known, lets `filter("binary")` select the debugged
    program's maps."""

    def __init__(self, maps=(), binary_path: str | None = None):
        super().__init__(maps)
        self.binary_path = binary_path

    def filter(self, value: int | str) -> "MemoryMapList":
        """Maps matching `value`.

        int: the maps containing that address (at most one for a real process).
        str: "binary" selects the debugged program's maps (when binary_path is
        set); otherwise the maps whose backing file contains `value`
        ("libc", "[stack]", "stack", a full path)."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError(f"maps.filter takes an address (int) or a name (str), "
                            f"not {type(value).__name__}")
        if isinstance(value, int):
            found = [m for m in self if value in m]
        elif value == "binary":
            program = program_file(self, self.binary_path)
            found = [m for m in self if strip_deleted(m.backing_file) == program]
        elif not value:
            raise ValueError("maps.filter needs a non-empty name")
        else:
            found = [m for m in self if value in m.backing_file]
        return MemoryMapList(found, self.binary_path)

    def __getitem__(self, index):
        result = super().__getitem__(index)
        if isinstance(index, slice):
            return MemoryMapList(result, self.binary_path)
        return result

    def __repr__(self) -> str:
        return f"MemoryMapList({list.__repr__(self)})"


def program_file(maps, binary_path: str | None = None) -> str | None:
    """The backing-file name of the debugged program in `maps`, or None.

    The kernel shows the real path of a mapped file (symlinks resolved), so
    `binary_path` is compared after realpath(), then by basename. Without a
    binary_path, the first file-backed map is the program's: the kernel maps
    the executable before the dynamic loader maps anything else."""
    files = []
    for m in maps:
        if m.is_file_backed:
            name = strip_deleted(m.backing_file)
            if name not in files:
                files.append(name)
    if not files:
        return None
    if binary_path is None:
        return files[0]
    binary_path = os.fspath(binary_path)
    real = os.path.realpath(binary_path)
    for wanted in (real, os.path.abspath(binary_path)):
        if wanted in files:
            return wanted
    base = os.path.basename(binary_path)
    same_base = [f for f in files if os.path.basename(f) == base]
    return same_base[0] if same_base else None


def parse_maps(text: str, binary_path: str | None = None) -> MemoryMapList:
    """Parse the text of /proc/<pid>/maps into a MemoryMapList.

    Raises ValueError naming the first line that is not a maps line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    if not isinstance(text, str):
        raise TypeError(f"parse_maps takes the maps text (str), not {type(text).__name__}")
    maps = MemoryMapList(binary_path=binary_path)
    for line in text.split("\n"):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"not a /proc/<pid>/maps line: {line!r}")
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        name = m.group(7) or f"{ANON_PREFIX}{start:x}"
        maps.append(MemoryMap(start, end, m.group(3), end - start, int(m.group(4), 16), name))
    lowest = {}
    for mm in maps:
        if mm.backing_file.startswith("/") and mm.backing_file not in lowest:
            lowest[mm.backing_file] = mm.start  # maps are sorted by address
    for i, mm in enumerate(maps):
        if mm.backing_file in lowest:
            maps[i] = MemoryMap(mm.start, mm.end, mm.permissions, mm.size, mm.offset,
                                mm.backing_file, lowest[mm.backing_file])
    return maps


def read_maps(pid: int | str = "self", binary_path: str | None = None) -> MemoryMapList:
    """Read and parse /proc/<pid>/maps."""
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="surrogateescape") as f:
        return parse_maps(f.read(), binary_path)


def format_maps(maps) -> str:
    """A table of the maps for pprint_maps(): one line per map, hex columns."""
    header = f"{'start':>18} {'end':>18} {'perm':4} {'size':>12} {'offset':>10}  backing file"
    lines = [header]
    for m in maps:
        lines.append(f"{m.start:#18x} {m.end:#18x} {m.permissions:4} {m.size:#12x} "
                     f"{m.offset:#10x}  {m.backing_file}")
    return "\n".join(lines)
