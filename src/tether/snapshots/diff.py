"""What changed between two snapshots.

`Diff` compares two process snapshots or two thread snapshots:
  .registers  {tid: {register name: (old, new)}} for registers that changed
  .regs       libdebug's accessor: diff.regs.rip -> RegisterDiff(old_value,
              new_value, has_changed), for any register name, of the main
              thread (process diff) or of the thread (thread diff)
  .maps       MapsDiff: libdebug's list of MemoryMapDiff(old_map_state,
              new_map_state, has_changed), with tether's summaries .added,
              .removed and .changed=[(old, new)]
  .memory     {map (as in the newer snapshot): [ChangedRange]}
  .born_threads / .dead_threads (process diff): ThreadSnapshots present in
              only the newer / only the older snapshot.
The diff's level is the lower of the two (libdebug): memory is compared only
when both snapshots hold memory, and only for maps both captured.

`TreeDiff` compares two TreeSnapshots process by process.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..memory.hexdump import check_word_size, diff_lines
from .memory import LEVELS, SnapshotMap

__all__ = ["ChangedRange", "Diff", "MapsDiff", "MemoryMapDiff", "RegisterDiff", "TreeDiff",
           "changed_ranges", "register_values"]

# Pages are compared first (one memcmp each); only differing pages are
# searched byte by byte, so a 256 MiB map with few changes costs little.
_BLOCK = 1 << 20
_PAGE = 4096
_NONZERO_RUN = re.compile(rb"[^\x00]+")


@dataclass(frozen=True)
class ChangedRange:
    """Bytes [start, start + len(old)) that differ; old/new as captured."""

    start: int
    old: bytes
    new: bytes

    @property
    def end(self) -> int:
        """First address past the range."""
        return self.start + len(self.new)

    @property
    def size(self) -> int:
        """Number of bytes in the range."""
        return len(self.new)

    def __repr__(self) -> str:
        return f"ChangedRange(start={self.start:#x}, size={self.size:#x})"


def changed_ranges(old: bytes, new: bytes, address: int = 0) -> list[ChangedRange]:
    """Maximal runs of differing bytes between `old` and `new` (compared over
    their common length), as ChangedRanges starting at `address`."""
    if not isinstance(old, (bytes, bytearray)) or not isinstance(new, (bytes, bytearray)):
        raise TypeError("changed_ranges compares two bytes objects")
    if old == new:  # one memcmp; the usual answer for most maps
        return []
    n = min(len(old), len(new))
    runs: list[list[int]] = []  # [start offset, end offset]
    # old.startswith(view of new, offset) is one memcmp with no copy (it
    # stops at the first difference): MiB blocks first, then the pages of a
    # block that differs; only a page that differs is copied (a 1 GiB map
    # with a byte changed per MiB: 0.2 s instead of 6).
    view = memoryview(new)
    for block in range(0, n, _BLOCK):
        block_end = min(block + _BLOCK, n)
        if old.startswith(view[block:block_end], block):
            continue
        _page_runs(old, new, view, block, block_end, runs)
    return [ChangedRange(address + lo, bytes(old[lo:hi]), bytes(new[lo:hi])) for lo, hi in runs]


def _page_runs(old, new, view, start: int, end: int, runs: list) -> None:
    """The runs of differing bytes in [start, end), page by page, appended
    to `runs` (merged with the last one where they meet)."""
    for page in range(start, end, _PAGE):
        stop = min(page + _PAGE, end)
        if old.startswith(view[page:stop], page):
            continue
        a = old[page:stop]
        b = new[page:stop]
        # XOR of the two pages is non-zero exactly at the differing bytes.
        size = len(a)
        xor = (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(size, "little")
        for m in _NONZERO_RUN.finditer(xor):
            lo, hi = page + m.start(), page + m.end()
            if runs and runs[-1][1] == lo:
                runs[-1][1] = hi  # a run that crosses the page boundary
            else:
                runs.append([lo, hi])


# --- registers ---------------------------------------------------------------------------

def _compared_names(regs) -> list[str]:
    """The registers a diff compares: the full-width general registers, the
    x87/SSE control registers, st0-7, each vector register at its widest
    available view (zmm, else ymm, else xmm) and the AVX-512 masks."""
    available = set(dir(regs))  # Registers.__dir__: the names this XSAVE area provides
    names = list(regs.display_names)  # of the registers' architecture
    names += [n for n in ("fcw", "fsw", "ftw", "mxcsr") if n in available]
    names += [f"st{i}" for i in range(8) if f"st{i}" in available]
    for i in range(32):
        for prefix in ("zmm", "ymm", "xmm"):
            if f"{prefix}{i}" in available:
                names.append(f"{prefix}{i}")
                break
    names += [f"k{i}" for i in range(8) if f"k{i}" in available]
    return names


def register_values(regs) -> dict:
    """{name: value} of the registers a diff compares."""
    return {name: getattr(regs, name) for name in _compared_names(regs)}


def _same(a, b) -> bool:
    # st0-7 are floats: two NaNs are the same register contents here.
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _register_changes(old_regs, new_regs) -> dict:
    """{name: (old, new)} of the registers whose values differ; a register
    only one side has (e.g. a snapshot loaded from a machine with AVX-512)
    shows None on the other side."""
    old = register_values(old_regs)
    new = register_values(new_regs)
    changes = {}
    for name in list(old) + [n for n in new if n not in old]:
        a, b = old.get(name), new.get(name)
        if a is None or b is None or not _same(a, b):
            changes[name] = (a, b)
    return changes


@dataclass(frozen=True)
class RegisterDiff:
    old_value: int | float
    new_value: int | float
    has_changed: bool

    def __repr__(self) -> str:
        def show(v):
            return f"{v:#x}" if isinstance(v, int) else repr(v)
        return (f"RegisterDiff(old_value={show(self.old_value)}, new_value={show(self.new_value)}, "
                f"has_changed={self.has_changed})")


class RegisterDiffAccessor:
    """diff.regs.<name> -> RegisterDiff, for any register name."""

    __slots__ = ("_old", "_new")

    def __init__(self, old_regs, new_regs):
        object.__setattr__(self, "_old", old_regs)
        object.__setattr__(self, "_new", new_regs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        old = getattr(self._old, name)
        new = getattr(self._new, name)
        return RegisterDiff(old, new, not _same(old, new))

    def __setattr__(self, name, value):
        raise RuntimeError("a register diff is read-only")

    def __dir__(self):
        return sorted(set(dir(self._old)) & set(dir(self._new)))


# --- maps --------------------------------------------------------------------------------

def _layout(m) -> tuple:
    return (m.start, m.end, m.permissions, m.offset, m.backing_file)


@dataclass
class MemoryMapDiff:
    """One map in a diff (libdebug's): its state in the older and the newer
    snapshot (None where it is absent) and whether it changed (layout, or
    contents when both snapshots hold them)."""

    old_map_state: SnapshotMap | None
    new_map_state: SnapshotMap | None
    has_changed: bool

    @property
    def content_diff(self) -> list[slice]:
        """The changed byte ranges, as slices relative to the map's start
        (ValueError for an added or removed map, or without contents)."""
        old, new = self.old_map_state, self.new_map_state
        if old is None or new is None:
            raise ValueError("an added or removed map has no content diff")
        if old.content is None or new.content is None:
            raise ValueError("the snapshots do not hold this map's contents")
        return [slice(r.start, r.end) for r in changed_ranges(old.content, new.content)]


class MapsDiff(list):
    """Every map of the older snapshot, then the maps only in the newer one,
    as MemoryMapDiff (libdebug's list; a map is the same map when its start
    and backing file are). tether's summaries: `added`, `removed`, `changed`
    ((old, new) pairs whose end, permissions or offset changed); the diff is
    true when any of those is not empty."""

    @property
    def added(self) -> list:
        """Maps only in the newer snapshot."""
        return [d.new_map_state for d in self if d.old_map_state is None]

    @property
    def removed(self) -> list:
        """Maps only in the older snapshot."""
        return [d.old_map_state for d in self if d.new_map_state is None]

    @property
    def changed(self) -> list:
        """(old, new) pairs of a map whose layout changed."""
        return [(d.old_map_state, d.new_map_state) for d in self
                if d.old_map_state is not None and d.new_map_state is not None
                and _layout(d.old_map_state) != _layout(d.new_map_state)]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def filter(self, value) -> "MapsDiff":
        """The map diffs whose map (old or new state) contains the address
        `value` (int), or whose backing file contains `value` (str)."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError(f"filter takes an address (int) or a name (str), not {type(value).__name__}")

        def matches(m) -> bool:
            if m is None:
                return False
            return m.start <= value < m.end if isinstance(value, int) else value in m.backing_file
        return MapsDiff(d for d in self if matches(d.old_map_state) or matches(d.new_map_state))


def _maps_diff(old_maps, new_maps) -> MapsDiff:
    new_by_identity = {(m.start, m.backing_file): m for m in new_maps}
    diffs = MapsDiff()
    for m in old_maps:
        after = new_by_identity.pop((m.start, m.backing_file), None)
        diffs.append(MemoryMapDiff(m, after, after is None or m != after))
    for m in new_maps:
        if (m.start, m.backing_file) in new_by_identity:
            diffs.append(MemoryMapDiff(None, m, True))
    return diffs


def _memory_diff(old_maps, new_maps) -> dict:
    old_by_start = {m.start: m for m in old_maps if m.content is not None}
    out = {}
    for m in new_maps:
        before = old_by_start.get(m.start)
        if m.content is None or before is None:
            continue
        ranges = changed_ranges(before.content, m.content, m.start)
        if ranges:
            out[m] = ranges
    return out


# --- the Diff objects --------------------------------------------------------------------

def _hex(data: bytes, limit: int) -> str:
    text = data[:limit].hex(" ")
    return text + (f" ... (+{len(data) - limit} bytes)" if len(data) > limit else "")


def _show(value) -> str:
    if value is None:
        return "(absent)"
    return f"{value:#x}" if isinstance(value, int) else repr(value)


class Diff:
    """The difference from snapshot `old` to snapshot `new` (same kind)."""

    def __init__(self, old, new):
        self.old = self.snapshot1 = old
        self.new = self.snapshot2 = new
        self.level = min(old.level, new.level, key=LEVELS.index)
        if hasattr(new, "threads"):
            self._threads_diff(old, new)
        else:
            self.born_threads, self.dead_threads = [], []
            self.registers = {new.tid: _register_changes(old.regs, new.regs)}
            self.registers = {t: c for t, c in self.registers.items() if c}
        self.regs = RegisterDiffAccessor(old.regs, new.regs)
        self.maps = _maps_diff(old.maps, new.maps)
        self._memory = None if self.level == "base" else _memory_diff(old.maps, new.maps)

    def _threads_diff(self, old, new) -> None:
        # Same process: threads are matched by tid. Two runs of a program
        # (different pids) have different tids: match them by creation order,
        # which is the order of the snapshot's threads (sorted by tid, main first).
        if old.pid == new.pid:
            old_by_tid = {t.tid: t for t in old.threads}
            pairs = [(old_by_tid.get(t.tid), t) for t in new.threads]
            new_tids = {t.tid for t in new.threads}
            self.dead_threads = [t for t in old.threads if t.tid not in new_tids]
        else:
            pairs = list(zip(old.threads, new.threads))
            pairs += [(None, t) for t in new.threads[len(old.threads):]]
            self.dead_threads = list(old.threads[len(new.threads):])
        self.born_threads = [t for before, t in pairs if before is None]
        self.registers = {}
        for before, t in pairs:
            if before is not None:
                changes = _register_changes(before.regs, t.regs)
                if changes:
                    self.registers[t.tid] = changes

    @property
    def memory(self) -> dict:
        """{map: [ChangedRange]} of the maps whose contents changed (ValueError at level 'base')."""
        if self._memory is None:
            raise ValueError("this diff is 'base' level (one snapshot holds no memory "
                             "contents), so it cannot tell what memory changed")
        return self._memory

    @property
    def has_changes(self) -> bool:
        """Whether anything differs: registers, threads, maps or memory."""
        return bool(self.registers or self.maps or self._memory or self.born_threads
                    or self.dead_threads)

    def __repr__(self) -> str:
        kind = "process" if hasattr(self.new, "threads") else "thread"
        return (f"<{kind} snapshot Diff level={self.level!r}: {len(self.registers)} thread(s) with "
                f"register changes, maps +{len(self.maps.added)} -{len(self.maps.removed)} "
                f"~{len(self.maps.changed)}, "
                f"{'?' if self._memory is None else len(self._memory)} map(s) with memory changes>")

    # --- text ---
    def format_registers(self) -> str:
        """The register changes as text, thread by thread (and threads born or gone)."""
        lines = []
        for tid, changes in self.registers.items():
            lines.append(f"thread {tid}:")
            for name, (old, new) in changes.items():
                lines.append(f"  {name:<9}{_show(old)} -> {_show(new)}")
        for t in self.born_threads:
            lines.append(f"thread {t.tid}: born")
        for t in self.dead_threads:
            lines.append(f"thread {t.tid}: gone")
        return "\n".join(lines) if lines else "no register changed"

    def format_maps(self) -> str:
        """The maps added (+), removed (-) and changed (~) as text."""
        lines = [f"+ {m!r}" for m in self.maps.added]
        lines += [f"- {m!r}" for m in self.maps.removed]
        for old, new in self.maps.changed:
            lines.append(f"~ {old!r}\n  -> {new!r}")
        return "\n".join(lines) if lines else "no map changed"

    def format_memory(self, max_bytes: int = 32) -> str:
        """The changed memory ranges as text, map by map, showing at most `max_bytes` of each."""
        lines = []
        for m, ranges in self.memory.items():
            lines.append(f"{m.start:#x}-{m.end:#x} {m.permissions} {m.backing_file}: "
                         f"{len(ranges)} range(s), {sum(r.size for r in ranges)} byte(s)")
            for r in ranges:
                lines.append(f"  {r.start:#018x} +{r.size:#x}")
                lines.append(f"    old: {_hex(r.old, max_bytes)}")
                lines.append(f"    new: {_hex(r.new, max_bytes)}")
        return "\n".join(lines) if lines else "no memory changed"

    def summary(self) -> str:
        """One line: what kinds of changes there are, and how many."""
        parts = []
        if self.registers:
            parts.append("registers of thread(s) " + ", ".join(map(str, self.registers)))
        if self.born_threads or self.dead_threads:
            parts.append(f"threads +{len(self.born_threads)} -{len(self.dead_threads)}")
        if self.maps:
            parts.append(f"maps +{len(self.maps.added)} -{len(self.maps.removed)} "
                         f"~{len(self.maps.changed)}")
        if self._memory:
            size = sum(r.size for ranges in self._memory.values() for r in ranges)
            parts.append(f"memory: {size} byte(s) in {len(self._memory)} map(s)")
        return "; ".join(parts) if parts else "nothing changed"

    def pprint_registers(self) -> None:
        """Print format_registers()."""
        print(self.format_registers())

    def pprint_maps(self) -> None:
        """Print format_maps()."""
        print(self.format_maps())

    def pprint_memory(self, start: int | str | None = None, end: int | str | None = None, file: str = "hybrid",
                      override_word_size: int | None = None, integer_mode: bool = False, *,
                      max_bytes: int = 32) -> None:
        """Print the memory from `start` to `end` (addresses or symbol
        expressions, per the addressing mode `file`) in both snapshots, as
        a unified diff of hex dumps: an unchanged line once, a changed one as
        "-" old and "+" new (layout and options as a Debugger's
        pprint_memory). Without start and end: format_memory(max_bytes), the
        changed ranges of every map."""
        if start is None and end is None:
            print(self.format_memory(max_bytes))
            return
        if start is None or end is None:
            raise ValueError("pprint_memory takes both start and end, or neither")
        if self.level == "base":
            raise ValueError("a diff of base-level snapshots holds no memory")
        word_size = check_word_size(override_word_size)
        image_old, image_new = self.old.image, self.new.image
        first = image_new.resolve_position(start, file)
        last = image_new.resolve_position(end, file)
        if last < first:
            raise ValueError("pprint_memory: end is before start")
        before = image_old.memory.read(first, last - first)
        after = image_new.memory.read(first, last - first)
        print(f"Memory diff from {first:#x} to {last:#x}:")
        print("\n".join(diff_lines(first, before, after, word_size, bool(integer_mode))))


class TreeDiff:
    """Process by process, what changed between two TreeSnapshots.

    .processes  {pid (newer snapshot): Diff} for processes in both
    .born       ProcessSnapshots only in the newer tree
    .gone       ProcessSnapshots only in the older tree
    .changed    pids (newer snapshot) whose Diff has changes
    Processes are matched by pid within one run, else by their place in the
    tree (the path of creation-order indices from the root)."""

    def __init__(self, old, new):
        self.old, self.new = old, new
        self.level = min(old.level, new.level, key=LEVELS.index)
        if old.root_pid == new.root_pid:
            old_by = {p.pid: p for p in old.processes}
            new_by = {p.pid: p for p in new.processes}
        else:
            old_by = {old.path_of(p.pid): p for p in old.processes}
            new_by = {new.path_of(p.pid): p for p in new.processes}
        self.processes = {p.pid: Diff(old_by[k], p) for k, p in new_by.items() if k in old_by}
        self.born = [p for k, p in new_by.items() if k not in old_by]
        self.gone = [p for k, p in old_by.items() if k not in new_by]

    @property
    def changed(self) -> list[int]:
        """The pids (in the newer snapshot) of the processes whose Diff has changes."""
        return [pid for pid, d in self.processes.items() if d.has_changes]

    @property
    def has_changes(self) -> bool:
        """Whether any process changed, was born or is gone."""
        return bool(self.changed or self.born or self.gone)

    def format(self) -> str:
        """One line per process: its Diff's summary(), "new" or "gone"."""
        lines = []
        for pid, d in self.processes.items():
            lines.append(f"process {pid}: {d.summary()}")
        lines += [f"process {p.pid}: new" for p in self.born]
        lines += [f"process {p.pid}: gone" for p in self.gone]
        return "\n".join(lines)

    def pprint(self) -> None:
        """Print format()."""
        print(self.format())

    def __repr__(self) -> str:
        return (f"<TreeDiff level={self.level!r}: {len(self.changed)} changed, "
                f"{len(self.born)} new, {len(self.gone)} gone>")
