"""The x86 sub-registers, shared by the x86-64 and i386 register tables:
x86 is little-endian, so eax/ax/al start at the same byte of rax's field in
struct user_regs_struct and ah one byte later; every sub-register is a
byte-aligned slice of its full register."""

__all__ = ["LEGACY_SUBREGISTERS", "SEGMENTS", "SUBREGISTERS_64", "subregister_layout"]

# Segment selectors are 16 bits wide; the kernel rejects wider values (putreg ->
# -EIO), so we refuse them at write time instead of at the next resume.
SEGMENTS = ("cs", "ss", "ds", "es", "fs", "gs")

# (full register, 32-bit, 16-bit, low 8-bit, high 8-bit or None): the eight of
# the 32-bit ISA (i386 has these), then x86-64's r8..r15.
LEGACY_SUBREGISTERS = (
    ("rax", "eax", "ax", "al", "ah"),
    ("rbx", "ebx", "bx", "bl", "bh"),
    ("rcx", "ecx", "cx", "cl", "ch"),
    ("rdx", "edx", "dx", "dl", "dh"),
    ("rsi", "esi", "si", "sil", None),
    ("rdi", "edi", "di", "dil", None),
    ("rbp", "ebp", "bp", "bpl", None),
    ("rsp", "esp", "sp", "spl", None),
)
SUBREGISTERS_64 = LEGACY_SUBREGISTERS + tuple((f"r{i}", f"r{i}d", f"r{i}w", f"r{i}b", None)
                                              for i in range(8, 16))


def subregister_layout(offsets: dict[str, int], subregisters: tuple) -> dict[str, tuple[int, int, int]]:
    """name -> (byte offset, bytes accessed, width in bits) of the 32-, 16-
    and 8-bit parts of `subregisters`, the full registers at `offsets`."""
    layout = {}
    for full, r32, r16, low8, high8 in subregisters:
        offset = offsets[full]
        layout[r32] = (offset, 4, 32)
        layout[r16] = (offset, 2, 16)
        layout[low8] = (offset, 1, 8)
        if high8:
            layout[high8] = (offset + 1, 1, 8)
    return layout
