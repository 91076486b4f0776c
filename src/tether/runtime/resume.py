"""Resuming stopped threads, and stopping whole processes.

Runs only on the tracer thread. `resume(task)` is the one way a stopped
thread goes on: the tracker's gate says whether it may (its process may be
held for the user, or for another thread's step-over, or it has an event
pending), and `restart` decides how, in one native call when it can: a
breakpoint's displaced instruction emulated with the register write-back and
the restart in the same call, or the registers written back with the
restart. Anything else (a signal to deliver, a job-control stop to keep, an
instruction that must be single-stepped with its int3 lifted) takes the
longer way through the same function.

`stop_process` is the all-stop: every thread is interrupted, and the process
is reported stopped when the tracker says every thread that can stop has."""
import errno
import struct

from .. import _native as native
from ..arch.amd64 import debugregs
from ..ptrace import (
    PTRACE_CONT,
    PTRACE_INTERRUPT,
    PTRACE_LISTEN,
    PTRACE_SINGLESTEP,
    PTRACE_SYSCALL,
)
from ..state.states import (
    PROC_RUNNING,
    PROC_STARTING,
    PROC_STEPPING,
    PROC_STOPPED,
    PROC_STOPPING,
    TASK_LISTENING,
    TASK_RUNNING,
    TASK_STOPPED,
)
from ..state.task import EFLAGS_OFFSET
from . import decision_log, tracker
from .displaced import NOT_DISPLACED, WAITING, Displacer
from .emulate import emulate_displaced
from .tracker import (
    GATE_HELD,
    GATE_KEEP_STOPPED,
    GATE_PENDING,
    GATE_RESTART,
    STEP_DISPLACED,
    resume_gate,
    step_over_address,
)

EFLAGS_RF = 1 << 16

resume_over = native.resume_over
resume = native.resume
_u64 = struct.Struct("<Q").unpack_from


