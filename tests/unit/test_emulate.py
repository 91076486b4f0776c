"""The displaced-instruction emulator, checked against what the CPU does:
each case runs the same instruction natively (compiled with gcc) is overkill
here, so flags are checked against hand-computed architectural results."""
import struct

import pytest

from tether.arch.amd64.registers import GPR_OFFSETS
from tether.runtime.emulate import AF, CF, OF, PF, SF, ZF, REG_SLOT, emulate

USER64_CS, USER32_CS = 0x33, 0x23

RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
R8, R12, R14, R15 = 8, 12, 14, 15


def gpr_with(**regs):
    names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)]
    buf = bytearray(27 * 8)
    struct.pack_into("<Q", buf, GPR_OFFSETS["cs"], USER64_CS)  # a thread running 64-bit code
    for name, value in regs.items():
        struct.pack_into("<Q", buf, REG_SLOT[names.index(name)] * 8, value)
    return buf


def reg(buf, number):
    return struct.unpack_from("<Q", buf, REG_SLOT[number] * 8)[0]


def eflags(buf):
    return struct.unpack_from("<Q", buf, 18 * 8)[0]


def run(buf, code):
    pushes = []
    n = emulate(buf, code + b"\x00" * 8, lambda a, v: pushes.append((a, v)))
    return n, pushes


def test_push_rbp_and_r14():
    buf = gpr_with(rsp=0x7000, rbp=0x1234, r14=0x5678)
    assert run(buf, b"\x55") == (1, [(0x6FF8, 0x1234)])
    assert reg(buf, RSP) == 0x6FF8
    assert run(buf, b"\x41\x56") == (2, [(0x6FF0, 0x5678)])
    assert reg(buf, RSP) == 0x6FF0


def test_mov_imm32_zero_extends():
    buf = gpr_with(rax=0xFFFFFFFFFFFFFFFF, r8=0xFFFFFFFFFFFFFFFF)
    assert run(buf, b"\xb8\x6e\x00\x00\x00")[0] == 5
    assert reg(buf, RAX) == 0x6E
    assert run(buf, b"\x41\xb8\x01\x00\x00\x00")[0] == 6
    assert reg(buf, R8) == 1


def test_mov_reg_reg_both_directions():
    buf = gpr_with(rdi=0xAAAA, rax=0, r12=0x77)
    assert run(buf, b"\x48\x89\xf8")[0] == 3      # mov %rdi,%rax
    assert reg(buf, RAX) == 0xAAAA
    assert run(buf, b"\x4c\x89\xe7")[0] == 3      # mov %r12,%rdi
    assert reg(buf, RDI) == 0x77
    assert run(buf, b"\x48\x8b\xec")[0] == 3      # mov %rsp,%rbp (8B form)
    assert reg(buf, RBP) == reg(buf, RSP)


def test_sub_rsp_sets_flags_like_the_cpu():
    buf = gpr_with(rsp=0x7FFC0010)
    assert run(buf, b"\x48\x83\xec\x18")[0] == 4   # sub $0x18,%rsp
    assert reg(buf, RSP) == 0x7FFBFFF8
    f = eflags(buf)
    assert not f & (CF | ZF | SF | OF)
    assert f & AF  # borrow out of bit 3 (0x0 - 0x8)
    assert bool(f & PF) == (bin(0xF8).count("1") % 2 == 0)
    assert run(buf, b"\x48\x81\xec\x00\x10\x00\x00")[0] == 7
    assert reg(buf, RSP) == 0x7FFBEFF8


def sub_rsp(rsp, imm8, flags=0):
    """Flags after `sub $imm8, %rsp` (imm8 sign-extended, as the CPU does)."""
    buf = gpr_with(rsp=rsp)
    struct.pack_into("<Q", buf, 18 * 8, flags)
    assert run(buf, b"\x48\x83\xec" + bytes((imm8,)))[0] == 4
    return reg(buf, RSP), eflags(buf)


def flags_of_test(rdi, rsi, flags):
    buf = gpr_with(rdi=rdi, rsi=rsi)
    struct.pack_into("<Q", buf, 18 * 8, flags)
    assert run(buf, b"\x48\x85\xf7")[0] == 3      # test %rsi,%rdi
    return eflags(buf)


def test_sub_and_test_flag_rules():
    assert sub_rsp(0, 1) == ((1 << 64) - 1, CF | SF | PF | AF)
    assert sub_rsp(5, 5)[1] == ZF | PF
    assert sub_rsp(1 << 63, 1)[1] & OF               # most negative - 1 overflows
    assert sub_rsp(0x10, 0xFF) == (0x11, PF | CF | AF)  # -1 sign-extended: 0x10 - (2**64 - 1)
    assert flags_of_test(0, 0, CF | OF) == ZF | PF
    assert flags_of_test(1 << 63, 1 << 63, 0) & SF
    assert flags_of_test(3, 1, AF) == AF                   # AF is left as it was


def test_test_rdi_rdi():
    buf = gpr_with(rdi=0)
    assert run(buf, b"\x48\x85\xff")[0] == 3
    assert eflags(buf) & ZF


@pytest.mark.parametrize("code", [b"\xc3", b"\xe8\x00\x00\x00\x00", b"\x48\x89\x07",
                                  b"\x80\x3d\x00\x00\x00\x00\x00", b"\x0f\x05", b"\x85\xff"])
def test_others_are_not_emulated(code):
    buf = gpr_with(rsp=0x7000)
    before = bytes(buf)
    assert run(buf, code) == (None, [])
    assert bytes(buf) == before


@pytest.mark.parametrize("code", [b"\x55", b"\x48\x89\xe5", b"\xb8\x01\x00\x00\x00", b"\x90",
                                  b"\x41\x56", b"\x48\x83\xec\x18"])
def test_32_bit_code_is_never_emulated(code):
    # In a 32-bit task (cs = __USER32_CS) 0x48 is `dec eax` and 0x41 `inc ecx`:
    # the emulator decodes 64-bit mode only, so it leaves every such thread
    # to the single step, registers untouched.
    buf = gpr_with(rsp=0x7000, rbp=0x1234, rax=5)
    struct.pack_into("<Q", buf, GPR_OFFSETS["cs"], USER32_CS)
    before = bytes(buf)
    assert run(buf, code) == (None, [])
    assert bytes(buf) == before
