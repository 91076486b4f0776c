"""The x86-64 table (arch/table.py)."""
from __future__ import annotations

from ..table import Arch
from . import syscall_table
from .registers import Registers

__all__ = ["ARCH"]

ARCH = Arch(
    name="amd64", word=8, elf_class=2, elf_machine=62, registers=Registers,
    ip="rip", sp="rsp", fp="rbp",
    # The syscall convention: the number in rax (orig_rax at a stop), the
    # arguments in rdi, rsi, rdx, r10 (not rcx, which syscall overwrites), r8, r9.
    syscall_number_reg="orig_rax", syscall_return_reg="rax",
    syscall_arg_regs=("rdi", "rsi", "rdx", "r10", "r8", "r9"),
    syscalls=syscall_table,
    # DWARF register numbers (psABI figure 3.36): 16 is the return address,
    # 7 rsp, 6 rbp; a call may clobber rax, rdx, rcx, rsi, rdi, r8-r11.
    dwarf_ip=16, dwarf_sp=7, dwarf_fp=6, dwarf_caller_saved=frozenset({0, 1, 2, 4, 5, 8, 9, 10, 11}),
    emulates_step_over=True,
)
