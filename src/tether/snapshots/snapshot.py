"""Snapshots: the saved state of a thread, a process or a process tree.

libdebug's save states: `d.create_snapshot(level, name)`
gives a ProcessSnapshot (every thread of that one process, never its child
processes), `thread.create_snapshot(level, name)` a ThreadSnapshot. Levels:
  "base"      registers of the thread(s) and the memory maps
  "writable"  + the contents of the writable maps
  "full"      + the contents of every readable map ([vvar]/[vsyscall] and
              maps that cannot be read are skipped, and recorded as such)
A snapshot is read-only: `regs` (every register, FP/vector included),
`maps`, `memory` (indexed like the live memory), `backtrace()`, the pretty
printers, `diff(other)` and `save(path)` (JSON, see serialize.py).

Beyond libdebug: `tree_snapshot(d, level)` snapshots every
process of the traced tree under `d` at one moment (TreeSnapshot).

Memory is read one map at a time (one process_vm_readv per map), and
tether's own int3 bytes are replaced by the original bytes.
"""
from __future__ import annotations

from ..errors import MemoryAccessError, ProcessDeadError, ProcessRunningError
from ..memory.maps import parse_maps, read_maps
from ..state.states import GONE, ProcState
from .memory import SnapshotMap, check_level, should_capture
# The types live in snapshot_types.py (serialize.py builds them when reading a
# file, and this module reads files through serialize.py); also importable from here.
from .snapshot_types import ProcessImage, ProcessSnapshot, ThreadSnapshot, TreeSnapshot

__all__ = ["ProcessSnapshot", "ThreadSnapshot", "TreeSnapshot", "load_snapshot",
           "process_snapshot", "thread_snapshot", "tree_snapshot"]


def _check_name(name):
    if name is not None and not isinstance(name, str):
        raise TypeError(f"snapshot name must be a str or None, not {type(name).__name__}")
    return name


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


def _capture_threads(control, tasks):
    threads, skipped = [], {}
    for task in tasks:
        try:
            gpr, xstate = control.tracer.call(_read_registers, task)
        except (ProcessRunningError, ProcessDeadError) as e:
            skipped[task.tid] = str(e)
            continue
        threads.append((task.tid, gpr, xstate))
    return threads, skipped


def _live_maps(control, proc):
    try:
        binary = control.binary_path
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


def _capture_image(control, proc, level: str) -> ProcessImage:
    maps, binary = _live_maps(control, proc)
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
    return ProcessImage(proc.pid, level, saved, skipped, binary, proc.arch.name)


def process_snapshot(debugger, level: str = "base", name=None) -> ProcessSnapshot:
    """Snapshot of the (stopped) process `debugger` traces: all its threads."""
    check_level(level)
    _check_name(name)
    control = debugger.control
    proc = control.live_process()
    threads, skipped_threads = _capture_threads(control, proc.live_tasks())
    if not threads:
        raise ProcessRunningError(f"no thread of process {proc.pid} is stopped: "
                                  + "; ".join(skipped_threads.values()))
    image = _capture_image(control, proc, level)
    return ProcessSnapshot(image, threads, control.next_snapshot_id(), name, skipped_threads)


def thread_snapshot(debugger, task, level: str = "base", name=None) -> ThreadSnapshot:
    """Snapshot of one (stopped) thread; its process's memory per level."""
    check_level(level)
    _check_name(name)
    control = debugger.control
    proc = control.live_process()
    gpr, xstate = control.tracer.call(_read_registers, task)
    image = _capture_image(control, proc, level)
    return ThreadSnapshot(image, task.tid, gpr, xstate, control.next_snapshot_id(), name)


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
    debugger.control.live_process()
    members = [(d, path) for d, path in _tree_of(debugger)
               if d.control.process is not None and d.control.process.state not in GONE]
    interrupted = []
    try:
        for d, _ in members:
            proc = d.control.process
            if proc.state is ProcState.STOPPED:
                continue
            if d.control.tracer.on_tracer_thread():
                raise ProcessRunningError(
                    f"process {proc.pid} is running: a tree snapshot taken in a callback "
                    f"needs every process of the tree stopped")
            try:
                d.interrupt()
            except ProcessDeadError:
                continue  # it died meanwhile: nothing to snapshot
            task = proc.last_task
            if proc.state is ProcState.STOPPED and (task is None or task.stop_reason == "interrupt"):
                interrupted.append(d)
        members = [(d, path) for d, path in members if d.control.process.state is ProcState.STOPPED]
        snaps = [process_snapshot(d, level, name) for d, _ in members]
    finally:
        for d in interrupted:
            if d.control.process.state is ProcState.STOPPED:
                d.cont()
    paths = {d.pid: path for d, path in members}
    return TreeSnapshot(snaps, paths, level, snaps[0].snapshot_id, name)


def load_snapshot(path, max_size: int | None = None, read_mapped_files: bool = False):
    """Read a snapshot written by save(): a ProcessSnapshot, ThreadSnapshot or
    TreeSnapshot. A malformed file raises ValueError saying what is wrong.

    Only a regular file is read, and at most `max_size` bytes of JSON
    (inflated; default 256 MiB). Loading never runs code, and never opens
    the files the snapshot's maps name unless read_mapped_files=True (then
    symbols and unwind tables are read from them, regular ELF files only,
    each read bounded)."""
    from .serialize import MAX_SIZE, read_snapshot
    return read_snapshot(path, MAX_SIZE if max_size is None else max_size, read_mapped_files)
