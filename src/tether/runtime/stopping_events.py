"""Arming the stopping events of a traced process: software breakpoints
(through the process's AddressSpace, the only writer of int3 bytes),
hardware breakpoints and watchpoints (the four debug-register slots of
`Proc.hw_slots`), the syscall-stop switch, and the copies a followed child
inherits.

The facade checks the user's arguments and hands the work here. The methods
that touch the tracee (install, remove, enable, debug registers, inherit)
run on the tracer thread (`Tracer.call`); `update_syscall_tracing` only
recomputes a flag and may run on either thread."""
from ..state.states import GONE
from ..state.stopping_events import Breakpoint, SignalCatcher, SyscallHandler


class StoppingEvents:
    """The stopping events of the processes of one tracing session."""
    __slots__ = ("session",)

    def __init__(self, session):
        self.session = session   # the tracer's Session (writes debug registers)

    # ------------------------------------------------------------ breakpoints
    def install_breakpoint(self, proc, bp) -> None:
        """Add `bp` to `proc.breakpoints` and arm it if enabled: an int3 in the
        address space, or a free debug-register slot for a hardware one
        (RuntimeError when all four are taken)."""
        if bp.hardware:
            free = [i for i, s in enumerate(proc.hw_slots) if s is None]
            if not free:
                raise RuntimeError("all four hardware debug registers are in use; "
                                   "remove a hardware breakpoint or watchpoint first")
            bp.slot = free[0]
            proc.hw_slots[bp.slot] = bp
            self.debug_registers_changed(proc)
        elif bp.enabled:
            proc.aspace.insert(bp.address)
        proc.breakpoints[bp.address] = bp

    def remove_breakpoint(self, proc, bp) -> None:
        """Take `bp` out of `proc` for good: its slot freed, its int3 removed
        (nothing is written into a process that is gone)."""
        if proc.breakpoints.get(bp.address) is bp:
            del proc.breakpoints[bp.address]
        if bp.hardware:
            if bp.slot is not None and proc.hw_slots[bp.slot] is bp:
                proc.hw_slots[bp.slot] = None
                bp.slot = None
                self.debug_registers_changed(proc)
        elif bp.enabled and proc.state not in GONE:
            proc.aspace.remove(bp.address)

    def set_breakpoint_enabled(self, proc, bp, enabled: bool) -> None:
        """Enable or disable `bp`; a breakpoint `proc` no longer holds (deleted,
        or replaced by another at its address) only records the flag."""
        bp.enabled = enabled
        if proc.breakpoints.get(bp.address) is not bp:
            return
        if bp.hardware:
            self.debug_registers_changed(proc)
        elif enabled:
            proc.aspace.insert(bp.address)
        else:
            proc.aspace.remove(bp.address)

    def debug_registers_changed(self, proc) -> None:
        """`proc`'s hardware slots changed: write them into every stopped
        thread now, and into the others before they run again."""
        proc.hw_used = True
        apply = self.session.apply_debug_registers
        for t in proc.tasks.values():
            t.dr_dirty = True
            if t.stopped:
                apply(t)

    # ------------------------------------------------------------ syscalls
    @staticmethod
    def update_syscall_tracing(proc) -> None:
        """Resume `proc` with syscall stops (PTRACE_SYSCALL) only while
        something needs them: pprint_syscalls, escape_antidebug, output
        attribution, or an enabled syscall handler."""
        proc.trace_syscalls = bool(
            proc.pprint_syscalls or proc.config.escape_antidebug or proc.output_watch is not None
            or (proc.syscall_all is not None and proc.syscall_all.enabled)
            or any(h.enabled for h in proc.syscall_handlers.values()))

    # ------------------------------------------------------------ children
    def inherit(self, parent, child, owner) -> None:
        """inherit_stopping_events: give the followed child `child` (a Proc,
        at its first stop) copies of the stopping events of Proc `parent`,
        owned by `owner` (the child's facade: see state/stopping_events.py)."""
        for bp in list(parent.breakpoints.values()):
            bp_copy = Breakpoint(bp.address, bp.symbol, bp.hardware, bp.condition, bp.length,
                                 bp.callback, owner)
            bp_copy.enabled = bp.enabled
            self.install_breakpoint(child, bp_copy)
        for nr, h in parent.syscall_handlers.items():
            copy = SyscallHandler(nr, h.syscall_name, h.on_enter_user, h.on_exit_user, h.recursive, owner)
            copy.hijack_to, copy.hijack_args, copy.enabled = h.hijack_to, h.hijack_args, h.enabled
            child.syscall_handlers[nr] = copy
        dormant = []
        for h, target in parent.dormant_syscalls:  # (handlers of the other architecture's calls)
            copy = SyscallHandler(h.syscall_number, h.syscall_name, h.on_enter_user, h.on_exit_user,
                                  h.recursive, owner)
            copy.hijack_to, copy.hijack_args, copy.enabled = h.hijack_to, h.hijack_args, h.enabled
            dormant.append((copy, target))
        child.dormant_syscalls = tuple(dormant)
        if parent.syscall_all is not None:
            h = parent.syscall_all
            child.syscall_all = SyscallHandler(-1, "*", h.on_enter_user, h.on_exit_user, h.recursive, owner)
        child.trace_syscalls = parent.trace_syscalls
        for nr, c in parent.signal_catchers.items():
            c_copy = SignalCatcher(nr, c.signal_name, c.callback, c.recursive, owner)
            c_copy.hijack_to, c_copy.enabled = c.hijack_to, c.enabled
            child.signal_catchers[nr] = c_copy
        child.signal_all = parent.signal_all
