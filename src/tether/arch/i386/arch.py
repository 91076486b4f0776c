"""The i386 table (arch/table.py): a 32-bit process on an x86-64 kernel."""
from __future__ import annotations

from ..table import Arch
from . import syscall_table
from .registers import Registers

__all__ = ["ARCH"]

ARCH = Arch(
    name="i386", word=4, elf_class=1, elf_machine=3, registers=Registers,
    ip="eip", sp="esp", fp="ebp",
    # int 0x80, sysenter and the vDSO's __kernel_vsyscall all take the
    # number in eax and the arguments in ebx, ecx, edx, esi, edi, ebp.
    syscall_number_reg="orig_eax", syscall_return_reg="eax",
    syscall_arg_regs=("ebx", "ecx", "edx", "esi", "edi", "ebp"),
    syscalls=syscall_table,
    # DWARF register numbers of the i386 psABI: 8 is eip (the return
    # address column), 4 esp, 5 ebp; a call may clobber eax, ecx, edx.
    dwarf_ip=8, dwarf_sp=4, dwarf_fp=5, dwarf_caller_saved=frozenset({0, 1, 2}),
    # The C emulator decodes 64-bit code only (it checks cs itself, too).
    emulates_step_over=False,
)
