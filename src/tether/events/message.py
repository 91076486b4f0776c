"""The event message of a stop that has one, read once and attached to its
StopEvent (see decode.py): for PTRACE_EVENT_FORK / VFORK / CLONE the new
task's tid and whether the call made a thread (1, 0, or -1 when there are no
clone flags to read: a fork or vfork system call, or registers that could
not be read; the CLONE_THREAD flag, read from the creator's clone or clone3
arguments, decides, never the event kind); for PTRACE_EVENT_EXEC the
tid that called execve. None when the task is gone and it can't be read."""
from .. import _native as native
from .decode import STOP_EXEC

_clone_event = native.clone_event
_geteventmsg = native.geteventmsg


def with_event_message(tid: int, ev):
    """`ev` (a stop of `tid`) with its event message."""
    try:
        if ev.kind is STOP_EXEC:
            message: int | tuple[int, int] | None = _geteventmsg(tid)
        else:
            # fork, vfork and clone alike: the kernel picks the event from the
            # exit signal and CLONE_VFORK, so a legacy clone(CLONE_THREAD |
            # SIGCHLD) thread is announced as a fork (docs/edge-cases.md §6).
            message = _clone_event(tid)
    except OSError:
        message = None
    return ev.with_message(message)
