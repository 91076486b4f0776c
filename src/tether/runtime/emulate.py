"""Execute a breakpoint's displaced instruction without single-stepping it.

Stepping over an int3 costs a second ptrace stop, and the usual way (lift the
int3, step, put it back) opens a window in which other threads run through
the breakpoint unseen. Function entries start with a handful of simple
instructions; for those we do what the CPU would do, straight into the
thread's registers (and stack), and the int3 stays armed. Anything else
returns False and the caller single-steps.

Emulated (64-bit mode, as the first instruction at a breakpoint):
  push r64 (50+r, 41 50+r)          endbr64, nop
  mov r64, r64 (REX.W 89/8B, mod=11) mov r32, imm32 (B8+r, 41 B8+r)
  sub rsp, imm8/imm32 (48 83/81 EC)  test r64, r64 (REX.W 85, mod=11)
"""

# Slot (8-byte index) in struct user_regs_struct of register number 0..15
# (rax rcx rdx rbx rsp rbp rsi rdi r8 .. r15).
REG_SLOT = (10, 11, 12, 5, 19, 4, 13, 14, 9, 8, 7, 6, 3, 2, 1, 0)
_RIP, _RSP, _EFLAGS = 16 * 8, 19 * 8, 18 * 8
_MASK = (1 << 64) - 1
_ENDBR64 = b"\xf3\x0f\x1e\xfa"
CF, PF, AF, ZF, SF, OF = 1 << 0, 1 << 2, 1 << 4, 1 << 6, 1 << 7, 1 << 11


def _get(gpr, offset):
    return int.from_bytes(gpr[offset:offset + 8], "little")


def _set(gpr, offset, value):
    gpr[offset:offset + 8] = (value & _MASK).to_bytes(8, "little")


def _reg(gpr, number):
    return _get(gpr, REG_SLOT[number] * 8)


def _put(gpr, number, value):
    _set(gpr, REG_SLOT[number] * 8, value)


def _parity_even(value: int) -> bool:
    return bin(value & 0xFF).count("1") % 2 == 0


def _result_flags(eflags: int, result: int) -> int:
    eflags &= ~(PF | ZF | SF)
    if _parity_even(result):
        eflags |= PF
    if result == 0:
        eflags |= ZF
    if result >> 63:
        eflags |= SF
    return eflags


def sub_flags(eflags: int, dst: int, src: int) -> tuple[int, int]:
    """64-bit dst - src: (result, eflags) as the CPU computes them."""
    result = (dst - src) & _MASK
    eflags = _result_flags(eflags, result) & ~(CF | AF | OF)
    if dst < src:
        eflags |= CF
    if ((dst ^ src ^ result) >> 4) & 1:
        eflags |= AF
    if (((dst ^ src) & (dst ^ result)) >> 63) & 1:
        eflags |= OF
    return result, eflags


def test_flags(eflags: int, a: int, b: int) -> int:
    """64-bit test a, b: CF and OF cleared, SF/ZF/PF from a & b (AF undefined: kept)."""
    return _result_flags(eflags, a & b) & ~(CF | OF)


def emulate(gpr: bytearray, code: bytes, push) -> int | None:
    """Apply the instruction at code[0] to `gpr`; `push(address, value)` writes
    the stack. Returns its length, or None if it is not one we emulate."""
    first = code[0]
    rex = 0
    i = 0
    if 0x40 <= first <= 0x4F:
        rex, i = first, 1
    op = code[i]
    r_bit, b_bit, w_bit = (rex >> 2) & 1, rex & 1, (rex >> 3) & 1
    if 0x50 <= op <= 0x57 and not w_bit and rex in (0, 0x41):
        value = _reg(gpr, (op - 0x50) + 8 * b_bit)
        rsp = (_get(gpr, _RSP) - 8) & _MASK
        push(rsp, value)
        _set(gpr, _RSP, rsp)
        return i + 1
    if 0xB8 <= op <= 0xBF and not w_bit and rex in (0, 0x41):
        _put(gpr, (op - 0xB8) + 8 * b_bit, int.from_bytes(code[i + 1:i + 5], "little"))
        return i + 5
    if op == 0x90 and rex == 0:
        return 1
    if code.startswith(_ENDBR64):
        return 4
    if not w_bit or len(code) < i + 2:
        return None
    modrm = code[i + 1]
    if modrm >> 6 != 3:
        return None
    reg = ((modrm >> 3) & 7) + 8 * r_bit
    rm = (modrm & 7) + 8 * b_bit
    if op == 0x89:      # mov r/m64, r64
        _put(gpr, rm, _reg(gpr, reg))
        return i + 2
    if op == 0x8B:      # mov r64, r/m64
        _put(gpr, reg, _reg(gpr, rm))
        return i + 2
    if op == 0x85:      # test r/m64, r64
        _set(gpr, _EFLAGS, test_flags(_get(gpr, _EFLAGS), _reg(gpr, rm), _reg(gpr, reg)))
        return i + 2
    if op in (0x83, 0x81) and (modrm >> 3) & 7 == 5 and rm == 4:  # sub rsp, imm
        if op == 0x83:
            imm = int.from_bytes(code[i + 2:i + 3], "little", signed=True) & _MASK
            length = i + 3
        else:
            imm = int.from_bytes(code[i + 2:i + 6], "little", signed=True) & _MASK
            length = i + 6
        result, eflags = sub_flags(_get(gpr, _EFLAGS), _get(gpr, _RSP), imm)
        _set(gpr, _RSP, result)
        _set(gpr, _EFLAGS, eflags)
        return length
    return None


def _push_to(mem):
    def push(address, value):
        mem.write(address, value.to_bytes(8, "little"))
    return push


def emulate_displaced(task, code: bytes, mem) -> bool:
    """`code`: the bytes at rip with the original first byte restored.
    emulate() changes nothing when it returns None, so it can work on the
    register cache directly."""
    gpr = task.gpr()
    length = emulate(gpr, code, _push_to(mem))
    if length is None:
        return False
    _set(gpr, _RIP, _get(gpr, _RIP) + length)
    task.gpr_dirty()
    return True
