"""What tether does at each stop of a thread it traces, and how it resumes it.

Runs only on the tracer thread. The life cycle (new threads and processes,
exec, death) is in session.py; this module handles the stops of a live thread:
breakpoints, single steps, syscalls, signals, group-stops, interrupts, and the
"all-stop" that stops every thread of a process before the user gets control.
"""
import errno
import signal
import sys
import traceback

from .. import _native as native
from ..arch.amd64 import debugregs
from ..events.decode import Stop
from ..ptrace import (PTRACE_CONT, PTRACE_INTERRUPT, PTRACE_LISTEN, PTRACE_SINGLESTEP,
                      PTRACE_SYSCALL)
from ..state.address_space import INT3
from ..state.task import EFLAGS_OFFSET, ORIG_RAX_OFFSET, RAX_OFFSET, RIP_OFFSET
from ..thread_context import context_of
from .emulate import emulate_displaced

DR6_OFFSET = debugregs.debugreg_offset(6)
DR7_OFFSET = debugregs.debugreg_offset(7)
EFLAGS_RF = 1 << 16
SYSCALL_ENTRY, SYSCALL_EXIT = 1, 2
SYS_PTRACE, PTRACE_TRACEME = 101, 0
# rdi rsi rdx r10 r8 r9 in struct user_regs_struct: the syscall argument registers.
SYSCALL_ARG_OFFSETS = (14 * 8, 13 * 8, 12 * 8, 7 * 8, 9 * 8, 8 * 8)


