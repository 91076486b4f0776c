"""Snapshots: the saved state of a thread, a process or a process tree.

libdebug's save states (SPEC section 1): `d.create_snapshot(level, name)`
gives a ProcessSnapshot (every thread of that one process, never its child
processes), `thread.create_snapshot(level, name)` a ThreadSnapshot. Levels:
  "base"      registers of the thread(s) and the memory maps
  "writable"  + the contents of the writable maps
  "full"      + the contents of every readable map ([vvar]/[vsyscall] and
              maps that cannot be read are skipped, and recorded as such)
A snapshot is read-only: `regs` (every register, FP/vector included),
`maps`, `memory` (indexed like the live memory), `backtrace()`, the pretty
printers, `diff(other)` and `save(path)` (JSON, see serialize.py).

Beyond libdebug (SPEC section 5): `tree_snapshot(d, level)` snapshots every
process of the traced tree under `d` at one moment (TreeSnapshot).

Memory is read one map at a time (one process_vm_readv per map), and
tether's own int3 bytes are replaced by the original bytes.
"""
from __future__ import annotations

from ..arch.amd64.registers import format_registers, frozen_registers
from ..errors import MemoryAccessError, ProcessDeadError, ProcessRunningError
from ..memory.maps import MemoryMapList, format_maps, parse_maps, read_maps
from ..symbols.position import resolve_position, resolve_symbol
from ..symbols.symbol_list import build_symbols, symbol_at
from .memory import SnapshotMap, SnapshotMemory, SnapshotMemoryView, check_level, should_capture

__all__ = ["ProcessSnapshot", "ThreadSnapshot", "TreeSnapshot", "load_snapshot",
           "process_snapshot", "thread_snapshot", "tree_snapshot"]


def _check_name(name):
    if name is not None and not isinstance(name, str):
        raise TypeError(f"snapshot name must be a str or None, not {type(name).__name__}")
    return name


class ProcessImage:
    """What the threads of one process share in a snapshot: pid, level,
    maps (with captured contents) and the maps the level could not read."""

    def __init__(self, pid: int, level: str, maps, skipped: dict, binary_path: str | None,
                 arch: str = "amd64"):
        self.pid = pid
        self.level = level
        self.binary_path = binary_path
        self.arch = arch
        self.maps = MemoryMapList(sorted(maps, key=lambda m: m.start), binary_path)
        self.skipped = dict(skipped)  # map start -> reason
        self.memory = SnapshotMemory(level, self.maps, self.skipped)
        self._symbols = None

    @property
    def symbols(self):
        # Read from the mapped files on disk when first needed (a loaded
        # snapshot whose files are gone simply has fewer symbols).
        if self._symbols is None:
            self._symbols = build_symbols(self.maps)
        return self._symbols