class Resumer:
    def __init__(self):
        # Set by the dispatcher: handles an event a thread reported while it
        # was held (task.pending), when the thread may go on.
        self.handle_pending = None
        # Set by the session: called when an all-stop completes for a process
        # that must be let go then (follow-fork-mode child + detach-on-fork).
        self.detach = None
        self.displacer = Displacer(self)

    # ------------------------------------------------------------------ one thread
    def resume(self, task, gate_checked: bool = False) -> None:
        """Let a stopped task go on, unless its process is (being) stopped for
        the user or held (the tracker's gate); an event it reported meanwhile
        is handled first. Restarts it in one native call when it can.
        `restart(task)` is the same without the gate (the owner of a
        step-over lock, a user's single step)."""
        if not gate_checked:
            gate = resume_gate(task)
            if gate is not GATE_RESTART:
                if gate is GATE_PENDING:
                    ev = task.pending
                    task.pending = None
                    self.handle_pending(task, ev)
                elif gate is GATE_HELD:
                    self.check_step_lock(task.proc)
                elif gate is GATE_KEEP_STOPPED:
                    self.check_all_stopped(task.proc)
                return
        proc = task.proc
        if task.dr_dirty:
            if proc.hw_used:
                self.apply_debug_registers(task)
            else:
                task.dr_dirty = False  # (nothing to write)
        sig = task.deliver_signal
        if task.group_stopped and not sig and task.stepping is None:
            # Job control stopped it (SIGSTOP/SIGTSTP...): keep it stopped like
            # an untraced process, but hear about SIGCONT (PTRACE_LISTEN).
            task.flush()
            self.let_run(task, PTRACE_LISTEN)
            task.state = TASK_LISTENING
            if decision_log.ON:
                decision_log.restarted(task, PTRACE_LISTEN, 0, "job-control stopped")
            return
        # Under our seccomp filter a syscall's entry is a seccomp stop: only
        # its exit stop is asked for (in_syscall: its entry was seen);
        # otherwise the thread runs without syscall stops (seccomp_bpf.py).
        request = PTRACE_SYSCALL if proc.trace_syscalls and (task.in_syscall or not proc.seccomp) \
            else PTRACE_CONT
        installed = proc.aspace.installed
        emulated_and_resumed = False
        if installed and task.stepping is None:
            gpr = task.gpr_cache or task.load_gpr()
            rip = step_over_address(installed, gpr)
            if rip is not None:
                # Resuming on one of our int3s (its hit was reported): run the
                # original instruction instead. Emulated when we can (no extra
                # stop, and the int3 stays armed for the other threads), with
                # the register write-back and the restart in the same call;
                # otherwise run it out of line in the displaced-step slot
                # (displaced.py: the int3 stays armed too), and failing that
                # lift the int3, single-step, and put it back.
                aspace = proc.aspace
                # The emulator decodes x86-64 code only (it refuses a 32-bit
                # thread by its cs too): other architectures single-step.
                emulates = proc.arch.emulates_step_over
                try:
                    code = aspace.code.get(rip) or aspace.instruction_at(rip)
                    if emulates and not (sig or task.rf_on_resume or task.xstate_changed):
                        emulated_and_resumed = resume_over(task.tid, request, gpr, code)
                    if not emulated_and_resumed and not (emulates and emulate_displaced(task, code)):
                        how = NOT_DISPLACED if sig or proc.step_lock is task \
                            else self.displacer.start(task, rip, code, task.gpr())
                        if how == WAITING:
                            if decision_log.ON:
                                decision_log.decided(proc, f"tid {task.tid} waits for the "
                                                           "displaced-step slot")
                            return  # stays stopped until the slot is free
                        if how == NOT_DISPLACED:
                            if proc.step_lock is not task and self.hold_other_threads(task):
                                if decision_log.ON:
                                    decision_log.decided(proc, f"threads held for tid {task.tid} to "
                                                               f"step over the breakpoint at {rip:#x}")
                                return  # steps once every other thread is held
                            aspace.lift(rip)
                            task.stepping = "over"
                            task.step_address = rip
                except ProcessLookupError:
                    # Killed while stopped (e.g. SIGKILL from outside): its
                    # death report is on its way.
                    task.state = TASK_RUNNING
                    return
        if not emulated_and_resumed:
            if task.stepping is not None and task.stepping is not STEP_DISPLACED:
                request = PTRACE_SINGLESTEP
            if task.rf_on_resume:
                # Resume past a hardware execute breakpoint without re-triggering
                # it (EFLAGS.RF, Intel SDM 17.3.1.1).
                task.rf_on_resume = False
                gpr = task.load_gpr()
                eflags = _u64(gpr, EFLAGS_OFFSET)[0]
                if not eflags & EFLAGS_RF:  # (the kernel usually set it already)
                    gpr[EFLAGS_OFFSET:EFLAGS_OFFSET + 8] = (eflags | EFLAGS_RF).to_bytes(8, "little")
                    task.gpr_changed = True
            if sig:
                task.deliver_signal = 0
            # The register write-back and the restart in one call.
            gpr = task.gpr_cache if task.gpr_changed else None
            try:
                if task.xstate_changed:
                    task.flush()
                    gpr = None
                resume(task.tid, request, sig, gpr)
            except OSError as e:
                # Killed while stopped (e.g. SIGKILL from outside): its death
                # report is on its way.
                if e.errno != errno.ESRCH:
                    raise
        if decision_log.ON:
            decision_log.restarted(task, request, sig, "breakpoint's instruction emulated"
                                   if emulated_and_resumed else "stepping" if task.stepping else "")
        # It runs: what was read or changed at its stop is gone.
        task.state = TASK_RUNNING
        task.gpr_cache = task.xstate_cache = None
        task.gpr_changed = False
        task.stop_reason = None
        proc.run_epoch += 1

    def restart(self, task) -> None:
        """Restart `task` without asking the gate: the owner of a step-over
        lock once the others are held, a user's single step."""
        self.resume(task, True)

    def let_run(self, task, request=PTRACE_CONT) -> None:
        """Restart a task with no questions asked (a thread about to exit; a
        job-stopped one with PTRACE_LISTEN). ESRCH: it is dying, and its
        death report follows."""
        try:
            native.ptrace(request, task.tid, 0, 0)
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise
        task.state = TASK_RUNNING

    # ------------------------------------------------------------------ step-over lock
    # While a breakpoint's int3 is lifted for one single step, another thread
    # running through that address would miss it. So the other threads of the
    # process are held (interrupted, their events kept for later) during the
    # step, then released.
    def hold_other_threads(self, task) -> bool:
        proc = task.proc
        others = [t for t in proc.tasks.values() if t is not task and not t.dead]
        if not others:
            return False
        # Also the threads stopped right now: resume() keeps them stopped
        # while the lock is held, whoever would have resumed them.
        proc.step_lock = task
        for t in others:
            if tracker.runs(t):
                interrupt(t)
        self.check_step_lock(proc)
        return True

    def check_step_lock(self, proc) -> None:
        if tracker.step_lock_ready(proc):
            try:
                self.restart(proc.step_lock)  # everyone is held: now lift and step
            except ProcessLookupError:
                self.release_step_lock(proc)

    def release_step_lock(self, proc) -> None:
        owner = proc.step_lock
        if owner is None:
            return
        proc.step_lock = None
        # The held threads go on; the owner's own step-done stop is still
        # being handled (it may have ended on another breakpoint).
        for t in list(proc.tasks.values()):
            if t is not owner and t.state is TASK_STOPPED:
                try:
                    self.resume(t)
                except ProcessLookupError:
                    pass  # killed meanwhile: its death report follows

    # ------------------------------------------------------------------ all-stop
    def stop_process(self, proc, task=None) -> None:
        """Stop every thread of `proc` and then report it stopped to the user."""
        if task is not None:
            proc.last_task = task
        if proc.state is PROC_STARTING:
            # A followed child whose first stop has not come yet: it will be
            # stopped then, but an on_fork hook may resume it at once, so
            # remember that it must be stopped after that (births.first_stop).
            proc.stop_when_started = True
            return
        if proc.state is PROC_RUNNING or proc.state is PROC_STEPPING:
            if decision_log.ON:
                decision_log.decided(proc, "all-stop: interrupting every running thread")
            proc.set_state(PROC_STOPPING)
            for t in tracker.to_interrupt_for_all_stop(proc):
                interrupt(t)
        self.check_all_stopped(proc)

    def check_all_stopped(self, proc) -> None:
        if proc.state is not PROC_STOPPING or not tracker.all_stopped(proc):
            return
        proc.set_state(PROC_STOPPED)
        if proc.detach_when_stopped:
            proc.detach_when_stopped = False
            self.detach(proc)
            return
        prefetch_registers(proc.last_task)

    # ------------------------------------------------------------------ debug registers
    def apply_debug_registers(self, task) -> None:
        """Write the process's hardware breakpoints into one thread. Each
        thread has its own debug registers, and a new thread starts with them
        cleared (docs/edge-cases.md §8), so this runs for every thread before it runs."""
        task.dr_dirty = False
        slots = task.proc.hw_slots
        if not task.proc.hw_used:
            return
        try:
            native.pokeuser(task.tid, debugregs.DR7_OFFSET, 0)
            entries: list[tuple[str, int] | None] = []
            for i, bp in enumerate(slots):
                if bp is not None and bp.enabled:
                    native.pokeuser(task.tid, debugregs.debugreg_offset(i), bp.address)
                    entries.append((bp.condition, bp.length))
                else:
                    entries.append(None)
            native.pokeuser(task.tid, debugregs.DR7_OFFSET, debugregs.encode_dr7(entries))
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise


def prefetch_registers(task) -> None:
    """At a stop handed to the script: read the registers of the thread that
    stopped the process now, on the tracer thread, if its stop did not read
    them already (a breakpoint's did). ptrace answers only the tracer thread,
    so the script's first look at them (it nearly always looks: regs,
    syscall arguments) would otherwise cost a hand-off each way; this costs
    one PTRACE_GETREGS."""
    if task is not None and task.gpr_cache is None and task.state is TASK_STOPPED:
        try:
            task.load_gpr()
        except OSError:
            pass  # killed meanwhile: its death report follows


def interrupt(task) -> None:
    """PTRACE_INTERRUPT; ESRCH means it is dying, and its death report follows."""
    try:
        native.ptrace(PTRACE_INTERRUPT, task.tid, 0, 0)
    except OSError as e:
        if e.errno != errno.ESRCH:
            raise
