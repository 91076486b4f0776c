"""Register views over synthetic user_regs_struct / XSAVE buffers."""
import struct

import pytest
from hypothesis import given, settings, strategies as st

from tether.arch.amd64.registers import (
    GPR_FIELDS, GPR_SIZE, Registers, UnknownRegisterError, format_registers,
    frozen_registers, register_names,
)

XCR0_AVX = 0x207          # x87 | SSE | AVX | PKRU: what this AMD machine reports
XCR0_AVX512 = 0xE7        # x87 | SSE | AVX | opmask | ZMM_Hi256 | Hi16_ZMM


class FakeCache:
    """The runtime's per-thread cache protocol, counting calls."""

    def __init__(self, gpr, xstate=b""):
        self.gpr_buf = bytearray(gpr)
        self.xstate_buf = bytearray(xstate)
        self.gpr_calls = self.xstate_calls = 0
        self.gpr_dirty_calls = self.xstate_dirty_calls = 0

    def gpr(self):
        self.gpr_calls += 1
        return self.gpr_buf

    def gpr_dirty(self):
        self.gpr_dirty_calls += 1

    def xstate(self):
        self.xstate_calls += 1
        return self.xstate_buf

    def xstate_dirty(self):
        self.xstate_dirty_calls += 1


def gpr_values():
    # Distinct, recognisable values: field i holds 0x1100..00ii patterns.
    values = {name: (0x0101010101010101 * (i + 1)) ^ 0x8000000000000000
              for i, name in enumerate(GPR_FIELDS)}
    values.update(rax=0x1122334455667788, cs=0x33, ss=0x2B, ds=0, es=0, fs=0, gs=0)
    return values


def gpr_bytes(values=None):
    values = values or gpr_values()
    return struct.pack("<27Q", *(values[name] for name in GPR_FIELDS))


def make_xstate(size=2440, xcr0=XCR0_AVX, bv=0, fill=0xAA):
    """An XSAVE area full of `fill` garbage, with the given XCR0 and XSTATE_BV."""
    buf = bytearray([fill]) * size
    if size >= 576:
        buf[512:576] = bytes(64)  # the header's reserved bytes are zero
        struct.pack_into("<Q", buf, 464, xcr0)
        struct.pack_into("<Q", buf, 512, bv)
    return buf


def u128(buf, offset):
    return int.from_bytes(buf[offset:offset + 16], "little")


@pytest.fixture
def cache():
    return FakeCache(gpr_bytes(), make_xstate())


@pytest.fixture
def regs(cache):
    return Registers(cache)


# --- general-purpose registers -----------------------------------------------------------

def test_gpr_size_matches_kernel_struct():
    assert GPR_SIZE == 216 and len(GPR_FIELDS) == 27


def test_full_registers_read_their_struct_field(regs):
    for name, value in gpr_values().items():
        assert getattr(regs, name) == value, name


def test_subregister_reads(regs):
    assert regs.eax == 0x55667788
    assert regs.ax == 0x7788
    assert regs.al == 0x88
    assert regs.ah == 0x77
    rip = gpr_values()["rip"]
    assert regs.eip == rip & 0xFFFFFFFF
    r9 = gpr_values()["r9"]
    assert (regs.r9d, regs.r9w, regs.r9b) == (r9 & 0xFFFFFFFF, r9 & 0xFFFF, r9 & 0xFF)
    rsi = gpr_values()["rsi"]
    assert (regs.esi, regs.si, regs.sil) == (rsi & 0xFFFFFFFF, rsi & 0xFFFF, rsi & 0xFF)
    rsp = gpr_values()["rsp"]
    assert (regs.esp, regs.sp, regs.spl) == (rsp & 0xFFFFFFFF, rsp & 0xFFFF, rsp & 0xFF)
    for name in ("bpl", "dil", "bh", "ch", "dh", "r15b", "r8w", "r12d"):
        assert isinstance(getattr(regs, name), int)


