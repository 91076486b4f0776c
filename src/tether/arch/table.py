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

__all__ = ["Arch"]


class Arch:
    """One architecture's names and tables (immutable)."""

    __slots__ = ("name", "word", "elf_class", "elf_machine", "registers",
                 "ip", "sp", "fp", "syscall_number_reg", "syscall_return_reg",
                 "syscall_arg_regs", "syscalls", "dwarf_ip", "dwarf_sp", "dwarf_fp",
                 "dwarf_caller_saved", "emulates_step_over",
                 # derived from the above:
                 "syscall_arg_offsets", "sys_ptrace", "sys_execve")
    _DERIVED = ("syscall_arg_offsets", "sys_ptrace", "sys_execve")

    def __init__(self, **fields):
        for name in self.__slots__:
            if name not in self._DERIVED:
                object.__setattr__(self, name, fields.pop(name))
        if fields:
            raise TypeError(f"unknown Arch fields: {sorted(fields)}")
        layout = self.registers.gpr_layout
        # Byte offsets of the argument registers' fields in the register
        # buffer (the 64-bit field holding eax..., for a 32-bit process).
        object.__setattr__(self, "syscall_arg_offsets",
                           tuple(layout[name][0] for name in self.syscall_arg_regs))
        object.__setattr__(self, "sys_ptrace", self.syscalls.syscall_number("ptrace"))
        object.__setattr__(self, "sys_execve", self.syscalls.syscall_number("execve"))

    def __setattr__(self, name, value):
        raise AttributeError("an Arch is read-only")

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
