"""Looking at the Debugger's process: the main thread's registers and
syscall view, the signal to deliver, memory, maps, symbols, backtrace."""
from __future__ import annotations

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

from ..arch.amd64.registers import X86Registers
from ..symbols.position import resolve_symbol
from .base import FacadeBase

if TYPE_CHECKING:
    from ..memory.maps import MemoryMapList
    from ..memory.view import MemoryView
    from ..state.task import Task
    from ..symbols.symbol_list import SymbolList


def _syscall_arg(index: int) -> property:
    """Property syscall_argN: the main thread's (a property, not a
    __setattr__, which would tax every attribute write of a Debugger)."""
    name = f"syscall_arg{index}"

    def get(self: "InspectionMixin") -> int:
        return getattr(self._ctl.main_thread(), name)

    def set_(self: "InspectionMixin", value: int) -> None:
        setattr(self._ctl.main_thread(), name, value)
    return property(get, set_, doc=f"Argument {index} of the syscall the main thread is stopped at.")


class InspectionMixin(FacadeBase):
    """regs, memory, syscall_*, signal, maps, symbols, backtrace..."""

    @property
    def task(self) -> "Task":
        """The runtime's Task of the main thread (what stopping events'
        hit_on() looks at); tether's own parts use it, scripts need not."""
        return self._ctl.main_task()

    @property
    def regs(self) -> X86Registers:
        """The main thread's registers (read and written in place: d.regs.rax = 0)."""
        return self._ctl.main_thread().regs


    @property
    def instruction_pointer(self) -> int:
        """The main thread's rip (eip in a 32-bit process)."""
        return self._ctl.main_thread().instruction_pointer

    @instruction_pointer.setter
    def instruction_pointer(self, value: int) -> None:
        self._ctl.main_thread().instruction_pointer = value

    @property
    def memory(self) -> "MemoryView":
        """The process's memory: d.memory[address, size, file], slices,
        symbol expressions; assign bytes to write (see memory/view.py)."""
        return self._memory

    mem = memory

    @property
    def syscall_number(self) -> int:
        """The number of the syscall the main thread is stopped at; settable."""
        return self._ctl.main_thread().syscall_number

    @syscall_number.setter
    def syscall_number(self, value: int) -> None:
        self._ctl.main_thread().syscall_number = value

    @property
    def syscall_return(self) -> int:
        """The main thread's syscall return value (at a syscall exit); settable."""
        return self._ctl.main_thread().syscall_return

    @syscall_return.setter
    def syscall_return(self, value: int) -> None:
        self._ctl.main_thread().syscall_return = value

    syscall_arg0, syscall_arg1, syscall_arg2 = _syscall_arg(0), _syscall_arg(1), _syscall_arg(2)
    syscall_arg3, syscall_arg4, syscall_arg5 = _syscall_arg(3), _syscall_arg(4), _syscall_arg(5)

    @property
    def signal(self) -> str | None:
        """The signal the thread that stopped the process will receive when
        resumed (its name, None: none); settable, None suppresses it."""
        return self._ctl.signal_thread().signal

    @signal.setter
    def signal(self, value: str | int | None) -> None:
        self._ctl.signal_thread().signal = value

    @property
    def signal_number(self) -> int:
        """The number of that signal (0: none)."""
        return self._ctl.signal_thread().signal_number

    @property
    def saved_ip(self) -> int:
        """The return address of the main thread's current function."""
        return self._ctl.main_thread().saved_ip

    @property
    def maps(self) -> "MemoryMapList":
        """The memory maps (re-read whenever the process may have run since)."""
        return self._ctl.maps

    @property
    def symbols(self) -> "SymbolList":
        """The symbols of the program and its libraries, placed at their load addresses."""
        return self._ctl.symbols

    def resolve_symbol(self, symbol: str, file: str = "hybrid") -> int:
        """The address of a symbol expression such as "main" or "printf+8"
        (in the maps of `file`: "hybrid", "binary", "libc", ...)."""
        ctl = self._ctl
        return resolve_symbol(symbol, ctl.symbols, ctl.maps, file)

    def backtrace(self, as_symbols: bool = False) -> list[Any]:
        """The main thread's return addresses, innermost first (names with as_symbols=True)."""
        return self._ctl.main_thread().backtrace(as_symbols)