class Control:
    def __init__(self, session):
        self.session = session

    # ------------------------------------------------------------------ resuming
    def ptrace_resume(self, task, request, sig=0) -> bool:
        """Restart a stopped task. ESRCH means it is dying (e.g. SIGKILLed
        while stopped): its death will be reported by wait, so just note it."""
        try:
            native.ptrace(request, task.tid, 0, sig)
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise
            task.stopped = False
            return False
        task.stopped = False
        return True

    def resume(self, task) -> None:
        """Let a stopped task go on, unless its process is (being) stopped for
        the user; an event it reported meanwhile is handled first."""
        if task.dead or not task.stopped:
            return
        proc = task.proc
        if proc.step_lock is not None and proc.step_lock is not task:
            self.check_step_lock(proc)  # held while another thread steps over a breakpoint
            return
        state = proc._state
        if state != "running" and not (state == "stepping" and task.stepping is not None):
            if state in ("stopping", "stopped", "stepping"):
                self.check_all_stopped(proc)
            return
        if task.pending is not None:
            kind, value = task.pending
            task.pending = None
            self.on_stop(task, kind, value)
            return
        self.restart(task)

    def restart(self, task) -> None:
        proc = task.proc
        if task.dr_dirty:
            self.apply_debug_registers(task)
        sig = task.deliver_signal
        if task.group_stopped and not sig and task.stepping is None:
            # Job control stopped it (SIGSTOP/SIGTSTP...): keep it stopped like
            # an untraced process, but hear about SIGCONT (PTRACE_LISTEN).
            task.flush()
            try:
                native.ptrace(PTRACE_LISTEN, task.tid, 0, 0)
            except OSError as e:
                if e.errno != errno.ESRCH:
                    raise
            task.stopped = False
            task.listening = True
            return
        request = PTRACE_SYSCALL if proc.trace_syscalls else PTRACE_CONT
        installed = proc.aspace.installed
        if installed and task.stepping is None:
            gpr = task.gpr()
            rip = int.from_bytes(gpr[RIP_OFFSET:RIP_OFFSET + 8], "little")
            original = installed.get(rip)
            if original is not None and _inside_syscall(gpr):
                # Stopped inside a system call (its entry, a fork/clone event,
                # or interrupted while blocked): rip is already past the
                # `syscall` instruction, but the call finishes or restarts
                # (rip moved back by the kernel) before the instruction at rip
                # runs. Stepping over it now would run it too early (before
                # the result is in rax) or at the wrong place, and skip the
                # hit: let the int3 trap when the thread gets there.
                original = None
            if original is not None:
                # Resuming on one of our int3s: run the original instruction
                # instead. Emulate it when we can (no extra stop, and the
                # breakpoint stays armed for the other threads); otherwise
                # lift the int3, single-step, and put it back.
                try:
                    code = proc.aspace.code.get(rip)
                    if code is None:
                        code = bytes((original,)) + proc.mem.read(rip + 1, 15)
                        proc.aspace.code[rip] = code
                    if not sig and not task.rf_on_resume and not task._xstate_dirty \
                            and native.resume_over(task.tid, request, gpr, code):
                        # Emulated, registers written back and restarted: one
                        # call (the cont() after a breakpoint hit).
                        self._resumed(task)
                        return
                    emulated = emulate_displaced(task, code)
                except ProcessLookupError:
                    # Killed while stopped (e.g. SIGKILL from outside): its
                    # death report is on its way.
                    task.stopped = False
                    return
                if not emulated:
                    if proc.step_lock is not task and self.hold_other_threads(task):
                        return  # steps once every other thread is held
                    proc.mem.write(rip, bytes((original,)))
                    task.stepping = "over"
                    task.step_address = rip
        if task.stepping is not None:
            request = PTRACE_SINGLESTEP
        if task.rf_on_resume:
            # Resume past a hardware execute breakpoint without re-triggering it
            # (EFLAGS.RF, Intel SDM 17.3.1.1).
            task.rf_on_resume = False
            gpr = task.gpr()
            eflags = int.from_bytes(gpr[EFLAGS_OFFSET:EFLAGS_OFFSET + 8], "little")
            if not eflags & EFLAGS_RF:  # (the kernel usually set it already)
                gpr[EFLAGS_OFFSET:EFLAGS_OFFSET + 8] = (eflags | EFLAGS_RF).to_bytes(8, "little")
                task.gpr_dirty()
        task.stop_reason = None
        task.deliver_signal = 0
        proc.run_epoch += 1
        # The register write-back and the restart in one call (the common case).
        gpr = task._gpr if task._gpr_dirty else None
        try:
            if task._xstate_dirty:
                task.flush()
                gpr = None
            native.resume(task.tid, request, sig, gpr)
        except OSError as e:
            # Killed while stopped (e.g. SIGKILL from outside): its death
            # report is on its way.
            if e.errno != errno.ESRCH:
                raise
        task.stopped = False
        task._gpr = task._xstate = None
        task._gpr_dirty = False

    # ------------------------------------------------------------------ step-over lock
    # While a breakpoint's int3 is lifted for one single step, another thread
    # running through that address would miss it. So the other threads of the
    # process are held (interrupted, their events kept for later) during the
    # step, then released.
    @staticmethod
    def _runs(t) -> bool:
        return not (t.dead or t.stopped or t.in_vfork or t.exiting or t.listening)

    def hold_other_threads(self, task) -> bool:
        proc = task.proc
        others = [t for t in proc.tasks.values() if t is not task and not t.dead]
        if not others:
            return False
        # Also the threads stopped right now: resume() keeps them stopped
        # while the lock is held, whoever would have resumed them.
        proc.step_lock = task
        for t in others:
            if not self._runs(t):
                continue
            _interrupt(t)
        self.check_step_lock(proc)
        return True

    def check_step_lock(self, proc) -> None:
        owner = proc.step_lock
        if owner is None or not owner.stopped or owner.stepping is not None:
            return
        for t in proc.tasks.values():
            if t is not owner and (self._runs(t) or t.awaiting_first_stop):
                return
        try:
            self.restart(owner)  # everyone is held: now lift and step
        except ProcessLookupError:
            self.release_step_lock(proc)

    def release_step_lock(self, proc) -> None:
        if proc.step_lock is None:
            return
        proc.step_lock = None
        for t in list(proc.tasks.values()):
            if t.stopped and not t.dead:
                try:
                    self.resume(t)
                except ProcessLookupError:
                    pass  # killed meanwhile: its death report follows

    # ------------------------------------------------------------------ all-stop
    def stop_process(self, proc, task=None) -> None:
        """Stop every thread of `proc` and then report it stopped to the user."""
        if task is not None:
            proc.last_task = task
        if proc._state == "starting":
            # A followed child whose first stop has not come yet: it will be
            # stopped then, but an on_fork hook may resume it at once, so
            # remember that it must be stopped after that (Session.first_stop).
            proc.stop_when_started = True
            return
        if proc._state in ("running", "stepping"):
            proc.state = "stopping"
            for t in proc.tasks.values():
                if t.dead or t.in_vfork or t.exiting or t.awaiting_first_stop:
                    continue
                if not t.stopped:
                    _interrupt(t)
        self.check_all_stopped(proc)

    def check_all_stopped(self, proc) -> None:
        if proc._state != "stopping":
            return
        for t in proc.tasks.values():
            if t.dead or t.in_vfork or t.exiting:
                continue
            if not t.stopped or t.awaiting_first_stop:
                return
        proc.state = "stopped"
        if proc.detach_when_stopped:
            proc.detach_when_stopped = False
            self.session.detach(proc)

    # ------------------------------------------------------------------ stops
    def on_stop(self, task, kind, value) -> None:
        proc = task.proc
        if proc.step_lock is not None and proc.step_lock is not task \
                and kind in (Stop.SIGNAL, Stop.SYSCALL, Stop.TRAP):
            task.pending = (kind, value)  # held: handled when the step is done
            self.check_step_lock(proc)
            return
        if proc._state in ("stopping", "stopped") and kind in (Stop.SIGNAL, Stop.SYSCALL, Stop.TRAP) \
                and task.stepping is None:
            # Seen while stopping the process for the user: keep it for the next resume.
            task.pending = (kind, value)
            self.check_all_stopped(proc)
            return
        if kind is Stop.TRAP:
            self.on_trap(task)
        elif kind is Stop.SYSCALL:
            self.on_syscall(task)
        elif kind is Stop.SIGNAL:
            self.on_signal(task, value)
        elif kind is Stop.INTERRUPT:
            self.on_interrupt(task)
        elif kind is Stop.GROUP_STOP:
            task.group_stopped = True
            self.resume(task)
        elif kind in (Stop.FORK, Stop.VFORK, Stop.CLONE):
            self.session.on_new_child(task, kind)
        elif kind is Stop.EXEC:
            self.session.on_exec(task)
        elif kind is Stop.VFORK_DONE:
            self.session.on_vfork_done(task)
        elif kind is Stop.EXIT_EVENT:
            # About to exit: nothing to decide, and holding it could hold up
            # an exit_group or exec; let it die and wait for its death report.
            task.exiting = True
            self.ptrace_resume(task, PTRACE_CONT, 0)
            self.check_all_stopped(proc)
        else:  # SECCOMP and anything new
            self.resume(task)

    def on_interrupt(self, task) -> None:
        proc = task.proc
        if task.group_stopped and proc._state == "running":
            # After PTRACE_LISTEN this stop means the group-stop ended (SIGCONT).
            task.group_stopped = False
        if proc._state in ("stopping", "stopped"):
            self.check_all_stopped(proc)
        else:
            self.resume(task)  # a late PTRACE_INTERRUPT: nothing to report

    def fast_breakpoint(self, task) -> bool:
        """The hot path: a SIGTRAP stop of a running thread on one of the
        process's own software breakpoints. Does the work of dispatch ->
        on_stop -> on_trap -> hit -> resume with a fraction of the calls.
        Returns False, having changed nothing, when the stop needs the
        general path (stepping, hardware breakpoints, a held or stopping
        process, or a SIGTRAP that is not one of our breakpoints)."""
        proc = task.proc
        if (proc._state != "running" or task.stepping is not None or task.pending is not None
                or task.awaiting_first_stop or proc.step_lock is not None):
            return False
        if proc.hw_used:
            dr6 = native.peekuser(task.tid, DR6_OFFSET)
            if dr6 & 0xF:
                return self.fast_hardware_breakpoint(task, dr6)
        gpr, address = native.trap_regs(task.tid)  # (rip already moved back onto the int3)
        bp = proc.breakpoints.get(address)
        if bp is None or not bp.enabled or bp.hardware or address not in proc.aspace.installed:
            return False
        task.stopped = True
        task.listening = False
        task._xstate = None
        task._xstate_dirty = False
        task._gpr = gpr
        task._gpr_dirty = True
        bp.hit_count += 1
        task.stop_reason = bp
        callback = bp.callback
        if callback is None:
            self.stop_process(proc, task)
            return True
        try:  # (run_callback, inlined as the rest: this runs at every hit)
            callback(task.context or context_of(task), bp)
        except Exception as e:
            self.callback_raised(proc, e)
        # Resume over the displaced instruction in one call unless the
        # callback moved rip or changed what the general resume acts on.
        code = proc.aspace.code.get(address)
        if (code is not None and task._gpr is gpr
                and int.from_bytes(gpr[RIP_OFFSET:RIP_OFFSET + 8], "little") == address
                and self._resume_as_it_stopped(task, code)):
            return True
        # The instruction is not one we emulate: the general resume.
        self._resume_after_callback(task, bp)
        return True

    # The fast paths' common end.
    def _resume_as_it_stopped(self, task, code=None) -> bool:
        """Resume `task` in one native call if nothing (a callback) changed
        that the general resume would act on: with `code`, over that
        displaced instruction at rip (emulated); without, as it is (the
        general registers written back if they changed). Returns False,
        having done nothing, when the general resume is needed. Inlined
        checks: this runs at every breakpoint hit and syscall stop."""
        proc = task.proc
        if (task.rf_on_resume or not task.stopped or task.dead or task._xstate_dirty
                or proc._state != "running" or proc.step_lock is not None
                or task.pending is not None or task.stepping is not None
                or task.deliver_signal or task.group_stopped or task.dr_dirty):
            return False
        request = PTRACE_SYSCALL if proc.trace_syscalls else PTRACE_CONT
        try:
            if code is None:
                native.resume(task.tid, request, 0, task._gpr if task._gpr_dirty else None)
            elif not native.resume_over(task.tid, request, task._gpr, code):
                return False
        except ProcessLookupError:
            pass  # killed while stopped: its death report follows
        # (_resumed, inlined)
        task.stopped = False
        task._gpr = task._xstate = None
        task._gpr_dirty = False
        task.stop_reason = None
        proc.run_epoch += 1
        return True

    @staticmethod
    def _resumed(task) -> None:
        task.stopped = False
        task._gpr = task._xstate = None
        task._gpr_dirty = False
        task.stop_reason = None
        task.proc.run_epoch += 1

    def _resume_after_callback(self, task, event) -> None:
        task.stop_reason = event
        self.resume(task)
        if task.proc.step_lock is not None:
            self.check_step_lock(task.proc)

    def fast_hardware_breakpoint(self, task, dr6) -> bool:
        """fast_breakpoint's twin for a hardware execute breakpoint with a
        callback (the checks on the process are done by the caller). The
        kernel sets EFLAGS.RF in the saved registers of a thread stopped by an
        execute breakpoint (so that resuming does not hit it again), so the
        common case resumes without writing any register."""
        proc = task.proc
        slot = (dr6 & 0xF).bit_length() - 1
        if dr6 & 0xF != 1 << slot:
            return False  # not exactly one debug register: the general path
        bp = proc.hw_slots[slot]
        if bp is None or not bp.enabled or bp.condition != "x" or bp.callback is None:
            return False
        # DR6 is sticky on older kernels: clear it so the next trap reads true.
        native.pokeuser(task.tid, DR6_OFFSET, 0)
        task.stopped = True
        task.listening = False
        task.forget_registers()
        bp.hit_count += 1
        task.stop_reason = bp
        self.run_callback(task, bp.callback, bp)
        if not task._gpr_dirty:
            gpr = task._gpr if task._gpr is not None else native.getregs(task.tid)
            rip = int.from_bytes(gpr[RIP_OFFSET:RIP_OFFSET + 8], "little")
            if int.from_bytes(gpr[EFLAGS_OFFSET:EFLAGS_OFFSET + 8], "little") & EFLAGS_RF \
                    and rip not in proc.aspace.installed and self._resume_as_it_stopped(task):
                return True
        task.rf_on_resume = True
        self._resume_after_callback(task, bp)
        return True

    def on_trap(self, task) -> None:
        proc = task.proc
        if task.stepping is not None:
            self.step_finished(task)
            return
        if proc.hw_used and any(proc.hw_slots):
            dr6 = native.peekuser(task.tid, DR6_OFFSET)
            slots = debugregs.triggered_slots(dr6)
            if slots:
                native.pokeuser(task.tid, DR6_OFFSET, 0)
                bp = proc.hw_slots[slots[0]]
                if bp is not None:
                    if bp.condition == "x":
                        task.rf_on_resume = True
                    if bp.enabled:
                        self.hit(task, bp)
                        return
                self.resume(task)
                return
        gpr = task.gpr()
        address = int.from_bytes(gpr[RIP_OFFSET:RIP_OFFSET + 8], "little") - 1
        if address in proc.aspace.installed:
            gpr[RIP_OFFSET:RIP_OFFSET + 8] = address.to_bytes(8, "little")
            task._gpr_dirty = True
            bp = proc.breakpoints.get(address)
            if bp is not None and bp.enabled and not bp.hardware:
                self.hit(task, bp)
                return
            tag = proc.internal_breakpoints.get(address)
            if tag is not None:
                task.stop_reason = tag
                self.stop_process(proc, task)
                return
            # Another process's breakpoint in shared memory, or a stale one.
            self.resume(task)
            return
        self.on_signal(task, signal.SIGTRAP)

    def step_finished(self, task) -> None:
        proc = task.proc
        address = task.step_address
        kind = task.stepping
        task.stepping = None
        task.step_address = None
        if address is not None and address in proc.aspace.installed:
            proc.mem.write(address, bytes((INT3,)))
        if proc.hw_used and any(proc.hw_slots):
            native.pokeuser(task.tid, DR6_OFFSET, 0)
        if proc.step_lock is task:
            self.release_step_lock(proc)
        if kind == "user":
            task.stop_reason = "step"
            proc.last_task = task
            proc.state = "stopped"
            return
        self.resume(task)

    def hit(self, task, event) -> None:
        event.hit_count += 1
        task.stop_reason = event
        if event.callback is not None:
            self.run_callback(task, event.callback, event)
            task.stop_reason = event
            self.resume(task)
        else:
            self.stop_process(task.proc, task)

    def run_callback(self, task, callback, event) -> None:
        try:
            callback(task.context or context_of(task), event)
        except Exception as e:
            self.callback_raised(task.proc, e)

    @staticmethod
    def callback_raised(proc, e) -> None:
        # Reported to the user's script at its next command.
        if proc.pending_error is None:
            proc.pending_error = e
        print(f"tether: a callback raised in process {proc.pid}:", file=sys.stderr)
        traceback.print_exception(e, file=sys.stderr)

    # ------------------------------------------------------------------ syscalls
    def on_syscall(self, task) -> None:
        proc = task.proc
        op, nr, args, rval, _ = native.get_syscall_info(task.tid)
        if op == SYSCALL_ENTRY:
            task.in_syscall = True
            task.syscall_nr = nr
            if nr == SYS_PTRACE and args[0] == PTRACE_TRACEME and proc.config.escape_antidebug:
                # Pretend PTRACE_TRACEME succeeded: skip the call (orig_rax = -1
                # makes the kernel skip it) and return 0 at its exit stop.
                self._write_gpr(task, ORIG_RAX_OFFSET, -1)
                task.fake_return = 0
            handler = proc.syscall_handlers.get(nr) or proc.syscall_all
            if handler is not None and handler.enabled:
                if handler.hijack_to is not None:
                    self._hijack(task, handler)
                    handler = self._recursive_handler(proc, handler)
                    if handler is None:
                        self.resume(task)
                        return
                task.stop_reason = handler
                if handler.on_enter_user is not None:
                    self.run_callback(task, handler.on_enter_user, handler)
                elif handler.on_exit_user is None:
                    self.stop_process(proc, task)
                    return
            if proc.pprint_syscalls:
                self.session.printer.on_enter(task, nr, args)
            self._resume_from_syscall(task)
        elif op == SYSCALL_EXIT:
            nr = task.syscall_nr if task.in_syscall else self._read_gpr(task, ORIG_RAX_OFFSET)
            task.in_syscall = False
            if task.fake_return is not None:
                self._write_gpr(task, RAX_OFFSET, task.fake_return)
                task.fake_return = None
            handler = proc.syscall_handlers.get(nr) or proc.syscall_all
            if proc.pprint_syscalls:
                self.session.printer.on_exit(task, nr, self._read_gpr(task, RAX_OFFSET))
            if handler is not None and handler.enabled and handler.hijack_to is None:
                handler.hit_count += 1
                task.stop_reason = handler
                if handler.on_exit_user is not None:
                    self.run_callback(task, handler.on_exit_user, handler)
                elif handler.on_enter_user is None:
                    self.stop_process(proc, task)
                    return
            self._resume_from_syscall(task)
        else:
            self.resume(task)

    def _resume_from_syscall(self, task) -> None:
        """resume() after a syscall stop: one call when nothing needs the
        general resume (no breakpoint that could sit at rip, nothing pending,
        nothing changed but the general registers)."""
        if task.proc.aspace.installed or not self._resume_as_it_stopped(task):
            self.resume(task)

    def _hijack(self, task, handler) -> None:
        handler.hit_count += 1
        self._write_gpr(task, ORIG_RAX_OFFSET, handler.hijack_to)
        for index, value in (handler.hijack_args or {}).items():
            self._write_gpr(task, SYSCALL_ARG_OFFSETS[index], value)
        task.syscall_nr = handler.hijack_to

    def _recursive_handler(self, proc, handler):
        if not handler.recursive:
            return None
        nxt = proc.syscall_handlers.get(handler.hijack_to)
        if nxt is None or not nxt.enabled or nxt is handler:
            return None
        return nxt

    @staticmethod
    def _read_gpr(task, offset) -> int:
        return int.from_bytes(task.gpr()[offset:offset + 8], "little", signed=True)

    @staticmethod
    def _write_gpr(task, offset, value) -> None:
        task.gpr()[offset:offset + 8] = (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        task.gpr_dirty()

    # ------------------------------------------------------------------ signals
    def on_signal(self, task, sig) -> None:
        proc = task.proc
        if sig == signal.SIGCONT:
            for t in proc.tasks.values():
                t.group_stopped = False
        elif sig == signal.SIGCHLD:
            self.session.check_untraced_child(task)
        task.deliver_signal = sig
        catcher = proc.signal_catchers.get(sig)
        if catcher is None and sig not in (signal.SIGSTOP, signal.SIGKILL):
            catcher = proc.signal_all
        if catcher is not None and catcher.enabled:
            catcher.hit_count += 1
            task.stop_reason = catcher
            if catcher.hijack_to is not None:
                task.deliver_signal = catcher.hijack_to
                if catcher.recursive:
                    nxt = proc.signal_catchers.get(catcher.hijack_to)
                    if nxt is not None and nxt is not catcher and nxt.enabled:
                        nxt.hit_count += 1
                        catcher = nxt
                        task.stop_reason = nxt
            if catcher.callback is not None:
                # The callback sees the signal even if it is blocked (it may change it).
                self.run_callback(task, catcher.callback, catcher)
            elif catcher.hijack_to is None:
                if task.deliver_signal in proc.signals_to_block:
                    task.deliver_signal = 0
                self.stop_process(proc, task)
                return
            if task.deliver_signal in proc.signals_to_block:
                task.deliver_signal = 0
        elif sig in proc.signals_to_block:
            task.deliver_signal = 0
        self.resume(task)

    # ------------------------------------------------------------------ debug registers
    def apply_debug_registers(self, task) -> None:
        """Write the process's hardware breakpoints into one thread. Each
        thread has its own debug registers, and a new thread starts with them
        cleared (EDGE_CASES 8), so this runs for every thread before it runs."""
        task.dr_dirty = False
        slots = task.proc.hw_slots
        if not task.proc.hw_used:
            return
        try:
            native.pokeuser(task.tid, DR7_OFFSET, 0)
            entries = []
            for i, bp in enumerate(slots):
                if bp is not None and bp.enabled:
                    native.pokeuser(task.tid, debugregs.debugreg_offset(i), bp.address)
                    entries.append((bp.condition, bp.length))
                else:
                    entries.append(None)
            native.pokeuser(task.tid, DR7_OFFSET, debugregs.encode_dr7(entries))
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise


def _interrupt(task) -> None:
    """PTRACE_INTERRUPT; ESRCH means it is dying, and its death report follows."""
    try:
        native.ptrace(PTRACE_INTERRUPT, task.tid, 0, 0)
    except OSError as e:
        if e.errno != errno.ESRCH:
            raise


def _inside_syscall(gpr) -> bool:
    """orig_rax is the system call number from syscall entry until the return
    to user mode, and -1 for stops from any other kernel entry (int3, single
    step, interrupt): a thread whose orig_rax is not -1 is stopped in a
    syscall, even at its exit stop, where a restart may still move rip."""
    return int.from_bytes(gpr[ORIG_RAX_OFFSET:ORIG_RAX_OFFSET + 8], "little", signed=True) >= 0
