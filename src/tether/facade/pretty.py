"""The Debugger's printers: registers, maps, backtrace, memory, the process
tree, and pprint_syscalls (an strace-like line per syscall)."""
from __future__ import annotations

import contextlib
TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Iterable, Iterator

from ..arch.amd64.registers import format_registers
from ..memory.hexdump import check_word_size, dump_lines
from ..memory.maps import format_maps
from .. import lifecycle
from .base import FacadeBase


class PrettyMixin(FacadeBase):
    """pprint_registers, pprint_maps, pprint_backtrace, pprint_memory,
    pprint_syscalls and its filters, tree, pprint_tree."""

    def pprint_registers(self) -> None:
        """Print the main thread's general-purpose registers."""
        print(format_registers(self._ctl.main_thread().regs, include_fp=False))

    def pprint_registers_all(self) -> None:
        """Print every register of the main thread, the FP/vector ones included."""
        print(format_registers(self._ctl.main_thread().regs, include_fp=True))

    pprint_regs = pprint_registers
    pprint_regs_all = pprint_registers_all

    def pprint_maps(self) -> None:
        """Print the memory maps."""
        print(format_maps(self._ctl.maps))

    print_maps = pprint_maps  # (libdebug's older name)

    def pprint_backtrace(self) -> None:
        """Print the main thread's backtrace, one frame a line."""
        self._ctl.main_thread().pprint_backtrace()

    def pprint_memory(self, start: int | str, end: int | str, file: str = "hybrid",
                      override_word_size: int | None = None, integer_mode: bool = False) -> None:
        """Print the memory from `start` to `end` as a hex dump, 16 bytes a
        line grouped in words of `override_word_size` bytes (default 8),
        each word one little-endian integer with integer_mode=True."""
        word_size = check_word_size(override_word_size)
        ctl = self._ctl
        start = ctl.resolve_position(start, file)
        end = ctl.resolve_position(end, file)
        if end < start:
            raise ValueError("pprint_memory: end is before start")
        data = self._memory.read(start, end - start)
        print("\n".join(dump_lines(start, data, word_size, bool(integer_mode))))

    @property
    def pprint_syscalls(self) -> bool:
        """Print a line for every syscall the process completes (like strace)."""
        proc = self._ctl.process
        return proc is not None and proc.pprint_syscalls

    @pprint_syscalls.setter
    def pprint_syscalls(self, value: bool) -> None:
        from ..runtime.syscall_printer import ensure_printer
        ctl = self._ctl
        proc = ctl.ensure_stopped()
        ensure_printer(ctl.session)
        proc.pprint_syscalls = bool(value)
        ctl.events.update_syscall_tracing(proc)

    @contextlib.contextmanager
    def pprint_syscalls_context(self, value: bool) -> Iterator[None]:
        """`with d.pprint_syscalls_context(True):` sets pprint_syscalls for
        the block and puts the old value back after it."""
        old = self.pprint_syscalls
        self.pprint_syscalls = value
        try:
            yield
        finally:
            self.pprint_syscalls = old

    @property
    def syscalls_to_pprint(self) -> list[str] | None:
        """Only these syscalls are shown by pprint_syscalls (None: all)."""
        proc = self._ctl.process
        return None if proc is None or proc.pprint_only is None \
            else sorted(proc.arch.syscall_name(n) for n in proc.pprint_only)

    @syscalls_to_pprint.setter
    def syscalls_to_pprint(self, names: Iterable[str | int] | None) -> None:
        proc = self._ctl.require_process()
        proc.pprint_only = None if names is None else {proc.arch.syscall_number(n) for n in names}

    @property
    def syscalls_to_not_pprint(self) -> list[str] | None:
        """These syscalls are hidden from pprint_syscalls (None: none)."""
        proc = self._ctl.process
        return None if proc is None or proc.pprint_hidden is None \
            else sorted(proc.arch.syscall_name(n) for n in proc.pprint_hidden)

    @syscalls_to_not_pprint.setter
    def syscalls_to_not_pprint(self, names: Iterable[str | int] | None) -> None:
        proc = self._ctl.require_process()
        proc.pprint_hidden = None if names is None else {proc.arch.syscall_number(n) for n in names}

    def tree(self) -> str:
        """The process and its followed descendants as a tree, one line each:
        pid, [state], program."""
        return lifecycle.format_tree(self)

    def pprint_tree(self) -> None:
        """Print tree()."""
        print(self.tree())
