"""What tether decides, told through the logging module (silent by default:
tether's logger has a NullHandler, see libcontext.py).

  "tether.runtime.ptrace"   DEBUG: every ptrace decision: each wait report
                            and the handler it goes to, each restart of a
                            thread (which request, which signal, how over a
                            breakpoint), each all-stop, each process let go.
  "tether.runtime.process"  INFO: the process lifecycle: started, attached,
                            a child followed or let go, exec, exit or death,
                            detached, killed.

Both sit on paths that run at every stop or birth, so while off they cost
one test of a module global (`ON`, `LIFE_ON`), re-read from the loggers
whenever the tracer thread starts waiting and whenever the script hands it
work (so a level set by the script takes effect at its next tether call)."""
import logging

from ..ptrace import PTRACE_CONT, PTRACE_LISTEN, PTRACE_SINGLESTEP, PTRACE_SYSCALL
from .tracker import Route

ptrace_log = logging.getLogger("tether.runtime.ptrace")
process_log = logging.getLogger("tether.runtime.process")

ON = False        # DEBUG lines of "tether.runtime.ptrace" wanted
LIFE_ON = False   # INFO lines of "tether.runtime.process" wanted

_REQUESTS = {PTRACE_CONT: "PTRACE_CONT", PTRACE_SYSCALL: "PTRACE_SYSCALL",
             PTRACE_SINGLESTEP: "PTRACE_SINGLESTEP", PTRACE_LISTEN: "PTRACE_LISTEN"}


def refresh() -> None:
    """Re-read whether the DEBUG lines are wanted."""
    global ON, LIFE_ON
    ON = ptrace_log.isEnabledFor(logging.DEBUG)
    LIFE_ON = process_log.isEnabledFor(logging.INFO)


def routed(task, ev, route: int) -> None:
    """A wait report of `task` and the handler the tracker chose for it."""
    ptrace_log.debug("pid %d tid %d: %r -> %s", task.proc.pid, task.tid, ev, Route(route).name)


def restarted(task, request: int, sig: int, how: str) -> None:
    """`task` was restarted with `request` (delivering `sig`), `how`: plain,
    over a breakpoint by emulation, or over it by a single step."""
    ptrace_log.debug("pid %d tid %d: %s%s%s", task.proc.pid, task.tid,
                     _REQUESTS.get(request, str(request)),
                     f" delivering signal {sig}" if sig else "", f" ({how})" if how else "")


def decided(proc, what: str) -> None:
    """A decision about a whole process (an all-stop, holding threads for a
    step-over, letting it go)."""
    ptrace_log.debug("pid %d: %s", proc.pid, what)


def lifecycle(pid: int, what: str, *args: object) -> None:
    """A step of a process's life (INFO; callers test LIFE_ON first)."""
    process_log.info("pid %d: " + what, pid, *args)
