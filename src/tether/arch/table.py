"""Arch: one architecture's table, the one thing the rest of tether asks
about a traced process's architecture.

Every process has one (`Proc.arch`), decided when tether first sees its
program (start, attach) and again at each exec: a 64-bit process may exec a
32-bit program and back. The runtime and the facade read register names,
the syscall table and the unwinding registers from it, never an
architecture's module directly; an architecture is added by writing its
package (arch/<name>/) with one of these and listing it in arch/__init__.py
(docs/architecture.md, "Porting to another architecture").
"""
from __future__ import annotations

from types import ModuleType

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing)
if TYPE_CHECKING:
    from .amd64.registers import X86Registers

__all__ = ["Arch"]


_FIELDS = ("name", "word", "elf_class", "elf_machine", "registers", "ip", "sp", "fp",
           "syscall_number_reg", "syscall_return_reg", "syscall_arg_regs", "syscalls",
           "dwarf_ip", "dwarf_sp", "dwarf_fp", "dwarf_caller_saved", "emulates_step_over")


class Arch:
    """One architecture's names and tables (immutable; compared by identity).
    (A plain class, not a dataclass: importing dataclasses would cost every
    start-up some 6 ms.)"""

    name: str                 # libdebug's name: "amd64", "i386"
    word: int                 # bytes of a pointer, a long and a register
    elf_class: int            # ELFCLASS32 / ELFCLASS64 of its programs
    elf_machine: int          # e_machine of its programs (EM_386, EM_X86_64)
    registers: type[X86Registers]   # its register class (arch/<name>/registers.py)
    ip: str                   # the names of the instruction, stack and frame pointers
    sp: str
    fp: str
    syscall_number_reg: str   # the register holding the syscall number at a syscall stop
    syscall_return_reg: str
    syscall_arg_regs: tuple   # the six argument registers, in order
    syscalls: ModuleType      # its syscall table module (SYSCALL_NAMES, syscall_name...)
    dwarf_ip: int             # DWARF numbers of the return-address column, sp and fp
    dwarf_sp: int
    dwarf_fp: int
    dwarf_caller_saved: frozenset   # DWARF numbers of the registers a call may clobber
    emulates_step_over: bool  # the C emulator decodes its code (native/emulate.c)
    # Derived from the above:
    syscall_arg_offsets: tuple   # byte offsets of the argument registers
    sys_ptrace: int
    sys_execve: int

    def __init__(self, **fields) -> None:
        missing = [f for f in _FIELDS if f not in fields]
        unknown = [f for f in fields if f not in _FIELDS]
        if missing or unknown:
            raise TypeError(f"Arch: missing {missing}, unknown {unknown}")
        for name in _FIELDS:
            object.__setattr__(self, name, fields[name])
        layout = self.registers.gpr_layout
        # The fields of the argument registers in the register buffer (the
        # 64-bit field that holds ebx..., for a 32-bit process).
        object.__setattr__(self, "syscall_arg_offsets",
                           tuple(layout[name][0] for name in self.syscall_arg_regs))
        object.__setattr__(self, "sys_ptrace", self.syscalls.syscall_number("ptrace"))
        object.__setattr__(self, "sys_execve", self.syscalls.syscall_number("execve"))

    def __setattr__(self, name, value):
        raise AttributeError(f"Arch is immutable: cannot set {name}")

    def __repr__(self):
        return f"<Arch {self.name}>"

    def syscall_name(self, number: int) -> str:
        """The name of syscall `number` in this architecture's table."""
        return self.syscalls.syscall_name(number)

    def syscall_number(self, name_or_number) -> int:
        """The number of a syscall given by name or number, in this table."""
        return self.syscalls.syscall_number(name_or_number)

    def syscall_signature(self, name_or_number):
        """((argument name, kind), ...) of a syscall, or None."""
        return self.syscalls.syscall_signature(name_or_number)

    @property
    def syscall_names(self) -> dict:
        """number -> name, every syscall of the table."""
        return self.syscalls.SYSCALL_NAMES