class _Snapshot:
    """What thread and process snapshots have in common."""

    def __init__(self, image: ProcessImage, snapshot_id: int, name):
        self._image = image
        self.snapshot_id = snapshot_id
        self.name = name
        self._memory_view = SnapshotMemoryView(self, image.memory)

    # --- identity ---
    @property
    def level(self) -> str:
        return self._image.level

    @property
    def pid(self) -> int:
        return self._image.pid

    process_id = pid

    @property
    def arch(self) -> str:
        return self._image.arch

    # --- maps, memory, symbols ---
    @property
    def maps(self) -> MemoryMapList:
        return self._image.maps

    @property
    def memory(self) -> SnapshotMemoryView:
        return self._memory_view

    mem = memory

    @property
    def skipped_maps(self) -> list:
        """[(map, reason)] of the maps the level covers but that were not read."""
        return [(m, self._image.skipped[m.start]) for m in self.maps if m.start in self._image.skipped]

    @property
    def symbols(self):
        return self._image.symbols

    def _binary_path(self):
        return self._image.binary_path

    def resolve_symbol(self, symbol: str, file: str = "hybrid") -> int:
        return resolve_symbol(symbol, self.symbols, self.maps, file)

    def _resolve_position(self, position, file: str = "hybrid") -> int:
        # The same rules as the live Debugger, on the saved maps.
        return resolve_position(position, file, lambda: self.maps, lambda: self.symbols,
                                self._binary_path)

    # --- backtrace of one thread's registers over the saved memory ---
    def _backtrace_of(self, regs, as_symbols: bool):
        from ..symbols.cfi import Unwinder, modules_of
        if self.level == "base":
            raise ValueError("a 'base' snapshot holds no stack contents: take it with "
                             "level='writable' or 'full' to get a backtrace")
        frames = Unwinder(modules_of(self.maps)).unwind(regs.rip, regs.rsp, regs.rbp,
                                                        self._image.memory.try_read_u64)
        if as_symbols:
            return [symbol_at(a, self.symbols) or hex(a) for a in frames]
        return frames

    def _format_backtrace(self, regs) -> str:
        frames = self._backtrace_of(regs, False)
        return "\n".join(f"#{i:<2} {a:#018x} {symbol_at(a, self.symbols) or '??'}"
                         for i, a in enumerate(frames))

    # --- pretty printing ---
    def pprint_maps(self) -> None:
        print(format_maps(self.maps))

    def pprint_memory(self, start, end, file: str = "hybrid") -> None:
        start = self._resolve_position(start, file)
        end = self._resolve_position(end, file)
        if end < start:
            raise ValueError("pprint_memory: end is before start")
        data = self._image.memory.read(start, end - start)
        for off in range(0, len(data), 16):
            chunk = data[off:off + 16]
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            print(f"{start + off:#018x}  {chunk.hex(' '):<47}  {text}")

    # --- diff and save ---
    def diff(self, other):
        from .diff import Diff
        if type(other) is not type(self):
            raise TypeError(f"a {type(self).__name__} can only be diffed with another "
                            f"{type(self).__name__}, not {type(other).__name__}")
        return Diff(self, other)  # from this (older) snapshot to `other`

    def save(self, path, compress: bool | None = None) -> None:
        """Write the snapshot as JSON; gzip-compressed when `compress` is True
        or (by default) when the path ends with ".gz"."""
        from .serialize import save_snapshot
        save_snapshot(self, path, compress)


class ThreadSnapshot(_Snapshot):
    """The saved state of one thread (and, per level, of its process's memory)."""

    def __init__(self, image: ProcessImage, tid: int, gpr: bytes, xstate: bytes,
                 snapshot_id: int, name=None):
        super().__init__(image, snapshot_id, name)
        self.tid = self.thread_id = tid
        self._gpr = bytes(gpr)
        self._xstate = bytes(xstate)
        self.regs = frozen_registers(self._gpr, self._xstate or None)

    registers = property(lambda self: self.regs)

    @property
    def instruction_pointer(self) -> int:
        return self.regs.rip

    @property
    def syscall_number(self) -> int:
        return self.regs.orig_rax

    @property
    def syscall_return(self) -> int:
        return self.regs.rax

    def __getattr__(self, name):
        if name.startswith("syscall_arg") and name[11:].isdigit() and int(name[11:]) < 6:
            return getattr(self.regs, ("rdi", "rsi", "rdx", "r10", "r8", "r9")[int(name[11:])])
        raise AttributeError(f"ThreadSnapshot has no attribute {name!r}")

    def backtrace(self, as_symbols: bool = False):
        return self._backtrace_of(self.regs, as_symbols)

    def pprint_backtrace(self) -> None:
        print(self._format_backtrace(self.regs))

    def pprint_registers(self) -> None:
        print(format_registers(self.regs, include_fp=False))

    def pprint_registers_all(self) -> None:
        print(format_registers(self.regs, include_fp=True))

    def __repr__(self):
        return (f"<ThreadSnapshot id={self.snapshot_id} tid={self.tid} pid={self.pid} "
                f"level={self.level!r} name={self.name!r}>")


