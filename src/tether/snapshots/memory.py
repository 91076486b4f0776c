"""The memory side of a snapshot: its maps and the bytes it captured.

A snapshot keeps the process's maps (`SnapshotMap`, a MemoryMap that also
carries `content`) and, at levels "writable" and "full", the bytes of some
of them. `SnapshotMemory` answers reads over those bytes and says clearly
why a range is not there (level "base", a map the level does not cover, a
map that was skipped, or an address that was not mapped at all).
`SnapshotMemoryView` gives it the same indexing as the live `d.memory`.
"""
from __future__ import annotations

import bisect

from ..errors import MemoryAccessError
from ..memory.maps import MemoryMap, MemoryMapList
from ..memory.view import MemoryView

__all__ = ["LEVELS", "MemoryNotCapturedError", "SnapshotMap", "MemoryMapSnapshotList", "SnapshotMemory",
           "SnapshotMemoryView", "check_level", "should_capture", "NEVER_CAPTURED"]

LEVELS = ("base", "writable", "full")

# Kernel-provided pages that are not process memory proper: [vvar] (and the
# newer [vvar_vclock]) fault when read through another process, and
# [vsyscall] lies outside the process's VMAs, so process_vm_readv refuses it.
NEVER_CAPTURED = ("[vvar]", "[vvar_vclock]", "[vsyscall]")


class MemoryNotCapturedError(MemoryAccessError):
    """A snapshot read asked for bytes the snapshot does not hold (a
    ValueError, like every bad-address error of tether)."""


def check_level(level) -> str:
    if not isinstance(level, str):
        raise TypeError(f"snapshot level must be a str, not {type(level).__name__}")
    if level not in LEVELS:
        raise ValueError(f"snapshot level must be 'base', 'writable' or 'full', not {level!r}")
    return level


def should_capture(m: MemoryMap, level: str) -> tuple[bool, str | None]:
    """(capture the contents of map `m` at `level`?, reason when it is
    skipped although the level covers it)."""
    if level == "base":
        return False, None
    if level == "writable" and not m.is_writable:
        return False, None
    if m.backing_file in NEVER_CAPTURED:
        return False, f"{m.backing_file} is a kernel page, not readable through ptrace"
    if level == "full" and not m.is_readable and not m.is_writable:
        return False, f"not readable (permissions {m.permissions})"
    return True, None


class SnapshotMap(MemoryMap):
    """A MemoryMap as the snapshot saw it; `content` is its bytes when the
    snapshot captured them, else None. Equal to a live map with the same
    fields; two snapshot maps that both hold their content are equal only if
    the contents are too (libdebug's MemoryMapSnapshot equality)."""

    content: bytes | None

    def __init__(self, start: int, end: int, permissions: str, size: int, offset: int,
                 backing_file: str, file_base: int = -1, content: bytes | None = None):
        super().__init__(start, end, permissions, size, offset, backing_file, file_base)
        self.__dict__["content"] = content

    def __eq__(self, other) -> bool:
        if not isinstance(other, MemoryMap):
            return NotImplemented
        if not MemoryMap.__eq__(self, other):
            return False
        theirs = other.content if isinstance(other, SnapshotMap) else None
        return self.content is None or theirs is None or self.content == theirs

    def __hash__(self) -> int:
        return MemoryMap.__hash__(self)

    @classmethod
    def of(cls, m: MemoryMap, content: bytes | None = None) -> "SnapshotMap":
        return cls(m.start, m.end, m.permissions, m.size, m.offset, m.backing_file, m.file_base, content)


class MemoryMapSnapshotList(MemoryMapList):
    """A snapshot's maps (SnapshotMap): a MemoryMapList under libdebug's
    name for it."""

    def filter(self, value) -> "MemoryMapSnapshotList":
        """Maps matching `value` (see MemoryMapList.filter)."""
        return MemoryMapSnapshotList(super().filter(value), self.binary_path)

    def __getitem__(self, index):
        result = super().__getitem__(index)
        if isinstance(index, slice):
            return MemoryMapSnapshotList(result, self.binary_path)
        return result

    def __repr__(self) -> str:
        return f"MemoryMapSnapshotList({list.__repr__(self)})"


