"""x86 debug-register encoding (DR7) and decoding (DR6)."""
import pytest

from tether.arch.amd64.debugregs import (
    DEBUGREG_OFFSET, DR6_BS, DR_SLOTS, decode_dr7, debugreg_offset, encode_dr7,
    triggered_slots, validate_watch,
)


def test_offsets():
    assert DEBUGREG_OFFSET == 848
    assert debugreg_offset(0) == 848
    assert debugreg_offset(6) == 848 + 48
    assert debugreg_offset(7) == 848 + 56
    for bad in (-1, 8):
        with pytest.raises(ValueError):
            debugreg_offset(bad)
    with pytest.raises(TypeError):
        debugreg_offset("7")


def test_encode_single_slots():
    # L0, R/W0 = 01 (write), LEN0 = 11 (4 bytes)
    assert encode_dr7([("w", 4)]) == 0x000D0001
    # L1, R/W1 = 00, LEN1 = 00
    assert encode_dr7([None, ("x", 1)]) == 0x00000004
    # L3, R/W3 = 11, LEN3 = 10 (8 bytes)
    assert encode_dr7([None, None, None, ("rw", 8)]) == 0xB0000040
    # L2, R/W2 = 01, LEN2 = 01 (2 bytes)
    assert encode_dr7([None, None, ("w", 2)]) == 0x05000010
    assert encode_dr7([]) == 0
    assert encode_dr7([None] * 4) == 0


def test_encode_sets_no_global_or_exact_bits():
    dr7 = encode_dr7([("w", 1), ("rw", 2), ("x", 1), ("w", 8)])
    assert dr7 & 0xFF == 0b01010101          # local enables only
    assert dr7 & 0xFF00 == 0                 # no LE/GE/GD/bit 10


def test_decode_round_trip():
    slots = [("w", 8), None, ("x", 1), ("rw", 2)]
    assert decode_dr7(encode_dr7(slots)) == slots
    assert decode_dr7(0b10) == [("x", 1), None, None, None]  # a global enable counts too


def test_read_only_condition_is_refused():
    with pytest.raises(ValueError, match="rw"):
        encode_dr7([("r", 4)])
    with pytest.raises(ValueError, match="rw"):
        validate_watch(0x1000, "r", 4)


@pytest.mark.parametrize("slot", [("x", 4), ("w", 3), ("w", 16), ("q", 1), ("W", 1)])
def test_bad_slots(slot):
    with pytest.raises(ValueError):
        encode_dr7([slot])


def test_too_many_slots_and_bad_types():
    assert DR_SLOTS == 4
    with pytest.raises(ValueError, match="4"):
        encode_dr7([None] * 5)
    with pytest.raises(TypeError):
        encode_dr7(["w"])
    with pytest.raises(TypeError):
        encode_dr7([("w", "4")])


def test_validate_watch():
    validate_watch(0x1000, "w", 8)
    validate_watch(0x1002, "rw", 2)
    validate_watch(0x1003, "x", 1)
    with pytest.raises(ValueError, match="aligned"):
        validate_watch(0x1004, "w", 8)
    with pytest.raises(ValueError, match="aligned"):
        validate_watch(0x1001, "rw", 2)
    with pytest.raises(ValueError):
        validate_watch(0x1000, "x", 8)
    with pytest.raises(ValueError):
        validate_watch(-8, "w", 8)
    with pytest.raises(TypeError):
        validate_watch("0x1000", "w", 8)


def test_dr6():
    assert DR6_BS == 1 << 14
    assert triggered_slots(0) == []
    assert triggered_slots(0b1010 | DR6_BS) == [1, 3]
    assert triggered_slots(0xFFFF0FF1) == [0]  # reserved bits that read as 1 are ignored