class ProcessSnapshot(_Snapshot):
    """The saved state of one process: all its threads, never its children.

    `regs`, `backtrace()` and the register printers are the main thread's
    (the one whose tid is the pid, else the first one), as in libdebug."""

    def __init__(self, image: ProcessImage, threads, snapshot_id: int, name=None,
                 skipped_threads: dict | None = None):
        """threads: [(tid, gpr bytes, xstate bytes)]."""
        super().__init__(image, snapshot_id, name)
        self.threads = [ThreadSnapshot(image, tid, gpr, xstate, snapshot_id, name)
                        for tid, gpr, xstate in sorted(threads, key=lambda t: (t[0] != image.pid, t[0]))]
        if not self.threads:
            raise ValueError(f"a process snapshot needs at least one thread (process {image.pid})")
        # tid -> why its registers could not be read (running, in vfork...)
        self.skipped_threads = dict(skipped_threads or {})

    @property
    def main_thread(self) -> ThreadSnapshot:
        return self.threads[0]

    @property
    def regs(self):
        return self.main_thread.regs

    registers = regs

    @property
    def instruction_pointer(self) -> int:
        return self.regs.rip

    def backtrace(self, as_symbols: bool = False):
        return self.main_thread.backtrace(as_symbols)

    def pprint_backtrace(self) -> None:
        self.main_thread.pprint_backtrace()

    def pprint_registers(self) -> None:
        self.main_thread.pprint_registers()

    def pprint_registers_all(self) -> None:
        self.main_thread.pprint_registers_all()

    def __repr__(self):
        return (f"<ProcessSnapshot id={self.snapshot_id} pid={self.pid} threads={len(self.threads)} "
                f"level={self.level!r} name={self.name!r}>")


class TreeSnapshot:
    """One ProcessSnapshot per live process of a traced tree, taken while the
    whole tree was stopped. `parent_of(pid)`, `path_of(pid)` (creation-order
    indices from the root: root = (), its 2nd child = (1,)) and `children_of(pid)`
    describe the tree."""

    def __init__(self, processes, paths: dict, level: str, snapshot_id: int, name=None):
        self.processes = sorted(processes, key=lambda p: paths[p.pid])
        self._paths = dict(paths)
        self.level = level
        self.snapshot_id = snapshot_id
        self.name = name
        by_path = {path: pid for pid, path in self._paths.items()}
        if () not in by_path:
            raise ValueError("a tree snapshot needs its root process (path ())")
        self.root_pid = by_path[()]
        self._by_path = by_path

    def process(self, pid: int) -> ProcessSnapshot:
        for p in self.processes:
            if p.pid == pid:
                return p
        raise ValueError(f"process {pid} is not in this tree snapshot")

    def path_of(self, pid: int) -> tuple:
        if pid not in self._paths:
            raise ValueError(f"process {pid} is not in this tree snapshot")
        return self._paths[pid]

    def parent_of(self, pid: int):
        path = self.path_of(pid)
        return self._by_path.get(path[:-1]) if path else None

    def children_of(self, pid: int) -> list[int]:
        path = self.path_of(pid)
        return [self._by_path[p] for p in sorted(self._by_path)
                if len(p) == len(path) + 1 and p[:-1] == path]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def diff(self, other):
        from .diff import TreeDiff
        if not isinstance(other, TreeSnapshot):
            raise TypeError(f"a TreeSnapshot can only be diffed with another TreeSnapshot, "
                            f"not {type(other).__name__}")
        return TreeDiff(self, other)

    def save(self, path, compress: bool | None = None) -> None:
        from .serialize import save_snapshot
        save_snapshot(self, path, compress)

    def pprint(self) -> None:
        for p in self.processes:
            depth = len(self._paths[p.pid])
            print(f"{'  ' * depth}{p.pid}: {len(p.threads)} thread(s), {len(p.maps)} map(s)")

    def __repr__(self):
        return (f"<TreeSnapshot id={self.snapshot_id} root={self.root_pid} "
                f"processes={len(self.processes)} level={self.level!r} name={self.name!r}>")


# --- taking snapshots of live processes ---------------------------------------------------

def _read_registers(task):
    """(gpr, xstate) copies of a stopped thread; runs on the tracer thread.
    Pending register writes (not yet flushed) are included: they are the
    values the thread will run with."""
    gpr = bytes(task.gpr())
    try:
        xstate = bytes(task.xstate())
    except OSError:
        xstate = b""  # no XSAVE regset: the FP/vector registers read as unavailable
    return gpr, xstate


def _capture_threads(debugger, tasks):
    threads, skipped = [], {}
    for task in tasks:
        try:
            gpr, xstate = debugger._tracer.call(_read_registers, task)
        except (ProcessRunningError, ProcessDeadError) as e:
            skipped[task.tid] = str(e)
            continue
        threads.append((task.tid, gpr, xstate))
    return threads, skipped