def _describe(m: MemoryMap) -> str:
    name = m.backing_file or "anonymous"  # ('' in snapshots saved before anon_ names)
    return f"map {m.start:#x}-{m.end:#x} {m.permissions} {name}"


class SnapshotMemory:
    """Read-only bytes of the captured maps.

    maps: every map of the process (SnapshotMap, sorted by address);
    skipped: {map start: reason} for maps the level covers but that could
    not be read."""

    def __init__(self, level: str, maps, skipped: dict):
        self.level = level
        self.maps = sorted(maps, key=lambda m: m.start)
        self.skipped = dict(skipped)
        self._regions = [m for m in self.maps if m.content is not None]
        self._starts = [m.start for m in self._regions]
        self._map_starts = [m.start for m in self.maps]

    @property
    def captured_size(self) -> int:
        return sum(len(m.content) for m in self._regions)

    def _map_at(self, address: int):
        i = bisect.bisect_right(self._map_starts, address) - 1
        if i >= 0 and address < self.maps[i].end:
            return self.maps[i]
        return None

    def _missing(self, address: int) -> MemoryNotCapturedError:
        if self.level == "base":
            return MemoryNotCapturedError(
                "a 'base' snapshot holds registers and maps but no memory contents; "
                "take it with level='writable' or level='full'")
        m = self._map_at(address)
        if m is None:
            return MemoryNotCapturedError(
                f"address {address:#x} was not mapped when the snapshot was taken")
        reason = self.skipped.get(m.start)
        if reason is not None:
            return MemoryNotCapturedError(
                f"memory at {address:#x} ({_describe(m)}) was not captured: {reason}")
        return MemoryNotCapturedError(
            f"memory at {address:#x} ({_describe(m)}) is not writable, so a '{self.level}' "
            f"snapshot does not hold it; use level='full'")

    def read(self, address: int, size: int) -> bytes:
        """`size` bytes at `address`, possibly across adjacent captured maps."""
        if size == 0:
            return b""
        end = address + size
        out = []
        i = bisect.bisect_right(self._starts, address) - 1
        at = address
        while at < end:
            if i < 0 or i >= len(self._regions):
                raise self._missing(at)
            m = self._regions[i]
            if not m.start <= at < m.end:
                raise self._missing(at)
            stop = min(end, m.end)
            out.append(m.content[at - m.start:stop - m.start])
            at = stop
            i += 1
        return out[0] if len(out) == 1 else b"".join(out)

    def try_read_u64(self, address: int, size: int = 8):
        """The little-endian u64 at `address` (an integer of `size` bytes:
        4 for a 32-bit process's word), or None when not captured."""
        try:
            return int.from_bytes(self.read(address, size), "little")
        except MemoryAccessError:
            return None


class SnapshotMemoryView(MemoryView):
    """`snap.memory`: the live memory's indexing ([addr], [addr, size],
    [addr, size, file], slices, symbol strings, find()) over a snapshot.

    The snapshot's ProcessImage is the MemoryView's owner: it provides
    resolve_position(), maps and binary_path."""

    def __init__(self, image, memory: SnapshotMemory):
        super().__init__(image)
        self._store = memory

    def __getitem__(self, key) -> bytes:
        # Not MemoryView.__getitem__: its fast path reads the live process.
        return self._get(key)

    def read(self, address: int, size: int) -> bytes:
        return self._store.read(address, size)

    def write(self, address: int, data: bytes) -> None:
        raise RuntimeError("snapshot memory is read-only")

    def __setitem__(self, key, value) -> None:
        raise RuntimeError("snapshot memory is read-only")

    def __repr__(self) -> str:
        return f"<snapshot memory, level {self._store.level!r}, {self._store.captured_size:#x} bytes>"
