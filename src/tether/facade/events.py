"""The Debugger's stopping events and hooks: breakpoints and watchpoints,
syscall handlers and hijacks, signal catchers and hijacks, blocked signals,
and tether's lifecycle callbacks. Arguments are checked here; the events are
armed by the runtime's StoppingEvents, on the tracer thread."""
from __future__ import annotations

import signal as _signal
TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any, Iterable

from ..arch.amd64 import debugregs
from ..arch.amd64.signals import signal_name, signal_number
from ..state.stopping_events import Breakpoint, SignalCatcher, SyscallHandler
from .base import Callback, FacadeBase

# What a callback argument may be: a callable, True (count and go on) or None.
CallbackArg = Callback | bool | None
SignalName = str | int

_UNCATCHABLE = (_signal.SIGKILL, _signal.SIGSTOP)
_ALL = ("*", "all", "ALL")


def filter_declares(declared: frozenset[str], arch: Any, nr: int) -> bool:
    """Whether the syscall_filter `declared` (names, as the launch took
    them) has syscall `nr` of `arch` (the filter checks each table by its
    own numbers: seccomp_bpf.py)."""
    return arch.syscall_name(nr) in declared


def _count_only(*_: Any) -> None:
    """callback=True (libdebug): count the hit and go on, without stopping."""


def _callback(value: CallbackArg, what: str = "callback") -> Callback | None:
    if value is None or value is False:
        return None
    if value is True:
        return _count_only
    if not callable(value):
        raise TypeError(f"{what} must be callable, True or None, not {type(value).__name__}")
    return value


