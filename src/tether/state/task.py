"""Per-thread (per-tid) ptrace bookkeeping and register cache.

Only the tracer thread mutates a Task. The register cache is fetched lazily
at most once per stop and written back only if changed, so a stop that needs
nothing costs no GETREGS/SETREGS."""
from .. import _native as native

RIP_OFFSET = 16 * 8
RSP_OFFSET = 19 * 8
RAX_OFFSET = 10 * 8
ORIG_RAX_OFFSET = 15 * 8
EFLAGS_OFFSET = 18 * 8


def _direct(fn, *args):
    return fn(*args)


class Task:
    # How to run a ptrace request: replaced by the tracer with its call(), so a
    # register read from the user's thread is done by the tracer thread.
    call = staticmethod(_direct)

    __slots__ = (
        "tid", "proc",
        "stopped",          # in a ptrace-stop we hold
        "listening",        # resumed with PTRACE_LISTEN: in group-stop, not a ptrace-stop
        "group_stopped",    # job-control stopped (SIGSTOP/SIGTSTP...) and not yet continued
        "awaiting_first_stop",  # announced by a fork/clone event, first stop not seen yet
        "in_vfork",         # blocked in vfork until the child execs or exits
        "exiting",          # resumed from PTRACE_EVENT_EXIT: only its death report is left
        "dead", "exit_code", "exit_signal",
        "pending",          # (kind, value) of an event seen during an all-stop, to handle on resume
        "deliver_signal",   # signal to inject at the next resume
        "stepping",         # None, "over" (stepping over a breakpoint), "user" (user's step)
        "step_address",     # breakpoint address stepped over
        "rf_on_resume",     # set EFLAGS.RF: resume past a hardware execute breakpoint
        "in_syscall", "syscall_nr", "fake_return",
        "stop_reason",      # what the last reported stop was (a stopping-event object, or a str)
        "dr_dirty",
        "options",          # the PTRACE_O_* options it has (inherited from its creator)
        "_gpr", "_gpr_dirty", "_xstate", "_xstate_dirty",
        "context",          # the user-facing ThreadContext, created on demand
    )

    def __init__(self, tid: int, proc):
        self.tid = tid
        self.proc = proc
        self.stopped = False
        self.listening = False
        self.group_stopped = False
        self.awaiting_first_stop = False
        self.in_vfork = False
        self.exiting = False
        self.dead = False
        self.exit_code = None
        self.exit_signal = None
        self.pending = None
        self.deliver_signal = 0
        self.stepping = None
        self.step_address = None
        self.rf_on_resume = False
        self.in_syscall = False
        self.syscall_nr = None
        self.fake_return = None
        self.stop_reason = None
        self.dr_dirty = True
        self.options = 0
        self._gpr = None
        self._gpr_dirty = False
        self._xstate = None
        self._xstate_dirty = False
        self.context = None

    # --- the register-cache protocol used by arch.amd64.registers.Registers ---
    def gpr(self) -> bytearray:
        gpr = self._gpr
        if gpr is None:
            if not self.stopped or self.dead:
                self._require_stopped()
            gpr = self._gpr = Task.call(native.getregs, self.tid)
        return gpr

    def gpr_dirty(self) -> None:
        self._gpr_dirty = True

    def xstate(self) -> bytearray:
        if self._xstate is None:
            self._require_stopped()
            self._xstate = Task.call(native.getxstate, self.tid)
        return self._xstate

    def xstate_dirty(self) -> None:
        self._xstate_dirty = True

    def _require_stopped(self) -> None:
        from ..errors import ProcessDeadError, ProcessRunningError
        if self.dead:
            raise ProcessDeadError(f"thread {self.tid} is dead: its registers are gone")
        if not self.stopped:
            raise ProcessRunningError(
                f"thread {self.tid} is running (or blocked in vfork); stop it before reading registers")

    # --- helpers for the runtime ---
    def rip(self) -> int:
        return int.from_bytes(self.gpr()[RIP_OFFSET:RIP_OFFSET + 8], "little")

    def set_rip(self, value: int) -> None:
        self.gpr()[RIP_OFFSET:RIP_OFFSET + 8] = value.to_bytes(8, "little")
        self._gpr_dirty = True

    def flush(self) -> None:
        """Write changed registers back before the task runs again, and forget
        the cache (the task is about to change them)."""
        if self._gpr_dirty:
            native.setregs(self.tid, self._gpr)
            self._gpr_dirty = False
        if self._xstate_dirty:
            native.setxstate(self.tid, self._xstate)
            self._xstate_dirty = False
        self._gpr = None
        self._xstate = None

    def forget_registers(self) -> None:
        self._gpr = None
        self._xstate = None
        self._gpr_dirty = False
        self._xstate_dirty = False
