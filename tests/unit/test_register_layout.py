"""The general-register layout is defined once, by the kernel's struct
user_regs_struct (read with offsetof by the C extension, exported as
_native.GPR_LAYOUT / GPR_SIZE): tether.arch.amd64.registers derives GPR_FIELDS
and its offsets from it, and the C emulator's register slots use it too. These
tests check the derived names and that the layout is what the rest of the code
assumes (27 consecutive 8-byte fields)."""
import struct

import pytest

from tether import _native as native
from tether.arch.amd64 import registers
from tether.arch.amd64.registers import (
    EFLAGS_OFFSET, GPR_FIELDS, GPR_OFFSETS, GPR_SIZE, ORIG_RAX_OFFSET, RAX_OFFSET,
    RIP_OFFSET, RSP_OFFSET, SYSCALL_ARG_OFFSETS,
)


def test_every_field_has_the_kernels_offset():
    assert GPR_OFFSETS == native.GPR_LAYOUT
    for name in GPR_FIELDS:
        assert GPR_OFFSETS[name] == native.GPR_LAYOUT[name], name


def test_size_and_order_match_the_kernel():
    assert GPR_SIZE == native.GPR_SIZE == 216
    assert tuple(sorted(native.GPR_LAYOUT, key=native.GPR_LAYOUT.get)) == GPR_FIELDS


def test_named_offsets():
    layout = native.GPR_LAYOUT
    assert RIP_OFFSET == layout["rip"]
    assert RSP_OFFSET == layout["rsp"]
    assert RAX_OFFSET == layout["rax"]
    assert ORIG_RAX_OFFSET == layout["orig_rax"]
    assert EFLAGS_OFFSET == layout["eflags"]
    assert SYSCALL_ARG_OFFSETS == tuple(layout[name] for name in ("rdi", "rsi", "rdx", "r10", "r8", "r9"))
    for name in ("RIP_OFFSET", "RSP_OFFSET", "RAX_OFFSET", "ORIG_RAX_OFFSET", "EFLAGS_OFFSET",
                 "SYSCALL_ARG_OFFSETS", "GPR_OFFSETS"):
        assert name in registers.__all__


# Register numbers 0..15 as instructions encode them.
ENCODING_ORDER = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")


@pytest.mark.parametrize("number", range(16))
def test_c_emulator_writes_the_field_python_reads(number):
    # mov r32, imm32 (B8+r, with REX.B 41 for r8..r15) zero-extends into the field.
    buf = bytearray(GPR_SIZE)
    struct.pack_into("<Q", buf, GPR_OFFSETS["cs"], 0x33)  # 64-bit code (the emulator checks)
    code = (b"\x41" if number >= 8 else b"") + bytes([0xB8 + number % 8]) + struct.pack("<I", 0x89ABCDEF)
    assert native.emulate(buf, code) == (len(code), None, 0)
    name = ENCODING_ORDER[number]
    assert struct.unpack_from("<Q", buf, GPR_OFFSETS[name])[0] == 0x89ABCDEF
    struct.pack_into("<Q", buf, GPR_OFFSETS["cs"], 0)
    assert not any(buf[:GPR_OFFSETS[name]]) and not any(buf[GPR_OFFSETS[name] + 8:])


def test_c_emulator_push_and_flags_use_the_same_rsp_and_eflags():
    buf = bytearray(GPR_SIZE)
    struct.pack_into("<Q", buf, GPR_OFFSETS["cs"], 0x33)  # 64-bit code (the emulator checks)
    struct.pack_into("<Q", buf, RSP_OFFSET, 0x7000)
    struct.pack_into("<Q", buf, GPR_OFFSETS["rbp"], 0x1234)
    assert native.emulate(buf, b"\x55") == (1, 0x6FF8, 0x1234)   # push rbp
    assert struct.unpack_from("<Q", buf, RSP_OFFSET)[0] == 0x6FF8
    assert native.emulate(buf, b"\x48\x85\xc0") == (3, None, 0)   # test rax, rax: ZF
    assert struct.unpack_from("<Q", buf, EFLAGS_OFFSET)[0] & (1 << 6)
    assert struct.unpack_from("<Q", buf, RIP_OFFSET)[0] == 0       # rip is not moved


def test_the_fields_are_consecutive_8_byte_words():
    assert [GPR_OFFSETS[name] for name in GPR_FIELDS] == list(range(0, GPR_SIZE, 8))
    assert GPR_FIELDS[:4] == ("r15", "r14", "r13", "r12") and GPR_FIELDS[16] == "rip"
