"""Per-thread (per-tid) ptrace bookkeeping and register cache.

Only the tracer thread changes a Task. The register cache is fetched lazily
at most once per stop and written back only if changed, so a stop that needs
nothing costs no GETREGS/SETREGS."""
from __future__ import annotations

import struct
TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

from .. import _native as native
from ..arch.amd64.registers import (  # noqa: F401
    EFLAGS_OFFSET,
    ORIG_RAX_OFFSET,
    RAX_OFFSET,
    RIP_OFFSET,
    RSP_OFFSET,
    SYSCALL_ARG_OFFSETS,
)
from ..errors import ProcessDeadError, ProcessRunningError
from .states import TaskState

_u64 = struct.Struct("<Q").unpack_from
_s64 = struct.Struct("<q").unpack_from
_STOPPED = TaskState.STOPPED
_DEAD = TaskState.DEAD


class Task:
    __slots__ = (
        "tid", "proc",
        "state",            # TaskState
        "group_stopped",    # job-control stopped (SIGSTOP/SIGTSTP...) and not yet continued
        "in_vfork",         # blocked in vfork until the child execs or exits
        "exit_code", "exit_signal",
        "pending",          # StopEvent seen during an all-stop or a held step, handled on resume
        "deliver_signal",   # signal to inject at the next resume
        "stepping",         # None, "over" (stepping over a breakpoint), "user" (user's step)
        "step_address",     # breakpoint address whose int3 is lifted for the step
        "rf_on_resume",     # set EFLAGS.RF: resume past a hardware execute breakpoint
        "in_syscall", "syscall_nr", "fake_return",
        "stop_reason",      # what the last reported stop was (a stopping-event object, or a str)
        "dr_dirty",         # the process's hardware breakpoints must be written into this thread
        "options",          # the PTRACE_O_* options it has (inherited from its creator)
        "gpr_cache", "gpr_changed", "xstate_cache", "xstate_changed",
        "last_gpr",         # registers kept for reading after the thread died (keep_registers)
        "context",          # the user-facing ThreadContext, created on demand
    )

    def __init__(self, tid: int, proc, state: TaskState = TaskState.RUNNING):
        self.tid = tid
        self.proc = proc
        self.state = state
        self.group_stopped = False
        self.in_vfork = False
        self.exit_code = None
        self.exit_signal = None
        self.pending = None
        self.deliver_signal = 0
        self.stepping = None
        self.step_address = None
        self.rf_on_resume = False
        self.in_syscall = False
        self.syscall_nr: int | None = None
        self.fake_return = None
        self.stop_reason = None
        self.dr_dirty = True
        self.options = 0
        self.gpr_cache: bytearray | None = None
        self.gpr_changed = False
        self.xstate_cache: bytearray | None = None
        self.xstate_changed = False
        self.last_gpr: bytearray | None = None
        self.context: Any = None   # (a ThreadContext: a higher layer)

    # --- read-only views of the state, for the facade ---
    @property
    def stopped(self) -> bool:
        """In a ptrace-stop we hold (registers readable)."""
        return self.state is _STOPPED

    @property
    def dead(self) -> bool:
        return self.state is _DEAD

    @property
    def exiting(self) -> bool:
        return self.state is TaskState.EXITING

    # --- the register-cache protocol used by arch.amd64.registers.Registers ---
    def gpr(self) -> bytearray:
        gpr = self.gpr_cache
        if gpr is None:
            if self.state is not _STOPPED:
                if self.state is _DEAD and self.last_gpr is not None:
                    return self.last_gpr  # post-mortem: as they were at the last stop kept
                self._require_stopped()
            gpr = self.gpr_cache = self.proc.hub.call(native.getregs, self.tid)
        return gpr

    def keep_registers(self) -> None:
        """On the tracer thread, at a stop the thread may not survive (a
        signal about to be delivered, a kill): read its registers now and
        keep them, so that they stay readable after its death (libdebug's
        post-mortem reads: the faulting instruction after a SIGSEGV). Once it
        is dead they cannot be read any more: PTRACE_GETREGS needs a
        ptrace-stop, and exit stops are asked for only where needed
        (docs/architecture.md, rule 10)."""
        if self.state is _STOPPED:
            try:
                self.last_gpr = self.load_gpr()
            except OSError:
                pass  # killed meanwhile (SIGKILL ends a ptrace-stop): nothing to keep

    def load_gpr(self) -> bytearray:
        """gpr() for the tracer thread itself (no hand-off check): the cache,
        or the registers fetched now."""
        gpr = self.gpr_cache
        if gpr is None:
            if self.state is not _STOPPED:
                self._require_stopped()
            gpr = self.gpr_cache = native.getregs(self.tid)
        return gpr

    def gpr_dirty(self) -> None:
        self.gpr_changed = True

    def xstate(self) -> bytearray:
        if self.xstate_cache is None:
            self._require_stopped()
            self.xstate_cache = self.proc.hub.call(native.getxstate, self.tid)
        return self.xstate_cache

    def xstate_dirty(self) -> None:
        self.xstate_changed = True

    def _require_stopped(self) -> None:
        if self.state is _DEAD:
            raise ProcessDeadError(f"thread {self.tid} is dead: its registers are gone")
        if self.state is not _STOPPED:
            raise ProcessRunningError(
                f"thread {self.tid} is running (or blocked in vfork); stop it before reading registers")

    # --- helpers for the runtime ---
    def rip(self) -> int:
        return _u64(self.gpr(), RIP_OFFSET)[0]

    def set_rip(self, value: int) -> None:
        self.gpr()[RIP_OFFSET:RIP_OFFSET + 8] = value.to_bytes(8, "little")
        self.gpr_changed = True

    def read_gpr(self, offset: int) -> int:
        """The 8-byte register at `offset`, signed."""
        return _s64(self.gpr(), offset)[0]

    def write_gpr(self, offset: int, value: int) -> None:
        self.gpr()[offset:offset + 8] = (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        self.gpr_changed = True

    def use_registers(self, gpr: bytearray, changed: bool) -> None:
        """Take registers fetched by the caller (e.g. with rip already moved)."""
        self.gpr_cache = gpr
        self.gpr_changed = changed
        self.xstate_cache = None
        self.xstate_changed = False

    def flush(self) -> None:
        """Write changed registers back before the task runs again, and forget
        the cache (the task is about to change them)."""
        if self.gpr_changed and self.gpr_cache is not None:   # changed: a cache to write
            native.setregs(self.tid, self.gpr_cache)
            self.gpr_changed = False
        if self.xstate_changed and self.xstate_cache is not None:
            native.setxstate(self.tid, self.xstate_cache)
            self.xstate_changed = False
        self.gpr_cache = None
        self.xstate_cache = None

    def forget_registers(self) -> None:
        self.gpr_cache = None
        self.xstate_cache = None
        self.gpr_changed = False
        self.xstate_changed = False

    def forget_stop(self) -> None:
        """Drop everything tether was doing with the thread at a stop: the
        event kept for later, a step under way, the signal to deliver, the
        syscall it was in, and its registers read (it was let go, e.g. to
        another debugger, and will be seen afresh)."""
        self.pending = None
        self.stepping = None
        self.step_address = None
        self.deliver_signal = 0
        self.rf_on_resume = False
        self.in_syscall = False
        self.syscall_nr = None
        self.fake_return = None
        self.stop_reason = None
        self.forget_registers()
