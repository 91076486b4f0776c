"""Moving the Debugger's process: cont, wait, wait_any, interrupt, and the
main thread's step, step_until, finish and next (ThreadContext runs them)."""
from __future__ import annotations

import logging
TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any
from functools import partial

from ..errors import NotRunningError
from ..state.states import ProcState
from .base import FacadeBase
from .control import settled

_REPORTABLE = (ProcState.STOPPED, ProcState.DEAD)
log = logging.getLogger(__name__)
# After this many seconds a wait() still blocked says which followed
# processes are stopped waiting for cont() (a parent blocked in waitpid()
# on one of them would wait for ever, silently).
STALL_WARNING_AFTER = 2.0


def _warn_of_held_processes(ctl: Any, proc: Any, waited: float) -> None:
    held = sorted(c.process.pid for c in ctl.family()
                  if c.process is not None and c.process is not proc and c.process.state is ProcState.STOPPED)
    if held:
        log.warning("wait(): process %d is still running after %.1f s, and the followed process(es) %s "
                    "are stopped, waiting for cont() (if it waits for them, it waits for ever)",
                    proc.pid, waited, ", ".join(map(str, held)))


class FlowMixin(FacadeBase):
    """cont, wait, wait_any, interrupt, step, step_until, finish, next and
    libdebug's short aliases."""

    def cont(self) -> None:
        """Resume the process (every thread). Returns at once: wait() blocks
        until it stops again."""
        ctl = self._ctl
        ctl.refuse_in_own_callback("cont")
        proc = ctl.ensure_stopped()
        # Not waited for: the next command or wait() sees the process running.
        ctl.tracer.post(ctl.session.resume_process, proc)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the process stops (or dies); TimeoutError after
        `timeout` seconds (None: no limit)."""
        ctl = self._ctl
        ctl.check_usable()
        ctl.refuse_in_own_callback("wait")
        proc = ctl.process  # (no sync first: wait_for waits for a posted cont() itself)
        if proc is None:
            raise NotRunningError("no process: call run() or attach() first")
        first = STALL_WARNING_AFTER if timeout is None else min(timeout, STALL_WARNING_AFTER)
        is_settled = partial(settled, proc)   # (asked on both threads at every stop: no extra frame)
        if not ctl.tracer.wait_for(is_settled, first):
            if first >= STALL_WARNING_AFTER:  # (a shorter wait() is a poll: no warning)
                _warn_of_held_processes(ctl, proc, first)
            rest = None if timeout is None else timeout - first
            if (rest is not None and rest <= 0) or not ctl.tracer.wait_for(is_settled, rest):
                raise TimeoutError(f"process {proc.pid} did not stop within {timeout} s")
        ctl.raise_pending_error()

    def wait_any(self, timeout: float | None = None) -> Any:
        """tether extra: block until this process or any followed descendant is
        stopped or dead and return its Debugger (a stopped child waiting to be
        resumed counts)."""
        ctl = self._ctl
        ctl.refuse_in_own_callback("wait_any")
        found: list[Any] = []

        def ready() -> bool:
            for c in ctl.family():
                p = c.process
                if p is not None and (p.state in _REPORTABLE or p.job_stopped):
                    found.append(c.debugger)
                    return True
            return False
        if not ctl.tracer.wait_for(ready, timeout):
            raise TimeoutError(f"no process stopped within {timeout} s")
        return found[-1]  # this thread's own last check (the tracer may check too)

    def interrupt(self) -> None:
        """Stop every thread of the running process (nothing if it is stopped)."""
        self._ctl.interrupt()

    def step(self) -> None:
        """Execute one instruction of the main thread."""
        return self._ctl.main_thread().step()

    def step_until(self, position: int | str, max_steps: int = -1, file: str = "hybrid") -> None:
        """Single-step the main thread until it reaches `position` (an address
        or a symbol expression), at most `max_steps` steps (-1: no limit)."""
        return self._ctl.main_thread().step_until(position, max_steps, file)

    def finish(self, heuristic: str = "backtrace") -> None:
        """Run the main thread until the current function returns ("backtrace":
        to the caller's return address; "step-mode": stepping over calls)."""
        return self._ctl.main_thread().finish(heuristic)

    def next(self) -> None:
        """Execute one instruction of the main thread, a call as a whole."""
        return self._ctl.main_thread().next()

    # short aliases (libdebug's)
    c = cont
    w = wait
    si = step
    su = step_until
    fin = finish
    ni = next


# libdebug's alias of interrupt(), `d.int()`. Set after the class body: a
# method defined in it named `int` would be what `int` means in the
# annotations of the methods after it (for type checkers, in all of them).
setattr(FlowMixin, "int", FlowMixin.interrupt)
