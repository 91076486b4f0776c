"""x86 debug registers (DR0-DR3, DR6, DR7) as a tracer sees them.

Linux exposes them to ptrace through PTRACE_PEEKUSER/POKEUSER at
offsetof(struct user, u_debugreg) + 8*i (arch/x86/include/asm/user_64.h). The
layout of DR6/DR7 is from the Intel SDM vol. 3, 18.2 "Debug Registers".

What encode_dr7() sets, and why:
- the local-enable bit L<i> (bit 2*i) of each used slot. Through ptrace DR7 is only a
  description: the kernel decodes it (arch/x86/kernel/ptrace.c, decode_dr7), treats
  L<i> or G<i> alike as "enabled", and programs the real register itself, saving and
  restoring it per thread. Local is the conventional choice (gdb does the same).
- R/W<i> (bits 16+4*i, 2 bits) and LEN<i> (bits 18+4*i, 2 bits) of each used slot.
- nothing else: LE/GE (bits 8, 9) are ignored by CPUs since the P6, GD (bit 13) is a
  guard against debug-register access that the kernel's decoder ignores anyway, and
  bit 10 reads as 1 on hardware but the decoder does not look at it either.
"""
from __future__ import annotations

__all__ = [
    "DEBUGREG_OFFSET", "DR_SLOTS", "DR6_BS", "DR6_BD", "DR6_BT", "DR6_TRAP_BITS",
    "debugreg_offset", "encode_dr7", "decode_dr7", "validate_watch", "triggered_slots",
]

DEBUGREG_OFFSET = 848  # offsetof(struct user, u_debugreg) on x86-64
DR_SLOTS = 4           # DR0-DR3 hold addresses: at most four hardware breakpoints

# DR6 status bits: B0-B3 (bits 0-3) say which slot fired.
DR6_TRAP_BITS = 0xF
DR6_BD = 1 << 13       # the next instruction accesses a debug register (GD was set)
DR6_BS = 1 << 14       # single step (EFLAGS.TF) trap
DR6_BT = 1 << 15       # task switch

# R/W field encodings. "r" alone does not exist on x86: 0b10 means I/O breakpoints
# (only with CR4.DE), so a read watch must be "rw".
_CONDITIONS = {"x": 0b00, "w": 0b01, "rw": 0b11}
# LEN field encodings; 0b10 means 8 bytes (only in 64-bit mode).
_LENGTHS = {1: 0b00, 2: 0b01, 8: 0b10, 4: 0b11}
_CONDITION_NAMES = {code: name for name, code in _CONDITIONS.items()}
_LENGTH_VALUES = {code: length for length, code in _LENGTHS.items()}


def debugreg_offset(index: int) -> int:
    """PTRACE_PEEKUSER/POKEUSER offset of DR<index> (0..7; 4 and 5 are reserved
    aliases the kernel refuses to write)."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"a debug register index is an int, not {type(index).__name__}")
    if not 0 <= index <= 7:
        raise ValueError(f"debug register index must be 0..7, got {index}")
    return DEBUGREG_OFFSET + 8 * index


DR6_OFFSET = debugreg_offset(6)  # the status register: which condition trapped (sticky)
DR7_OFFSET = debugreg_offset(7)  # the control register: which slots are on, and how


def _check_condition_length(condition, length) -> None:
    if not isinstance(condition, str):
        raise TypeError(f"a watch condition is a str, not {type(condition).__name__}")
    if isinstance(length, bool) or not isinstance(length, int):
        raise TypeError(f"a watch length is an int, not {type(length).__name__}")
    if condition == "r":
        raise ValueError("x86 debug registers cannot watch reads alone; "
                         "use condition 'rw' (read or write)")
    if condition not in _CONDITIONS:
        raise ValueError(f"unknown watch condition {condition!r}; "
                         "use 'x' (execute), 'w' (write) or 'rw' (read or write)")
    if length not in _LENGTHS:
        raise ValueError(f"watch length must be 1, 2, 4 or 8 bytes, got {length}")
    if condition == "x" and length != 1:
        # The kernel only accepts LEN=00 for execute breakpoints (arch_bp_generic_fields).
        raise ValueError(f"an execute ('x') hardware breakpoint has length 1, got {length}")


def validate_watch(address: int, condition: str, length: int) -> None:
    """Raise ValueError/TypeError unless (address, condition, length) fits a debug
    register. The CPU compares only the aligned block, so the address must be a
    multiple of the length (the kernel refuses others with EINVAL)."""
    if isinstance(address, bool) or not isinstance(address, int):
        raise TypeError(f"a watch address is an int, not {type(address).__name__}")
    _check_condition_length(condition, length)
    if not 0 <= address < 1 << 64:
        raise ValueError(f"watch address {address:#x} is not a 64-bit address")
    if address % length:
        raise ValueError(f"watch address {address:#x} is not aligned to its length "
                         f"{length} (x86 debug registers need address % length == 0)")


def encode_dr7(slots) -> int:
    """DR7 for up to four slots, each None (unused) or (condition, length)."""
    slots = list(slots)
    if len(slots) > DR_SLOTS:
        raise ValueError(f"x86 has {DR_SLOTS} debug address registers, "
                         f"got {len(slots)} slots")
    dr7 = 0
    for index, slot in enumerate(slots):
        if slot is None:
            continue
        try:
            condition, length = slot
        except (TypeError, ValueError):
            raise TypeError(f"slot {index} must be None or (condition, length), "
                            f"got {slot!r}") from None
        _check_condition_length(condition, length)
        dr7 |= 1 << (2 * index)  # L<index>
        field = _CONDITIONS[condition] | (_LENGTHS[length] << 2)
        dr7 |= field << (16 + 4 * index)
    return dr7


def decode_dr7(dr7: int) -> list:
    """The inverse of encode_dr7: four entries, None or (condition, length).

    A slot counts as enabled if either its local or global bit is set (as the kernel
    reads it); an I/O condition (R/W = 0b10) is reported as "io"."""
    slots: list[tuple[str, int] | None] = []
    for index in range(DR_SLOTS):
        if not (dr7 >> (2 * index)) & 0b11:
            slots.append(None)
            continue
        field = (dr7 >> (16 + 4 * index)) & 0xF
        condition = _CONDITION_NAMES.get(field & 0b11, "io")
        slots.append((condition, _LENGTH_VALUES[field >> 2]))
    return slots


def triggered_slots(dr6: int) -> list[int]:
    """Indexes (0..3) of the debug registers whose condition DR6 reports as met."""
    low = dr6 & 0xF
    if not low:
        return []   # (the usual answer: a software breakpoint's trap)
    return [index for index in range(DR_SLOTS) if low >> index & 1]
