"""i386 register names over the registers of a 32-bit task on x86-64.

A 64-bit tracer reads a 32-bit (compat) task's registers in the same struct
user_regs_struct as a 64-bit task's (arch/x86/kernel/ptrace.c: the 64-bit
regset, whatever the tracee's mode): eax is the low half of the rax field,
eip of rip, and so on; the kernel truncates them to 32 bits when the task
runs again. So the buffers, the cache protocol and the XSAVE area are
x86-64's (arch/amd64/registers.py); only the table of names differs: the
eight 32-bit general registers with their 16- and 8-bit parts, eip,
eflags, the segment selectors, orig_eax (the system call number at a
syscall stop), and the vector registers 0..7 (32-bit code has no
xmm8..xmm31).

A write to a 32-bit register zero-extends into its 64-bit field (the upper
half of a compat task's field means nothing); 16- and 8-bit writes merge.
"""
from __future__ import annotations

from ..amd64.registers import GPR_OFFSETS, XSTATE_LAYOUT, register_class
from ..amd64.subregisters import LEGACY_SUBREGISTERS, SEGMENTS, subregister_layout

__all__ = ["DISPLAY_NAMES", "GPR_LAYOUT", "Registers", "XSTATE_LAYOUT_32"]

# Display order (format_registers, pprint_registers).
DISPLAY_NAMES = ("eax", "ebx", "ecx", "edx", "edi", "esi", "ebp", "esp", "eip", "eflags",
                 "cs", "ss", "ds", "es", "fs", "gs", "orig_eax")


def _build_gpr_layout() -> dict[str, tuple[int, int, int]]:
    """name -> (byte offset in user_regs_struct, bytes accessed, width in bits)."""
    # The 32-bit ISA's sub-registers, as libdebug names them for an i386
    # process (the low bytes of esi/edi/ebp/esp: sil, dil, bpl, spl, which
    # 32-bit code cannot encode, are kept as libdebug keeps them).
    layout = subregister_layout(GPR_OFFSETS, LEGACY_SUBREGISTERS)
    layout["eip"] = (GPR_OFFSETS["rip"], 4, 32)
    layout["eflags"] = (GPR_OFFSETS["eflags"], 4, 32)
    for name in SEGMENTS:
        layout[name] = (GPR_OFFSETS[name], 8, 16)
    layout["orig_eax"] = (GPR_OFFSETS["orig_rax"], 4, 32)
    return layout


GPR_LAYOUT = _build_gpr_layout()


def _in_32_bit_mode(name: str) -> bool:
    """The vector registers 32-bit code has: number 0..7 (and every x87,
    MMX, control and opmask register)."""
    if name[:3] in ("xmm", "ymm", "zmm"):
        return int(name[3:]) < 8
    return True


XSTATE_LAYOUT_32 = {name: reg for name, reg in XSTATE_LAYOUT.items() if _in_32_bit_mode(name)}

Registers = register_class("i386", GPR_LAYOUT, XSTATE_LAYOUT_32, DISPLAY_NAMES, "eip", "esp")