def test_subregister_writes_change_only_their_bits(regs, cache):
    regs.al = 0xFF
    assert regs.rax == 0x11223344556677FF
    regs.ah = 0x12
    assert regs.rax == 0x112233445566_12FF
    regs.ax = 0xBEEF
    assert regs.rax == 0x112233445566BEEF
    regs.eax = 0xDEADBEEF  # like the CPU and libdebug: a 32-bit write zero-extends
    assert regs.rax == 0xDEADBEEF
    assert cache.gpr_dirty_calls == 4


def test_writes_touch_only_the_register_bytes(regs, cache):
    before = bytes(cache.gpr_buf)
    regs.bh = 0x5A
    offset = 8 * GPR_FIELDS.index("rbx") + 1
    expected = bytearray(before)
    expected[offset] = 0x5A
    assert cache.gpr_buf == expected


def test_full_register_write_and_rip(regs, cache):
    regs.rip = 0x401000
    assert regs.rip == 0x401000
    assert struct.unpack_from("<Q", cache.gpr_buf, 8 * GPR_FIELDS.index("rip"))[0] == 0x401000
    regs.r15 = 7
    assert cache.gpr_buf[0:8] == (7).to_bytes(8, "little")


def test_negative_values_are_twos_complement(regs):
    regs.rax = -1
    assert regs.rax == 2**64 - 1
    regs.al = -128
    assert regs.al == 0x80
    regs.ebx = -2
    assert regs.ebx == 0xFFFFFFFE


@pytest.mark.parametrize("name, value", [
    ("al", 256), ("al", -129), ("ax", 0x10000), ("eax", 2**32), ("rax", 2**64),
    ("rax", -(2**63) - 1), ("cs", 0x10000),
])
def test_values_that_do_not_fit_raise_valueerror(regs, cache, name, value):
    before = bytes(cache.gpr_buf)
    with pytest.raises(ValueError, match=name):
        setattr(regs, name, value)
    assert cache.gpr_buf == before and cache.gpr_dirty_calls == 0


@pytest.mark.parametrize("value", ["1", 1.0, None, b"\x01"])
def test_non_int_write_raises_typeerror(regs, value):
    with pytest.raises(TypeError, match="rax"):
        regs.rax = value


def test_bool_is_accepted_as_int(regs):
    regs.rcx = True
    assert regs.rcx == 1


def test_unknown_register_read_and_write(regs):
    with pytest.raises(UnknownRegisterError, match="foo"):
        regs.foo
    with pytest.raises(UnknownRegisterError, match="bar"):
        regs.bar = 1
    with pytest.raises(AttributeError):
        regs.RAX
    with pytest.raises(ValueError):
        regs.xmm99
    assert not hasattr(regs, "eflagz")
    assert hasattr(regs, "rax")
    assert issubclass(UnknownRegisterError, AttributeError)
    assert issubclass(UnknownRegisterError, ValueError)


def test_gpr_access_never_touches_xstate(regs, cache):
    regs.rax, regs.rip, regs.al, regs.fs_base
    regs.rbx = 3
    regs.filter(3)
    format_registers(regs)
    assert cache.xstate_calls == 0


def test_filter_finds_registers_and_sub_registers():
    regs = Registers(FakeCache(bytes(GPR_SIZE)))
    regs.rbx = 0x1234
    regs.r12 = 0x1234
    assert regs.filter(0x1234) == ["rbx", "r12", "ebx", "bx", "r12d", "r12w"]
    regs.rcx = 0x1122334455667788
    found = regs.filter(0x88)
    assert "cl" in found and "rcx" not in found and "ecx" not in found
    assert regs.filter(0x55667788) == ["ecx"]
    regs.rdx = -1
    assert regs.filter(-1) == ["rdx", "edx", "dx", "dl", "dh"]
    assert regs.filter(0x99999) == []
    with pytest.raises(TypeError):
        regs.filter("rax")


