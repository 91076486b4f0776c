"""Short paths for the thread events no one watches: a running process makes
a thread, the thread's first stop, the thread's end. Programs that create
threads by the thousand spend most of their tracing time here, so these do
what dispatch -> on_stop -> on_new_child / first_stop / task_died would do,
with a fraction of the calls.

Each returns False, having changed nothing, when the event needs the general
path: the process is not simply running (stopping, stepping over a
breakpoint, hidden), the thread has something pending, or a user callback
wants to hear about the thread."""
import signal

from .. import _native as native
from ..events.decode import EVENT_CLONE, EVENT_STOP
from ..state.task import Task

# Wait statuses (ptrace(2), "Stopped tasks"): the creator's PTRACE_EVENT_CLONE
# stop, and a new tracee's first stop: PTRACE_EVENT_STOP with SIGTRAP, as its
# creator was attached with PTRACE_SEIZE (with a group-stop under way it
# carries the stop signal instead, which the general path handles).
CLONE_EVENT_STOP = ((EVENT_CLONE << 8 | signal.SIGTRAP) << 8) | 0x7F
NEW_TASK_STOP = ((EVENT_STOP << 8 | signal.SIGTRAP) << 8) | 0x7F


def _plainly_running(proc) -> bool:
    return proc._state == "running" and proc.step_lock is None and not proc.hidden


def thread_born(session, task) -> bool:
    """`task` reported PTRACE_EVENT_CLONE: register the new thread and let
    the creator go on."""
    proc = task.proc
    if (not _plainly_running(proc) or task.awaiting_first_stop or task.stepping is not None
            or task.pending is not None):
        return False
    try:
        new_tid, makes_thread = native.clone_event(task.tid)
    except OSError:
        return False
    if makes_thread != 1 or new_tid in session.early:
        return False  # a new process, or its first stop came first: general path
    task.stopped = True
    task.listening = False
    task._gpr = task._xstate = None
    task._gpr_dirty = task._xstate_dirty = False
    new = Task(new_tid, proc)
    new.options = task.options  # auto-attached tasks inherit their creator's options
    new.awaiting_first_stop = True
    proc.tasks[new_tid] = new
    session.tasks[new_tid] = new
    if task.tid == proc.pid:
        session.set_role_options(task)  # (the leader of many needs its exit stop)
    session.control.restart(task)
    return True


def thread_started(session, task) -> bool:
    """The first stop of a thread registered by its creator's clone event:
    set its own options and let it run."""
    proc = task.proc
    if task.tid == proc.pid or not _plainly_running(proc) or proc.hooks["thread"]:
        return False  # the first stop of a new process, or watched
    task.stopped = True
    task.listening = False
    task.awaiting_first_stop = False
    task._gpr = task._xstate = None
    task._gpr_dirty = task._xstate_dirty = False
    session.set_role_options(task)
    task.dr_dirty = True  # a new thread starts with clear debug registers
    session.control.restart(task)
    return True


def thread_ended(session, task, status: int) -> bool:
    """A thread other than the leader exited (it has no exit stop, see
    THREAD_OPTIONS): forget it."""
    proc = task.proc
    if task.tid == proc.pid or not _plainly_running(proc) or proc.hooks["thread_exit"]:
        return False
    task.dead = True
    task.stopped = False
    if status & 0x7F:
        task.exit_signal = status & 0x7F
    else:
        task.exit_code = status >> 8 & 0xFF
    session.tasks.pop(task.tid, None)
    proc.tasks.pop(task.tid, None)
    return True
