"""Searching a process's memory as libdebug 0.9 does: `find` (a value),
`find_pointers` (pointers from one part of memory into another) and
`telescope` (a chain of pointers, ending in a string when it points to one).

Each function takes `view`, a MemoryView (or a snapshot's), whose `read`
gives bytes and whose owner gives `maps`, `binary_path` and
`resolve_position(position, file)`.
"""
from __future__ import annotations

import logging

from ..errors import MemoryAccessError

__all__ = ["find", "find_pointers", "telescope", "ALL_MAPS"]

log = logging.getLogger(__name__)

POINTER_SIZE = 8
# What names every map in find_pointers (libdebug's spellings).
ALL_MAPS = ("*", "ALL", "all", -1)
_UNREADABLE = ("[vvar]", "[vvar_vclock]", "[vsyscall]")
_READ_ERRORS = (OSError, OverflowError, ValueError)


def _readable(m) -> bool:
    return "r" in m.permissions and m.backing_file not in _UNREADABLE


def _occurrences(value: bytes, data: bytes, at: int) -> list[int]:
    """Every position of `value` in `data`, overlapping ones too, as addresses."""
    found = []
    i = data.find(value)
    while i != -1:
        found.append(at + i)
        i = data.find(value, i + 1)
    return found


def _search_value(value) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int):
        # libdebug's reading of an int: one byte (0..255).
        if not 0 <= value <= 0xFF:
            raise OverflowError(f"find() takes an int as one byte (0..255), not {value:#x}; "
                                f"search for value.to_bytes(8, 'little') for a word")
        return bytes((value,))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"find() takes bytes, str or int, not {type(value).__name__}")


def find(view, value, file: str = "all", start=None, end=None) -> list[int]:
    """Addresses where `value` occurs (overlapping occurrences included).

    file="all": every readable map; `start` / `end`, when given, are
    absolute bounds (both given: an address each, "hybrid" addressing).
    Another file ("binary", "libc", "heap", "stack"...): its maps only, and
    `start` / `end` are resolved in that file (offsets into it, or absolute)."""
    data_value = _search_value(value)
    if not data_value:
        raise ValueError("find() needs a non-empty value")
    owner = view.owner
    maps = owner.maps
    if file == "all":
        if start is not None and end is not None:
            start = owner.resolve_position(start, "hybrid")
            end = owner.resolve_position(end, "hybrid")
    else:
        maps = maps.filter(file)
        if not maps:
            raise ValueError(f"find(): no memory map matches the file {file!r}")
        start = owner.resolve_position(start, file) if start is not None else None
        end = owner.resolve_position(end, file) if end is not None else None
    found = []
    for m in maps:
        lo = m.start if start is None else max(m.start, start)
        hi = m.end if end is None else min(m.end, end)
        if lo >= hi or not _readable(m):
            continue
        try:
            data = view.read(lo, hi - lo)
        except _READ_ERRORS:
            continue
        found += _occurrences(data_value, data, lo)
    return found


def _select(maps, which, what: str):
    if which in ALL_MAPS and not isinstance(which, bool):
        selected = maps
    else:
        selected = maps.filter(which)
    if not selected:
        raise ValueError(f"find_pointers(): no memory map matches the {what} {which!r}")
    return selected


def _groups(maps) -> list[list]:
    """The maps grouped by backing file (each anonymous map on its own: its
    name is its start), in address order of each group's first map."""
    groups: dict = {}
    for m in maps:
        key = m.backing_file if m.backing_file else ("anon", m.start)
        groups.setdefault(key, []).append(m)
    return sorted(groups.values(), key=lambda g: g[0].start)