@settings(max_examples=200, deadline=None)
@given(value=st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_filter_names_exactly_the_registers_that_read_back_the_value(value):
    regs = Registers(FakeCache(gpr_bytes()))
    regs.rsi = value
    for name in regs.filter(value):
        assert getattr(regs, name) == value
    assert "rsi" in regs.filter(value)


def test_dir_and_register_names(regs):
    names = dir(regs)
    for name in ("rax", "eax", "ah", "r8b", "xmm0", "ymm15", "st7", "mm0", "filter"):
        assert name in names
    assert "zmm0" not in names  # this XCR0 has no AVX-512
    everything = register_names()
    assert {"zmm31", "k7", "xmm31", "rip", "orig_rax", "gs_base"} <= set(everything)
    assert len(everything) == len(set(everything))


# --- XSAVE area: SSE / AVX / AVX-512 -----------------------------------------------------

def test_xmm_with_sse_bit_clear_reads_zero(regs, cache):
    assert u128(cache.xstate_buf, 160) != 0  # garbage is there...
    assert regs.xmm0 == 0                    # ...but the component is in init state
    assert cache.xstate_calls >= 1


def test_xmm_with_sse_bit_set_reads_buffer():
    xs = make_xstate(bv=0b11)
    xs[160 + 16 * 3:160 + 16 * 4] = (0x0123456789ABCDEF_FEDCBA9876543210).to_bytes(16, "little")
    regs = Registers(FakeCache(gpr_bytes(), xs))
    assert regs.xmm3 == 0x0123456789ABCDEF_FEDCBA9876543210


def test_xmm_write_with_bit_clear_zeroes_component_and_sets_bit(regs, cache):
    regs.xmm5 = 0x42
    buf = cache.xstate_buf
    assert struct.unpack_from("<Q", buf, 512)[0] & 0b10
    assert u128(buf, 160 + 16 * 5) == 0x42
    assert regs.xmm5 == 0x42
    # the stale garbage of the other registers was cleared, not resurrected
    assert all(u128(buf, 160 + 16 * i) == 0 for i in range(16) if i != 5)
    assert regs.xmm4 == 0
    assert cache.xstate_dirty_calls == 1
    # AVX component untouched
    assert not struct.unpack_from("<Q", buf, 512)[0] & 0b100


def test_ymm_reads_low_and_high_halves():
    xs = make_xstate(bv=0b110)
    xs[160 + 16 * 2:160 + 16 * 3] = (1).to_bytes(16, "little")
    xs[576 + 16 * 2:576 + 16 * 3] = (2).to_bytes(16, "little")
    regs = Registers(FakeCache(gpr_bytes(), xs))
    assert regs.ymm2 == (2 << 128) | 1
    assert regs.xmm2 == 1


def test_ymm_high_half_reads_zero_when_avx_bit_clear():
    xs = make_xstate(bv=0b010)
    xs[160:176] = (7).to_bytes(16, "little")
    regs = Registers(FakeCache(gpr_bytes(), xs))
    assert regs.ymm0 == 7


def test_ymm_write_sets_both_components(regs, cache):
    value = (0xAAAA << 128) | 0xBBBB
    regs.ymm1 = value
    bv = struct.unpack_from("<Q", cache.xstate_buf, 512)[0]
    assert bv & 0b110 == 0b110
    assert u128(cache.xstate_buf, 160 + 16) == 0xBBBB
    assert u128(cache.xstate_buf, 576 + 16) == 0xAAAA
    assert regs.ymm1 == value
    assert u128(cache.xstate_buf, 576) == 0  # AVX area zeroed before use


def test_xmm_write_keeps_ymm_upper_half(regs):
    regs.ymm7 = (0x55 << 128) | 0x66
    regs.xmm7 = 0x77
    assert regs.ymm7 == (0x55 << 128) | 0x77


def test_vector_width_checks(regs):
    regs.xmm0 = -1
    assert regs.xmm0 == 2**128 - 1
    with pytest.raises(ValueError):
        regs.xmm0 = 2**128
    with pytest.raises(ValueError):
        regs.ymm0 = 2**256
    with pytest.raises(TypeError):
        regs.xmm0 = 1.5


def test_avx512_absent_by_xcr0_even_if_buffer_is_long(regs, cache):
    assert len(cache.xstate_buf) > 1664  # buffer covers opmask / ZMM_Hi256 offsets
    with pytest.raises(UnknownRegisterError, match="AVX-512"):
        regs.zmm0
    with pytest.raises(UnknownRegisterError, match="not available"):
        regs.k1
    with pytest.raises(UnknownRegisterError, match="AVX-512"):
        regs.zmm3 = 1
    assert not hasattr(regs, "zmm20")
    assert "zmm0" not in register_names(cache)
    assert "ymm15" in register_names(cache)


def test_component_beyond_buffer_is_unavailable():
    # No XCR0 recorded (0): only the buffer length decides.
    regs = Registers(FakeCache(gpr_bytes(), make_xstate(size=832, xcr0=0)))
    regs.ymm0  # fits in 832 bytes
    with pytest.raises(UnknownRegisterError, match="832"):
        regs.zmm0


def test_fxsave_only_buffer_has_xmm_but_no_ymm():
    xs = bytearray(512)
    xs[160:176] = (9).to_bytes(16, "little")
    regs = Registers(FakeCache(gpr_bytes(), xs))
    assert regs.xmm0 == 9  # no header: legacy state is valid as is
    with pytest.raises(UnknownRegisterError):
        regs.ymm0


def avx512_regs(bv=0xE7):
    cache = FakeCache(gpr_bytes(), make_xstate(size=2696, xcr0=XCR0_AVX512, bv=bv, fill=0))
    return Registers(cache), cache.xstate_buf


def test_zmm_low_registers_span_three_components():
    regs, xs = avx512_regs()
    xs[160:176] = (1).to_bytes(16, "little")
    xs[576:592] = (2).to_bytes(16, "little")
    xs[1152:1184] = (3).to_bytes(32, "little")
    assert regs.zmm0 == (3 << 256) | (2 << 128) | 1
    regs.zmm1 = (5 << 256) | (4 << 128) | 6
    assert int.from_bytes(xs[1184:1216], "little") == 5
    assert u128(xs, 592) == 4 and u128(xs, 176) == 6


def test_zmm_high_registers_and_their_xmm_ymm_views():
    regs, xs = avx512_regs()
    base = 1664 + 64 * 4
    xs[base:base + 64] = (0x1234 << 400 | 0xFEED).to_bytes(64, "little")
    assert regs.zmm20 == 0x1234 << 400 | 0xFEED
    assert regs.xmm20 == 0xFEED
    assert regs.ymm20 == 0xFEED
    regs.xmm20 = 0xBEEF
    assert regs.zmm20 == 0x1234 << 400 | 0xBEEF


def test_opmask_registers_and_bit():
    regs, xs = avx512_regs(bv=0b11)
    xs[1088 + 8 * 2:1088 + 8 * 3] = (0xFF).to_bytes(8, "little")
    assert regs.k2 == 0  # opmask bit (5) clear
    regs.k3 = 0xF0F0
    bv = struct.unpack_from("<Q", xs, 512)[0]
    assert bv & (1 << 5)
    assert regs.k3 == 0xF0F0 and regs.k2 == 0  # area zeroed before the write


# --- x87 / MMX / MXCSR ------------------------------------------------------------------

def test_x87_in_init_state_reads_init_values(regs):
    assert regs.fcw == 0x037F  # the x87 init state is not all zero
    assert regs.fsw == 0 and regs.ftw == 0 and regs.st0 == 0 and regs.mm3 == 0


def test_x87_registers_read_buffer_when_bit_set():
    xs = make_xstate(bv=0b1, fill=0)
    struct.pack_into("<HHB", xs, 0, 0x027F, 0x3800, 0x81)
    st1 = 0x4000_C90FDAA22168C235  # 80-bit pi-ish pattern
    xs[48:58] = st1.to_bytes(10, "little")
    xs[58:64] = b"\xEE" * 6  # reserved bytes of the 16-byte slot
    regs = Registers(FakeCache(gpr_bytes(), xs))
    assert (regs.fcw, regs.fsw, regs.ftw) == (0x027F, 0x3800, 0x81)
    assert regs.st1 == pytest.approx(3.141592653589793)  # st registers read as floats
    assert regs.mm1 == st1 & (2**64 - 1)


def test_x87_write_from_init_state(regs, cache):
    regs.mm2 = 0x1122334455667788
    xs = cache.xstate_buf
    assert struct.unpack_from("<Q", xs, 512)[0] & 1
    assert regs.fcw == 0x037F  # init FCW written along with the component
    assert struct.unpack_from("<H", xs, 0)[0] == 0x037F
    assert regs.st0 == 0
    regs.st2 = -2.0  # an x87 float: sign 1, exponent 0x4000, mantissa 1 << 63
    assert regs.mm2 == 0x8000000000000000
    assert regs.st2 == -2.0


def test_mxcsr_is_always_meaningful_and_write_sets_sse(regs, cache):
    struct.pack_into("<I", cache.xstate_buf, 24, 0x1F80)
    assert regs.mxcsr == 0x1F80  # read even though the SSE bit is clear
    regs.mxcsr = 0x1FA0
    assert struct.unpack_from("<I", cache.xstate_buf, 24)[0] == 0x1FA0
    assert struct.unpack_from("<Q", cache.xstate_buf, 512)[0] & 0b10
    assert regs.xmm0 == 0  # SSE area zeroed when the bit was set


def test_no_xstate_at_all():
    regs = Registers(FakeCache(gpr_bytes(), b""))
    with pytest.raises(UnknownRegisterError, match="xmm0"):
        regs.xmm0
    assert regs.rax == gpr_values()["rax"]


# --- snapshots ----------------------------------------------------------------------------

def test_frozen_registers_read_copies_and_refuse_writes():
    gpr = bytearray(gpr_bytes())
    xs = make_xstate(bv=0b10, fill=0)
    xs[160:176] = (0x99).to_bytes(16, "little")
    frozen = frozen_registers(gpr, xs)
    gpr[80:88] = bytes(8)  # changing the original does not change the snapshot
    assert frozen.rax == 0x1122334455667788
    assert frozen.ah == 0x77
    assert frozen.xmm0 == 0x99
    with pytest.raises(RuntimeError, match="snapshot registers are read-only"):
        frozen.rax = 1
    with pytest.raises(RuntimeError, match="read-only"):
        frozen.xmm0 = 1
    with pytest.raises(UnknownRegisterError):
        frozen.nope = 1
    assert frozen.rax == 0x1122334455667788
    assert isinstance(frozen, Registers)


def test_frozen_registers_without_xstate_and_bad_input():
    frozen = frozen_registers(gpr_bytes(), None)
    with pytest.raises(UnknownRegisterError):
        frozen.ymm0
    with pytest.raises(ValueError, match="216"):
        frozen_registers(b"\0" * 100, None)
    with pytest.raises(TypeError):
        frozen_registers("abc", None)


# --- pretty printing ----------------------------------------------------------------------

def test_format_registers_general(regs):
    regs.rax = 0xDEADBEEF
    regs.eflags = 0x246
    text = format_registers(regs)
    lines = text.splitlines()
    assert lines[0].split() == ["rax", "0x00000000deadbeef"]
    assert any(line.startswith("eflags") and "ZF" in line and "IF" in line for line in lines)
    assert "0x0033" in text  # cs as a 16-bit selector
    assert "xmm0" not in text


def test_format_registers_with_fp(regs):
    regs.ymm3 = (1 << 200) | 5
    text = format_registers(regs, include_fp=True)
    assert "ymm3" in text and f"{(1 << 200) | 5:064x}" in text
    assert "mxcsr" in text and "st7" in text and "fcw" in text
    assert "zmm0" not in text and "k0" not in text


def test_format_registers_with_avx512():
    regs, _ = avx512_regs()
    text = format_registers(regs, include_fp=True)
    assert "zmm31" in text and "k7" in text and "xmm0 " in text and "ymm0 " in text
