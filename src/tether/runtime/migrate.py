"""Handing one traced process to another debugger (gdb, `Debugger.gdb()`)
and taking it back where that debugger left it. Runs only on the tracer
thread. The ptrace facts are in docs/edge-cases.md §37: a process has one
tracer, so we must let go of it, and nothing in ptrace lets a tracer go
while keeping the tracee stopped but a job-control stop; so it is handed
over, and given back, in a stop made by a SIGSTOP queued before the detach
(taken before the thread runs one instruction)."""
import errno
import os
import signal

from .. import _native as native
from ..arch.amd64 import debugregs
from ..ptrace import O_EXITKILL, PTRACE_INTERRUPT, PTRACE_SEIZE, THREAD_OPTIONS, proc_state
from ..state.states import PROC_DEAD, PROC_IN_GDB, PROC_STOPPED, PROC_STOPPING, TASK_DEAD, TASK_RUNNING
from ..state.task import Task
from . import tracker



def hand_over(session, proc) -> None:
    """Let go of stopped `proc` so that another debugger can attach, with
    its breakpoints (kept, taken out of memory) and everything else of
    ours kept for take_back(); it is left in a job-control stop."""
    for other in session.registry.procs.values():
        if other is not proc and other.aspace is proc.aspace:
            raise RuntimeError(f"process {proc.pid} shares its memory with traced process "
                               f"{other.pid} (vfork or CLONE_VM): it can't be handed to gdb alone")
    session.settle_for_release(proc)
    # Already in a job-control stop of its own (SIGSTOP, SIGTSTP...): it is
    # given back in it, not continued.
    proc.gdb_job_stopped = proc.job_stopped
    proc.gdb_breakpoints = proc.aspace.take_all_out()
    if proc.hw_used:
        for t in proc.live_tasks():
            try:
                native.pokeuser(t.tid, debugregs.DR7_OFFSET, 0)  # (ours, not gdb's: it sets its own)
            except OSError:
                pass
    # The SIGSTOP is taken by each thread as soon as it is let go, before
    # it returns to user mode: the process stops where it was (§37).
    os.kill(proc.pid, signal.SIGSTOP)
    session.release_threads(proc)
    for t in proc.tasks.values():
        if not t.dead:
            t.state = TASK_RUNNING   # (not ours to stop or read until taken back)
            # What it was doing under us is over: its pending signal went with
            # the detach, a syscall it was in finishes in gdb.
            t.forget_stop()
    proc.set_state(PROC_IN_GDB)


def take_back(session, proc) -> None:
    """Seize again every thread of `proc` (which gdb has let go) and
    interrupt it; its interrupt or group-stop reports come through the
    loop and the process is stopped then (finish_take_back follows)."""
    registry = session.registry
    state = proc_state(proc.pid)
    if proc.state is PROC_DEAD:
        return  # its death was reported to us (we are its parent)
    if state is None or state in ("Z", "X"):
        _gone_in_gdb(registry, proc)
        return
    exitkill = proc.main_task.options & O_EXITKILL if proc.main_task is not None else 0
    # In the job-control stop of our SIGSTOP (unless someone continued it in
    # gdb): its group-stop reports are no new stop of the program's (no
    # on_stop hook).
    in_our_stop = state == "T"
    proc.set_state(PROC_STOPPING)
    seen: set = set()
    while True:
        try:
            tids = sorted(int(t) for t in os.listdir(f"/proc/{proc.pid}/task"))
        except FileNotFoundError:
            break
        new = [t for t in tids if t not in seen]
        if not new:
            break
        for tid in new:
            seen.add(tid)
            task = proc.tasks.get(tid)
            options = task.options if task is not None else THREAD_OPTIONS | exitkill
            try:
                native.ptrace(PTRACE_SEIZE, tid, 0, options)
                native.ptrace(PTRACE_INTERRUPT, tid, 0, 0)
            except OSError as e:
                if e.errno == errno.ESRCH:
                    continue
                raise RuntimeError(f"can't take thread {tid} of process {proc.pid} back from "
                                   f"gdb: {os.strerror(e.errno or 0)}") from None
            if task is None:  # a thread born while in gdb
                task = Task(tid, proc)
                task.options = options
            task.state = TASK_RUNNING
            task.group_stopped = in_our_stop
            registry.gone.pop(tid, None)
            registry.add(task)
    for tid in [t for t in proc.tasks if t not in seen]:  # threads that ended in gdb
        task = proc.tasks.pop(tid)
        registry.tasks.pop(tid, None)
        task.state = TASK_DEAD
        if proc.listener is not None and tid != proc.pid:
            proc.listener.thread_ended(task)
    if not proc.tasks:
        _gone_in_gdb(registry, proc)


def finish_take_back(proc) -> None:
    """The process taken back is stopped: end the job-control stop the
    hand-over made (one SIGCONT, which tether then keeps from the
    program: Stops.signal), and put our breakpoints back."""
    if proc.state is not PROC_STOPPED:
        return  # (died meanwhile)
    tasks = proc.live_tasks()
    if proc.gdb_job_stopped and tasks and all(t.group_stopped for t in tasks):
        proc.job_stopped = True  # (as it was: its cont() is a shell's fg, §18)
    elif tasks and all(t.group_stopped for t in tasks):
        proc.own_sigcont = True
        os.kill(proc.pid, signal.SIGCONT)
        for t in tasks:
            t.group_stopped = False
        proc.job_stopped = False
    proc.gdb_job_stopped = False
    wanted, proc.gdb_breakpoints = proc.gdb_breakpoints, None
    if wanted:
        proc.aspace.put_back(wanted)
    for t in tasks:
        t.dr_dirty = True  # (our debug registers are written before it runs)
    proc.run_epoch += 1    # (maps and symbols may have changed in gdb)
    proc.last_task = proc.main_task


def _gone_in_gdb(registry, proc) -> None:
    """The process died while gdb had it (not our child: nobody told us
    how). Its exit status is unknown."""
    for t in tracker.process_died(proc):
        registry.tasks.pop(t.tid, None)
    registry.procs.pop(proc.pid, None)
    proc.set_state(PROC_DEAD)