class EventsMixin(FacadeBase):
    """breakpoint, watchpoint, handle_syscall, hijack_syscall, catch_signal,
    hijack_signal, signals_to_block, on_fork/on_exec/on_exit/on_thread/on_thread_exit."""

    def breakpoint(self, position: int | str, hardware: bool = False, condition: str = "x", length: int = 1,
                   callback: CallbackArg = None, file: str = "hybrid") -> Breakpoint:
        """Stop (or, with a callback, call it and go on) when execution
        reaches `position` (an address or a symbol expression). hardware=True
        uses a debug register; with condition "w", "rw" (or "r") and a length
        of 1, 2, 4 or 8 it watches data instead. A breakpoint already at that
        address is replaced."""
        callback = _callback(callback)
        if not isinstance(hardware, bool):
            raise TypeError("hardware must be a bool")
        if condition not in ("x", "w", "rw", "r"):
            raise ValueError(f"condition must be 'x', 'w' or 'rw', not {condition!r}")
        if not hardware and (condition != "x" or length != 1):
            raise ValueError("a software breakpoint only supports condition='x' and length=1; "
                             "use hardware=True or watchpoint()")
        ctl = self._ctl
        proc = ctl.ensure_stopped()
        address = ctl.resolve_position(position, file)
        if hardware:
            debugregs.validate_watch(address, condition, length)
        # As libdebug's: the position as given, an address as hex.
        symbol = position if isinstance(position, str) else hex(address)
        self._memory.read(address, 1)  # an unmapped address fails here, clearly
        bp = Breakpoint(address, symbol, hardware, condition, length, callback, ctl)
        old = proc.breakpoints.get(address)
        if old is not None:
            ctl.tracer.call(ctl.events.remove_breakpoint, proc, old)
        ctl.tracer.call(ctl.events.install_breakpoint, proc, bp)
        return bp

    bp = breakpoint

    def watchpoint(self, position: int | str, condition: str = "w", length: int = 1,
                   callback: CallbackArg = None, file: str = "hybrid") -> Breakpoint:
        """A hardware watchpoint: stop when the process writes ("w") or reads
        or writes ("rw") the `length` bytes at `position`."""
        return self.breakpoint(position, hardware=True, condition=condition, length=length,
                               callback=callback, file=file)

    wp = watchpoint

    def delete_breakpoint(self, bp: Breakpoint) -> None:
        """tether extra: remove a breakpoint or watchpoint for good."""
        ctl = self._ctl
        proc = ctl.ensure_stopped()
        ctl.tracer.call(ctl.events.remove_breakpoint, proc, bp)

    @property
    def breakpoints(self) -> dict[int, Breakpoint]:
        """The breakpoints and watchpoints, by address (a copy)."""
        proc = self._ctl.process
        return {} if proc is None else dict(proc.breakpoints)

    def handle_syscall(self, syscall: str | int, on_enter: CallbackArg = None, on_exit: CallbackArg = None,
                       recursive: bool = False) -> SyscallHandler:
        """Stop (or call on_enter/on_exit and go on) at the entry and exit of
        `syscall` (a name or number; "*" for every syscall)."""
        on_enter = _callback(on_enter, "on_enter")
        on_exit = _callback(on_exit, "on_exit")
        ctl = self._ctl
        proc = ctl.ensure_stopped()
        if syscall in _ALL:
            handler = SyscallHandler(-1, "*", on_enter, on_exit, recursive, ctl)
            proc.syscall_all = handler
        else:
            arch = proc.arch  # the numbers of the process's architecture (i386's in a 32-bit one)
            nr = arch.syscall_number(syscall)
            declared = ctl.settings.syscall_filter
            if declared is not None and not filter_declares(declared, arch, nr):
                raise ValueError(f"{arch.syscall_name(nr)} is not in the syscall_filter declared at "
                                 "launch: the process never stops at it")
            handler = SyscallHandler(nr, arch.syscall_name(nr), on_enter, on_exit, recursive, ctl)
            proc.syscall_handlers[nr] = handler
        ctl.events.update_syscall_tracing(proc)
        return handler

    def hijack_syscall(self, original_syscall: str | int, new_syscall: str | int, recursive: bool = False,
                       **syscall_args: int) -> SyscallHandler:
        """Run `new_syscall` whenever the process makes `original_syscall`,
        optionally with other arguments (syscall_arg0=... to syscall_arg5=...)."""
        ctl = self._ctl
        proc = ctl.ensure_stopped()
        arch = proc.arch
        orig = arch.syscall_number(original_syscall)
        new = arch.syscall_number(new_syscall)
        if orig == new:
            raise ValueError("hijack_syscall: the new syscall is the original one (it would loop)")
        args: dict[int, int] = {}
        for key, value in syscall_args.items():
            if not (key.startswith("syscall_arg") and key[11:].isdigit() and int(key[11:]) < 6):
                raise ValueError(f"hijack_syscall: unknown argument {key!r} (use syscall_arg0..syscall_arg5)")
            if not isinstance(value, int):
                raise TypeError(f"{key} must be an int")
            args[int(key[11:])] = value
        handler = SyscallHandler(orig, arch.syscall_name(orig), None, None, recursive, ctl)
        handler.hijack_to = new
        handler.hijack_args = args
        proc.syscall_handlers[orig] = handler
        ctl.events.update_syscall_tracing(proc)
        return handler

    @property
    def handled_syscalls(self) -> dict[int | str, SyscallHandler]:
        """The syscall handlers, by syscall number ("*": the one for every syscall)."""
        proc = self._ctl.process
        if proc is None:
            return {}
        out: dict[int | str, SyscallHandler] = dict(proc.syscall_handlers)  # keyed by syscall number, as in libdebug
        if proc.syscall_all is not None:
            out["*"] = proc.syscall_all
        return out

    def catch_signal(self, signal: SignalName, callback: CallbackArg = None, recursive: bool = False) -> SignalCatcher:
        """Stop (or call `callback` and go on) when `signal` (a name or number;
        "*" for any) is about to be delivered to the process."""
        callback = _callback(callback)
        ctl = self._ctl
        proc = ctl.ensure_stopped()
        if signal in _ALL:
            catcher = SignalCatcher(-1, "*", callback, recursive, ctl)
            proc.signal_all = catcher
            return catcher
        nr = signal_number(signal)
        if nr in _UNCATCHABLE:
            raise ValueError(f"{signal_name(nr)} cannot be caught: the kernel never lets a process handle it")
        catcher = SignalCatcher(nr, signal_name(nr), callback, recursive, ctl)
        proc.signal_catchers[nr] = catcher
        return catcher

    def hijack_signal(self, original_signal: SignalName, new_signal: SignalName,
                      recursive: bool = False) -> SignalCatcher:
        """Deliver `new_signal` instead whenever `original_signal` is about to be delivered."""
        ctl = self._ctl
        proc = ctl.ensure_stopped()
        orig = signal_number(original_signal)
        new = signal_number(new_signal)
        if orig in _UNCATCHABLE:
            raise ValueError(f"{signal_name(orig)} cannot be hijacked")
        if orig == new:
            raise ValueError("hijack_signal: the new signal is the original one")
        catcher = SignalCatcher(orig, signal_name(orig), None, recursive, ctl)
        catcher.hijack_to = new
        proc.signal_catchers[orig] = catcher
        return catcher

    @property
    def caught_signals(self) -> dict[int | str, SignalCatcher]:
        """The signal catchers, by signal number ("*": the one for any signal)."""
        proc = self._ctl.process
        if proc is None:
            return {}
        out: dict[int | str, SignalCatcher] = dict(proc.signal_catchers)  # keyed by signal number, as in libdebug
        if proc.signal_all is not None:
            out["*"] = proc.signal_all
        return out

    @property
    def signals_to_block(self) -> list[str]:
        """Signals never delivered to the process (names); assign a list of
        names or numbers (or one) to set them."""
        ctl = self._ctl
        proc = ctl.process
        numbers = ctl.blocked_signals if proc is None else proc.signals_to_block
        return [signal_name(s) for s in sorted(numbers)]

    @signals_to_block.setter
    def signals_to_block(self, signals: SignalName | Iterable[SignalName]) -> None:
        # Kept by the Debugger too, as in libdebug: set before run(), it
        # applies from the program's first instruction, and to every run().
        ctl = self._ctl
        ctl.check_usable()
        if isinstance(signals, (str, int)):
            signals = [signals]
        numbers = set()
        for s in signals:
            n = signal_number(s)
            if n in _UNCATCHABLE:
                raise ValueError(f"{signal_name(n)} cannot be blocked")
            numbers.add(n)
        ctl.blocked_signals = numbers
        proc = ctl.process
        if proc is not None:
            proc.signals_to_block = set(numbers)

    # --- lifecycle callbacks (tether extras) ---
    def on_fork(self, callback: Callback) -> Callback:
        """callback(parent_debugger, child_debugger), on the tracer thread, when a
        followed child process is born (it is stopped; callback may cont() it).
        Inherited by descendants."""
        return self._add_hook("fork", callback)

    def on_exec(self, callback: Callback) -> Callback:
        """callback(debugger) after the process execs a new program."""
        return self._add_hook("exec", callback)

    def on_exit(self, callback: Callback) -> Callback:
        """callback(debugger) after the process died (exit_code/exit_signal set)."""
        return self._add_hook("exit", callback)

    def on_thread(self, callback: Callback) -> Callback:
        """callback(debugger, thread) when a new thread of the process starts
        (before its first instruction). Inherited by children."""
        return self._add_hook("thread", callback)

    def on_thread_exit(self, callback: Callback) -> Callback:
        """callback(debugger, thread) after a (non-main) thread exited."""
        return self._add_hook("thread_exit", callback)

    def on_stop(self, callback: Callback) -> Callback:
        """callback(debugger, thread, signal_number) when a thread of the
        process enters a job-control stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU,
        sent by itself or another); it stays stopped until SIGCONT, as
        without a debugger. Inherited by children."""
        return self._add_hook("stop", callback)

    def _add_hook(self, kind: str, callback: Callback) -> Callback:
        if not callable(callback):
            raise TypeError("callback must be callable")
        proc = self._ctl.require_process()
        proc.add_hook(kind, callback)
        return callback
