"""Taking over running processes: the threads of a process that runs
untraced (`attach(pid)`), and, for `attach(pid, tree=True)`, the child
processes that existed before their parent was seized. Runs only on the
tracer thread.

Why this is race-free (docs/edge-cases.md §25): a thread seized with the
fork/vfork/clone options has every task it creates from then on
auto-attached (and announced by an event tether handles as for any followed
child). What a seized thread may still have under way is a fork or clone
*started* before the seize, whose new task is not traced; but the kernel
reports the thread's interrupt stop only on its way back to user mode, after
that call has put the new task in /proc. So once every thread of a process
has stopped, one more look at /proc/PID/task (its threads) and at each
thread's children file (its child processes) finds everything: a pass over
the whole tree that finds nothing new, with every process stopped, is the
fixpoint. A child found in /proc that a fork event announced already is
known by its pid and not seized again."""
import errno
import os
import sys
import warnings

from .. import _native as native
from ..ptrace import (BASE_OPTIONS, PTRACE_INTERRUPT, PTRACE_SEIZE, THREAD_OPTIONS, parent_of,
                      proc_state)
from ..state.process import Proc
from ..state.states import GONE, PROC_STARTING, PROC_STOPPING
from ..state.task import Task
from .registry import uptime_ticks


def seize_threads(registry, proc, strict: bool) -> int:
    """Seize and interrupt every thread of `proc` not traced yet, rescanning
    /proc/PID/task until a pass finds no new one (docs/edge-cases.md §24).
    Returns how many were seized. `strict` (the process the user named): a
    process that does not exist is a ValueError, one we may not trace a
    PermissionError; otherwise such a process just yields 0."""
    pid = proc.pid
    seen: set = set()
    count = 0
    while True:
        try:
            tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        except FileNotFoundError:
            if strict and not proc.tasks:
                raise ValueError(f"process {pid} does not exist") from None
            return count
        new = [t for t in tids if t not in seen and t not in proc.tasks]
        if not new:
            return count
        for tid in new:
            seen.add(tid)
            options = BASE_OPTIONS if tid == pid else THREAD_OPTIONS  # (see THREAD_OPTIONS)
            try:
                native.ptrace(PTRACE_SEIZE, tid, 0, options)
                native.ptrace(PTRACE_INTERRUPT, tid, 0, 0)
            except OSError as e:
                if e.errno == errno.ESRCH:
                    continue  # the thread exited meanwhile
                if e.errno == errno.EPERM and not proc.tasks:
                    if not strict:
                        return 0
                    raise PermissionError(
                        e.errno, f"not permitted to trace process {pid} (already traced, or "
                        "protected)") from None
                if e.errno == errno.EPERM:
                    # Auto-attached already through its creator's clone event
                    # (which registers it), or a zombie thread.
                    continue
                raise
            task = Task(tid, proc)
            task.options = options
            registry.add(task)
            count += 1


def attach_process(registry, config, pid: int, parent=None) -> Proc | None:
    """Seize every thread of running process `pid` (the one the user named
    when `parent` is None, else a child of `parent` found in /proc); the
    process is being stopped (its interrupt stops come through the loop).
    Raises as seize_threads does for the named one; returns None for a
    child that can't be traced."""
    proc = Proc(pid, config, parent=parent, hub=registry.hub,
                aspace=parent.aspace if parent is not None and native.same_vm(parent.pid, pid)
                else None)
    proc.set_state(PROC_STOPPING)
    proc.traced_since = uptime_ticks()
    proc.attached = True
    if seize_threads(registry, proc, strict=parent is None) == 0 and not proc.tasks:
        if parent is None:
            raise ValueError(f"process {pid} does not exist")
        return None
    registry.procs[pid] = proc
    registry.note_seen(pid)
    return proc


def children_in_proc(pid: int, tids) -> list:
    """The child processes of the threads `tids` of process `pid`, from
    /proc/PID/task/TID/children (the kernel lists each thread's own), or
    on a kernel built without that file, from every process's parent."""
    found: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found.extend(int(c) for c in f.read(1 << 20).split())
        except FileNotFoundError:
            if os.path.isdir(f"/proc/{pid}/task/{tid}"):
                return [p for p in _all_pids() if parent_of(p) == pid]  # (no CONFIG_PROC_CHILDREN)
        except (OSError, ValueError):
            continue  # (the thread is gone: its children went to another thread)
    return found


def _all_pids() -> list:
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def settled(proc) -> bool:
    """Nothing under way for a tree attach to wait for in `proc`."""
    return proc.state is not PROC_STOPPING and proc.state is not PROC_STARTING


def adopt_pass(registry, root, skipped: set) -> bool:
    """One pass of `attach(pid, tree=True)` over the tree under Proc `root`,
    every process of it stopped: seize the threads /proc shows that are not
    traced yet, and the child processes /proc shows that are not traced yet
    (each gets its Proc under its parent, and its Debugger through the
    parent's listener, placed before the children followed at a fork: it
    is older). Returns True when the pass found nothing new with every
    process settled: the tree is complete (see the module's docstring).
    `skipped`: pids found that can't be traced (zombies, processes traced
    by another tracer), not looked at again."""
    complete = True
    for proc in [root] + root.descendants():
        if proc.state in GONE:
            continue
        if not settled(proc):
            complete = False
            continue
        if not proc.attached:
            continue  # born traced: everything it made is auto-attached
        if seize_threads(registry, proc, strict=False):
            # Threads whose creator had begun the clone before it was seized.
            proc.set_state(PROC_STOPPING)
            complete = False
            continue
        for cpid in children_in_proc(proc.pid, list(proc.tasks)):
            if cpid in registry.procs or cpid in registry.early or cpid in skipped:
                continue  # known: announced by a fork event (or found before)
            child = _adopt_child(registry, proc, cpid, skipped)
            if child is not None:
                complete = False
    return complete


def in_job_stop(proc) -> bool:
    """Every live thread of `proc` reported a group-stop: it was in a
    job-control stop when it was seized."""
    tasks = proc.live_tasks()
    return bool(tasks) and all(t.group_stopped for t in tasks)


def _adopt_child(registry, parent, cpid: int, skipped: set):
    state = proc_state(cpid)
    registry.note_seen(cpid)  # (its SIGCHLD to its parent is no untraced child's)
    if state is None or state in ("Z", "X"):
        skipped.add(cpid)  # exited: its parent reaps it, nothing to trace
        return None
    child = attach_process(registry, parent.config.for_child(), cpid, parent)
    if child is None:
        skipped.add(cpid)
        if proc_state(cpid) not in (None, "Z", "X"):
            message = (f"tether: child {cpid} of process {parent.pid} can't be traced (traced by "
                       "another tracer, or not permitted): it runs on untraced")
            print(message, file=sys.stderr, flush=True)
            warnings.warn(message, RuntimeWarning, stacklevel=1)
        return None
    child.inherit_hooks_from(parent)
    position = sum(1 for c in parent.children if c.attached)  # (older than any followed one)
    parent.children.insert(position, child)
    if parent.listener is not None:
        parent.listener.child_attached(child, position)
    return child


def tree_settled(root) -> bool:
    """Every process of the tree under `root` is settled (STOPPED, or gone)."""
    return all(settled(p) for p in [root] + root.descendants())
