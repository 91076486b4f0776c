"""What tether does at each stop of a live thread: breakpoints (software and
hardware), the end of a single step, syscalls, signals, group-stops,
interrupts, exit stops. Runs only on the tracer thread; the dispatcher
(dispatch.py) hands each stop to one handler here or in tree.py, and every
handler ends in Resumer.resume (or stops the process for the user)."""
import signal

from .. import _native as native
from ..arch.amd64 import debugregs
from ..state.states import PROC_RUNNING, PROC_STOPPED, PROC_STOPPING, TASK_EXITING
from ..state.task import ORIG_RAX_OFFSET, RAX_OFFSET
from . import tracker
from .listener import callback_raised, thread_context
from .output_turns import OutputTurns
from .resume import prefetch_registers
from .tracker import STEP_DISPLACED
from . import trap_owner
from .trap_owner import TRAP_HIT, TRAP_SLOT, TRAP_STALE

syscall_stop = native.syscall_stop

PTRACE_TRACEME = 0


class Stops:
    def __init__(self, resumer, tree):
        self.resumer = resumer
        self.tree = tree
        self._resume = resumer.resume  # (bound once: called at every stop)
        self.printer = None  # the pprint_syscalls printer, set by the facade
        self.output = OutputTurns(resumer)  # output attribution's writers (output_turns.py)

    # ------------------------------------------------------------------ breakpoints
    def on_trap(self, task, ev) -> None:
        """A SIGTRAP stop that is not the end of one of our single steps."""
        proc = task.proc
        if proc.hw_used:
            slots = trap_owner.hardware_slots(task)
            if slots:
                bp = proc.hw_slots[slots[0]]
                if bp is not None:
                    if bp.condition == "x":
                        # The kernel sets EFLAGS.RF in the saved registers of a
                        # thread stopped by an execute breakpoint, so resuming
                        # does not hit it again; restart makes sure.
                        task.rf_on_resume = True
                    if bp.enabled:
                        self.hit(task, bp)
                        return
                self.resumer.resume(task)
                return
        # The registers with rip moved back by one, onto the int3 if it was one.
        gpr, address = native.trap_regs(task.tid)
        owner = trap_owner.software_trap(task, proc.aspace, address)
        if owner is TRAP_HIT:
            task.gpr_cache = gpr   # (rip moved back: written back at the restart)
            task.gpr_changed = True
            self.at_breakpoint(task, proc, address)
            return
        if owner is TRAP_SLOT:
            # Ours, never delivered; rip is past the slot's instruction
            # already, maybe on another breakpoint.
            if address + 1 in proc.aspace.installed:
                self.at_breakpoint(task, proc, address + 1)
            else:
                self.resumer.resume(task)
            return
        if owner is TRAP_STALE:
            # Ours, never delivered: rip back on the instruction, which now
            # runs for real.
            task.gpr_cache = gpr
            task.gpr_changed = True
            self.resumer.resume(task)
            return
        self.signal(task, signal.SIGTRAP)  # a real SIGTRAP

    def at_breakpoint(self, task, proc, address: int) -> None:
        """`task` (of `proc`) is stopped with rip on one of our int3s at
        `address`, before running it: it trapped on it, or a single step
        brought it there."""
        bp = proc.breakpoints.get(address)
        if bp is not None and bp.enabled and not bp.hardware:
            self.hit(task, bp)
            return
        tag = proc.internal_breakpoints.get(address)
        if tag is not None:
            task.stop_reason = tag
            self.resumer.stop_process(proc, task)
            return
        # Another process's breakpoint in memory we share, or a disabled one.
        self.resumer.resume(task)

    def on_step_done(self, task, ev) -> None:
        """The single step we asked for is done: the user's step, or ours over
        a breakpoint's lifted int3."""
        proc = task.proc
        if task.stepping is STEP_DISPLACED and not self.resumer.displacer.finish(task, ev):
            # It left the displaced-step slot at another stop (a signal, an
            # interrupt...), its registers put back: that stop is handled
            # now as if the thread had never been in the slot.
            self.resumer.handle_pending(task, ev)
            return
        address = task.step_address
        kind = task.stepping
        task.stepping = None
        task.step_address = None
        if address is not None:
            proc.aspace.rearm(address)
        if proc.hw_used and any(proc.hw_slots):
            native.pokeuser(task.tid, debugregs.DR6_OFFSET, 0)
        if proc.step_lock is task:
            self.resumer.release_step_lock(proc)
        if kind == "user":
            task.stop_reason = "step"
            proc.last_task = task
            proc.set_state(PROC_STOPPED)
            prefetch_registers(task)
            return
        rip = task.rip()
        if rip in proc.aspace.installed:
            # The step over one breakpoint ended on another one: that is a hit
            # (the int3 there was not run, so no trap will say so).
            self.at_breakpoint(task, proc, rip)
            return
        self.resumer.resume(task)

    def hit(self, task, event) -> None:
        event.hit_count += 1
        task.stop_reason = event
        callback = event.callback
        if callback is None:
            self.resumer.stop_process(task.proc, task)
            return
        self.run_callback(task, callback, event)
        task.stop_reason = event  # (if the callback stopped the process, this is why)
        self._resume(task)

    def run_callback(self, task, callback, event) -> None:
        proc = task.proc
        proc.in_callback += 1
        try:
            callback(task.context or thread_context(task), event)
        except Exception as e:
            callback_raised(proc, e)
            # A defined state for the script to find: the process stops at
            # the event whose callback failed (as gdb stops when a
            # breakpoint's stop() raises), and wait() raises the error.
            self.resumer.stop_process(proc, task)
        finally:
            proc.in_callback -= 1

    # ------------------------------------------------------------------ syscalls
    def on_syscall(self, task, ev) -> None:
        proc = task.proc
        # The syscall's number at its entry, -1 at its exit (the kernel says
        # which: never counted, see docs/edge-cases.md §9).
        nr = syscall_stop(task.tid)
        if nr >= 0:
            task.in_syscall = True
            task.syscall_nr = nr
            if proc.output_watch is not None:
                self.output.at_entry(task, nr)  # a write waits for its turn when resumed
            if nr == proc.arch.sys_ptrace and proc.config.escape_antidebug \
                    and native.get_syscall_info(task.tid)[2][0] == PTRACE_TRACEME:
                # Pretend PTRACE_TRACEME succeeded: skip the call (orig_rax = -1
                # makes the kernel skip it) and return 0 at its exit stop.
                task.write_gpr(ORIG_RAX_OFFSET, -1)
                task.fake_return = 0
            handler = proc.syscall_handlers.get(nr) or proc.syscall_all
            if handler is not None and handler.enabled:
                if handler.hijack_to is not None:
                    handler = self._hijack_chain(task, proc, handler, nr)
                    if handler is None:
                        self._resume(task)
                        return
                task.stop_reason = handler
                if handler.on_enter_user is not None:
                    self.run_callback(task, handler.on_enter_user, handler)
                elif handler.on_exit_user is None:
                    self.resumer.stop_process(proc, task)
                    return
            if proc.pprint_syscalls:
                self.printer.on_enter(task, nr, native.get_syscall_info(task.tid)[2])
        elif nr == -1:
            if proc.output_watch is not None:
                self.output.at_exit(task)  # (the kernel's return value, before any handler)
            nr = task.syscall_nr if task.in_syscall else task.read_gpr(ORIG_RAX_OFFSET)
            task.in_syscall = False
            if task.fake_return is not None:
                task.write_gpr(RAX_OFFSET, task.fake_return)
                task.fake_return = None
            handler = proc.syscall_handlers.get(nr) or proc.syscall_all
            if proc.pprint_syscalls:
                self.printer.on_exit(task, nr, task.read_gpr(RAX_OFFSET))
            if handler is not None and handler.enabled and handler.hijack_to is None:
                handler.hit_count += 1
                task.stop_reason = handler
                if handler.on_exit_user is not None:
                    self.run_callback(task, handler.on_exit_user, handler)
                elif handler.on_enter_user is None:
                    self.resumer.stop_process(proc, task)
                    return
        self._resume(task)

    def _hijack_chain(self, task, proc, handler, nr):
        """Apply `handler`'s hijack and, while the handlers met are
        recursive, those of the syscalls it leads to. Returns the
        handler (without a hijack) that takes the final syscall, or None.
        A chain that comes back to a syscall already in it would never
        end: the process stops and the script gets a RuntimeError (as
        libdebug raises)."""
        seen = {nr}
        while True:
            self._hijack(task, handler, proc.arch.syscall_arg_offsets)
            nxt = _recursive_handler(proc, handler)
            if nxt is None:
                return None
            if nxt.syscall_number in seen:
                self.endless_hijack(task, proc, "syscall", nxt.syscall_name)
                return None
            seen.add(nxt.syscall_number)
            if nxt.hijack_to is None:
                return nxt
            handler = nxt

    def endless_hijack(self, task, proc, kind: str, name: str) -> None:
        """A hijack chain loops: stop the process and raise in the script."""
        error = RuntimeError(f"{kind} hijacking loop: {name} is hijacked back into a chain that "
                             f"already ran it (recursive=True), which would never end")
        callback_raised(proc, error, f"a {kind} hijack")
        self.resumer.stop_process(proc, task)

    @staticmethod
    def _hijack(task, handler, arg_offsets) -> None:
        handler.hit_count += 1
        task.write_gpr(ORIG_RAX_OFFSET, handler.hijack_to)
        for index, value in (handler.hijack_args or {}).items():
            task.write_gpr(arg_offsets[index], value)
        task.syscall_nr = handler.hijack_to

    # ------------------------------------------------------------------ signals
    def on_signal(self, task, ev) -> None:
        self.signal(task, ev.value)

    def signal(self, task, sig) -> None:
        """`task` is in a signal-delivery-stop for `sig` (or a real SIGTRAP)."""
        proc = task.proc
        if sig == signal.SIGCONT:
            for t in proc.tasks.values():
                t.group_stopped = False
            proc.job_stopped = False
            if proc.own_sigcont:
                # The SIGCONT that ended the job-control stop a hand-over to
                # gdb made (runtime/migrate.py): ours, not the program's.
                proc.own_sigcont = False
                task.deliver_signal = 0
                self.resumer.resume(task)
                return
        elif sig == signal.SIGCHLD:
            self.tree.check_untraced_child(task)
        if sig not in _HARMLESS_BY_DEFAULT:
            task.keep_registers()  # for post-mortem reads, should the signal kill it
        task.deliver_signal = sig
        catcher = proc.signal_catchers.get(sig)
        if catcher is None and sig not in (signal.SIGSTOP, signal.SIGKILL):
            catcher = proc.signal_all
        if catcher is not None and catcher.enabled:
            catcher.hit_count += 1
            task.stop_reason = catcher
            if catcher.hijack_to is not None:
                task.deliver_signal = catcher.hijack_to
                seen = {sig}
                while catcher.recursive:
                    # Follow the hijacks while the catchers met are recursive.
                    nxt = proc.signal_catchers.get(task.deliver_signal)
                    if nxt is None or not nxt.enabled:
                        break
                    if task.deliver_signal in seen:
                        task.deliver_signal = 0
                        self.endless_hijack(task, proc, "signal", nxt.signal_name)
                        return
                    seen.add(task.deliver_signal)
                    nxt.hit_count += 1
                    catcher = nxt
                    task.stop_reason = nxt
                    if nxt.hijack_to is None:
                        break
                    task.deliver_signal = nxt.hijack_to
            if catcher.callback is not None:
                # The callback sees the signal even if it is blocked (it may change it).
                self.run_callback(task, catcher.callback, catcher)
            elif catcher.hijack_to is None:
                if task.deliver_signal in proc.signals_to_block:
                    task.deliver_signal = 0
                self.resumer.stop_process(proc, task)
                return
            if task.deliver_signal in proc.signals_to_block:
                task.deliver_signal = 0
        elif sig in proc.signals_to_block:
            task.deliver_signal = 0
        self.resumer.resume(task)

    # ------------------------------------------------------------------ the rest
    def on_interrupt(self, task, ev) -> None:
        proc = task.proc
        if task.group_stopped and proc.state is PROC_RUNNING:
            # After PTRACE_LISTEN this stop means the group-stop ended (SIGCONT).
            task.group_stopped = False
            if proc.job_stopped:
                proc.job_stopped = False
                proc.hub.changed = True
        if proc.state is PROC_STOPPING or proc.state is PROC_STOPPED:
            self.resumer.check_all_stopped(proc)
        else:
            self.resumer.resume(task)  # a late PTRACE_INTERRUPT: nothing to report

    def on_group_stop(self, task, ev) -> None:
        proc = task.proc
        if not task.group_stopped and proc.hooks["stop"]:
            # A new job-control stop (PTRACE_LISTEN's wake-ups report the same
            # stop again, with group_stopped already set).
            for hook in proc.hooks["stop"]:
                self.tree.run_hook(proc, hook, proc.debugger, thread_context(task), ev.value)
        task.group_stopped = True
        self.resumer.resume(task)
        if not proc.job_stopped and tracker.job_stopped(proc):
            # The last thread joined the job-control stop: the user sees the
            # process stopped (wait() returns, d.job_stopped), while the
            # threads stay in the kernel's group-stop so that a SIGCONT from
            # anyone ends it as it would untraced (docs/edge-cases.md §18).
            proc.job_stopped = True
            proc.last_task = task
            proc.hub.changed = True

    def on_exit_event(self, task, ev) -> None:
        # About to exit: nothing to decide, and holding it could hold up an
        # exit_group or exec; let it die and wait for its death report.
        # Its registers are still readable here (docs/edge-cases.md §15):
        # kept for post-mortem reads, as libdebug keeps those of every exit.
        task.keep_registers()
        self.resumer.let_run(task)
        task.state = TASK_EXITING
        self.resumer.check_all_stopped(task.proc)

    def on_other(self, task, ev) -> None:
        self.resumer.resume(task)


# Signals whose default action is to ignore them or to stop: they never kill
# (signal(7)), so no registers are kept for after a death at them.
_HARMLESS_BY_DEFAULT = frozenset((signal.SIGCHLD, signal.SIGCONT, signal.SIGURG, signal.SIGWINCH,
                                  signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU))


def _recursive_handler(proc, handler):
    if not handler.recursive:
        return None
    nxt = proc.syscall_handlers.get(handler.hijack_to)
    if nxt is None or not nxt.enabled or nxt is handler:
        return None
    return nxt
