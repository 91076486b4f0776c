"""The stopping-event objects users hold: Breakpoint (software, hardware or
watchpoint), SyscallHandler, SignalCatcher. They keep their counters.

Each has an owner, the facade of its process, which arms and disarms it:
enable() and disable() call `owner.set_enabled(event, enabled)`; hit_on()
first calls `owner.await_stop()` (a running process is waited for). hit_on()
and its variants take anything with a `task` property naming the thread
asked about (a ThreadContext: its thread; a Debugger: its main thread)."""
from __future__ import annotations

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any, Callable


class _StoppingEvent:
    __slots__ = ("hit_count", "callback", "enabled", "_owner", "_last_tid")

    def __init__(self, callback, owner):
        self.hit_count = 0
        self.callback = callback
        self.enabled = True
        self._owner = owner
        self._last_tid = None

    def hit_on(self, thread: Any) -> bool:
        """True if `thread` (a ThreadContext or Debugger) is stopped because
        of this event. A running process is waited for first (or
        interrupted in ASAP mode), as for any command."""
        self._owner.await_stop()
        task = _task_of(thread)
        return task is not None and task.stop_reason is self

    def enable(self) -> None:
        """Arm the event again (the process is stopped for it first, as for any command)."""
        self._owner.set_enabled(self, True)

    def disable(self) -> None:
        """Disarm the event without removing it: it no longer stops nor counts."""
        self._owner.set_enabled(self, False)


def _task_of(thread):
    """The Task that `thread` names with its `task` property (None for an
    object without one)."""
    return getattr(thread, "task", None)


class Breakpoint(_StoppingEvent):
    """A software breakpoint (int3), a hardware breakpoint, or a watchpoint."""
    __slots__ = ("address", "symbol", "hardware", "condition", "length", "slot")

    def __init__(self, address, symbol, hardware, condition, length, callback, owner):
        super().__init__(callback, owner)
        self.address = address
        self.symbol = symbol
        self.hardware = hardware
        self.condition = condition
        self.length = length
        self.slot = None

    def __repr__(self):
        kind = "watchpoint" if self.condition != "x" else ("hardware breakpoint" if self.hardware else "breakpoint")
        where = f"{self.symbol} " if self.symbol and self.symbol != hex(self.address) else ""
        return (f"<{kind} {where}at {self.address:#x} condition={self.condition} length={self.length} "
                f"hits={self.hit_count} {'enabled' if self.enabled else 'disabled'}>")


class SyscallHandler(_StoppingEvent):
    """Stops (or calls its callbacks) at the entry and exit of one syscall
    (or of every syscall: number -1, name "*"); a hijack runs another one."""
    __slots__ = ("syscall_number", "syscall_name", "on_enter_user", "on_exit_user", "recursive",
                 "hijack_to", "hijack_args", "_enter_tids", "_exit_tids")

    def __init__(self, number, name, on_enter, on_exit, recursive, owner):
        super().__init__(None, owner)
        self.syscall_number = number
        self.syscall_name = name
        self.on_enter_user = on_enter
        self.on_exit_user = on_exit
        self.recursive = recursive
        self.hijack_to = None
        self.hijack_args = None

    @property
    def on_enter(self) -> Callable[..., Any] | None:
        """The callback given for the syscall's entry (None: none)."""
        return self.on_enter_user

    @property
    def on_exit(self) -> Callable[..., Any] | None:
        """The callback given for the syscall's exit (None: none)."""
        return self.on_exit_user

    def hit_on_enter(self, thread: Any) -> bool:
        """True if `thread` is stopped at the entry of this handler's syscall."""
        self._owner.await_stop()
        task = _task_of(thread)
        return task is not None and task.stop_reason is self and task.in_syscall

    def hit_on_exit(self, thread: Any) -> bool:
        """True if `thread` is stopped at the exit of this handler's syscall."""
        self._owner.await_stop()
        task = _task_of(thread)
        return task is not None and task.stop_reason is self and not task.in_syscall

    def __repr__(self):
        return (f"<syscall handler {self.syscall_name} ({self.syscall_number}) hits={self.hit_count} "
                f"{'enabled' if self.enabled else 'disabled'}>")


class SignalCatcher(_StoppingEvent):
    """Stops (or calls its callback) when a signal (or any: number -1, name
    "*") is about to be delivered; a hijack delivers another one instead."""
    __slots__ = ("signal_number", "signal_name", "recursive", "hijack_to")

    def __init__(self, number, name, callback, recursive, owner):
        super().__init__(callback, owner)
        self.signal_number = number
        self.signal_name = name
        self.recursive = recursive
        self.hijack_to = None

    def __repr__(self):
        return (f"<signal catcher {self.signal_name} ({self.signal_number}) hits={self.hit_count} "
                f"{'enabled' if self.enabled else 'disabled'}>")