def find_pointers(view, where="*", target="*", step: int = 1) -> list[tuple[int, int]]:
    """(address, value) pairs: pointer-sized values in the maps of `where`
    that point into the maps of `target`.

    `where` and `target`: "*" (also "ALL", "all", -1) for every map, a
    backing-file name ("binary", "libc", "heap", "stack"...), or an address
    (the map containing it). A file's pointers point anywhere between the
    start of its first map and the end of its last. Values are read every
    `step` bytes from the start of each file's first map."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ValueError(f"find_pointers() step must be a positive int, not {step!r}")
    maps = view.owner.maps
    where_groups = _groups(_select(maps, where, "where"))
    target_ranges = [(g[0].start, g[-1].end) for g in _groups(_select(maps, target, "target"))]
    found = []
    for group in where_groups:
        origin = group[0].start
        contents = []
        for m in group:
            if not _readable(m):
                continue
            try:
                contents.append((m.start, view.read(m.start, m.end - m.start)))
            except _READ_ERRORS:
                log.warning("find_pointers(): cannot read %#x-%#x (%s)", m.start, m.end,
                            m.backing_file or "anonymous")
        for lo, hi in target_ranges:
            for start, data in contents:
                first = -(start - origin) % step  # stay on origin + k * step
                for i in range(first, len(data) - POINTER_SIZE + 1, step):
                    value = int.from_bytes(data[i:i + POINTER_SIZE], "little")
                    if lo <= value < hi:
                        found.append((start + i, value))
    return found


def _printable(data: bytes) -> bool:
    return all(0x20 <= b <= 0x7E for b in data)


def _read_up_to(view, address: int, size: int) -> bytes:
    """Up to `size` bytes at `address`: fewer when the mapping ends first."""
    try:
        return view.read(address, size)
    except _READ_ERRORS:
        containing = view.owner.maps.filter(address)
        if not containing:
            return b""
        try:
            return view.read(address, min(size, containing[0].end - address))
        except _READ_ERRORS:
            return b""


def telescope(view, address, max_depth: int = 10, min_str_len: int = 3,
              max_str_len: int = 0x100) -> list:
    """The chain of pointers from `address`: [address, *address, **address,
    ...], at most `max_depth` dereferences, stopping at the first value that
    cannot be read. When the last value's first `min_str_len` bytes are
    printable ASCII, the last element is instead the string (up to
    `max_str_len` bytes, to its NUL) at the address it was read from
    (min_str_len=-1: never). A chain that loops goes on to max_depth and
    ends in a number (as libdebug's)."""
    for name, n in (("max_depth", max_depth), ("min_str_len", min_str_len),
                    ("max_str_len", max_str_len)):
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"telescope() {name} must be an int, not {type(n).__name__}")
    if min_str_len < -1:
        raise ValueError("telescope() min_str_len must be -1 or more")
    if max_str_len < 1:
        raise ValueError("telescope() max_str_len must be 1 or more")
    if max_depth < 1:
        raise ValueError("telescope() max_depth must be 1 or more")
    if min_str_len > max_str_len:
        raise ValueError("telescope() min_str_len must not exceed max_str_len")
    owner = view.owner
    addr = owner.resolve_position(address, "absolute")
    if not owner.maps.filter(addr):
        raise MemoryAccessError(f"telescope(): address {addr:#x} is not mapped")
    chain: list = [addr]
    last = None
    for _ in range(max_depth):
        try:
            last = view.read(addr, POINTER_SIZE)
        except _READ_ERRORS:
            break
        addr = int.from_bytes(last, "little")
        chain.append(addr)
    if last is None:
        return chain
    if len(set(chain)) != len(chain):
        log.warning("telescope(): the chain loops; followed to max_depth=%d", max_depth)
        return chain
    if min_str_len != -1:
        looks_like_text = (POINTER_SIZE < min_str_len) or _printable(last[:min_str_len])
        if looks_like_text:
            text = _read_up_to(view, chain[-2], max_str_len)
            if POINTER_SIZE >= min_str_len or _printable(text[:min_str_len]):
                nul = text.find(b"\0")
                if nul != -1:
                    text = text[:nul]
                chain[-1] = text.decode("utf-8", errors="backslashreplace")
    return chain