def _live_maps(debugger, proc):
    try:
        binary = debugger._binary_path()
    except (OSError, ValueError):  # the program file is gone: "binary" addressing can't work
        binary = proc.exe_path
    maps = read_maps(proc.pid, binary)
    if not maps:
        # The main thread exited (pthread_exit): its /proc entry shows no maps;
        # a live thread's entry shows the shared address space.
        for task in proc.live_tasks():
            try:
                with open(f"/proc/{proc.pid}/task/{task.tid}/maps", errors="surrogateescape") as f:
                    maps = parse_maps(f.read(), binary)
            except OSError:
                continue
            if maps:
                break
    return maps, binary


def _capture_image(debugger, proc, level: str) -> ProcessImage:
    maps, binary = _live_maps(debugger, proc)
    saved, skipped = [], {}
    for m in maps:
        wanted, reason = should_capture(m, level)
        content = None
        if wanted:
            try:
                # One read per map (a single process_vm_readv, whatever its size).
                data = proc.mem.read(m.start, m.size)
                content = proc.aspace.original_bytes(m.start, data)
            except (MemoryAccessError, OSError) as e:
                reason = f"reading it failed: {e}"
        if reason is not None:
            skipped[m.start] = reason
        saved.append(SnapshotMap.of(m, content))
    return ProcessImage(proc.pid, level, saved, skipped, binary)


def _next_id(debugger) -> int:
    sid = debugger._snapshot_count
    debugger._snapshot_count = sid + 1
    return sid


def process_snapshot(debugger, level: str = "base", name=None) -> ProcessSnapshot:
    """Snapshot of the (stopped) process `debugger` traces: all its threads."""
    check_level(level)
    _check_name(name)
    proc = debugger._live_proc()
    threads, skipped_threads = _capture_threads(debugger, proc.live_tasks())
    if not threads:
        raise ProcessRunningError(f"no thread of process {proc.pid} is stopped: "
                                  + "; ".join(skipped_threads.values()))
    image = _capture_image(debugger, proc, level)
    return ProcessSnapshot(image, threads, _next_id(debugger), name, skipped_threads)


def thread_snapshot(debugger, task, level: str = "base", name=None) -> ThreadSnapshot:
    """Snapshot of one (stopped) thread; its process's memory per level."""
    check_level(level)
    _check_name(name)
    proc = debugger._live_proc()
    gpr, xstate = debugger._tracer.call(_read_registers, task)
    image = _capture_image(debugger, proc, level)
    return ThreadSnapshot(image, task.tid, gpr, xstate, _next_id(debugger), name)


def _tree_of(debugger):
    """[(Debugger, path)] of `debugger` and its followed descendants, with
    each one's path of creation-order indices (dead children keep theirs)."""
    out = [(debugger, ())]
    for dbg, path in out:
        for i, child in enumerate(dbg.children):
            out.append((child, path + (i,)))
    return out


def tree_snapshot(debugger, level: str = "base", name=None) -> TreeSnapshot:
    """tether extra: snapshot `debugger`'s process and every followed
    descendant still alive, at one moment. Processes that are running are
    stopped for it and resumed afterwards (unless an event of theirs, such
    as a breakpoint, arrived meanwhile: then they stay stopped to report it)."""
    check_level(level)
    _check_name(name)
    debugger._live_proc()
    members = [(d, path) for d, path in _tree_of(debugger)
               if d._proc is not None and d._proc.state not in ("dead", "detached")]
    interrupted = []
    try:
        for d, _ in members:
            proc = d._proc
            if proc.state == "stopped":
                continue
            if d._tracer.on_tracer_thread():
                raise ProcessRunningError(
                    f"process {proc.pid} is running: a tree snapshot taken in a callback "
                    f"needs every process of the tree stopped")
            try:
                d.interrupt()
            except ProcessDeadError:
                continue  # it died meanwhile: nothing to snapshot
            task = proc.last_task
            if proc.state == "stopped" and (task is None or task.stop_reason == "interrupt"):
                interrupted.append(d)
        members = [(d, path) for d, path in members if d._proc.state == "stopped"]
        snaps = [process_snapshot(d, level, name) for d, _ in members]
    finally:
        for d in interrupted:
            if d._proc.state == "stopped":
                d.cont()
    paths = {d._proc.pid: path for d, path in members}
    return TreeSnapshot(snaps, paths, level, snaps[0].snapshot_id, name)


def load_snapshot(path):
    """Read a snapshot written by save(): a ProcessSnapshot, ThreadSnapshot or
    TreeSnapshot. A malformed file raises ValueError saying what is wrong."""
    from .serialize import read_snapshot
    return read_snapshot(path)
