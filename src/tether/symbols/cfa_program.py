"""The CFA program of a CIE and an FDE (DWARF 5 section 6.4 "Call Frame
Information"): run up to a pc, it gives the unwind rules in force there.
"""
from __future__ import annotations

from .cfi_encoding import RSP, read_encoded, read_sleb, read_uleb
from .cfi_errors import CfiError
from .eh_frame import Fde

__all__ = ["Row", "execute_cfa_program", "row_for"]


class Row:
    """The unwind rules in force at one pc.

    cfa: ("reg", regno, offset) or ("expr", bytes).
    rules: regno -> ("undefined",) | ("same",) | ("offset", n) |
    ("val_offset", n) | ("register", r) | ("expr", bytes) | ("val_expr", bytes)."""

    __slots__ = ("cfa", "rules")

    def __init__(self, cfa=None, rules=None):
        self.cfa = cfa
        self.rules = dict(rules or {})

    def copy(self):
        return Row(self.cfa, self.rules)


# Bounds on hostile CFI: real programs are a few dozen bytes, remember at most
# a few states, and name DWARF registers below 130 (x86-64 psABI table).
MAX_PROGRAM = 1 << 16
MAX_REMEMBERED = 64
MAX_REGISTER = 256


def _read_reg(code, pos):
    number, pos = read_uleb(code, pos)
    if number >= MAX_REGISTER:
        raise CfiError(f"DWARF register {number} out of range")
    return number, pos


def _block(data, pos):
    size, pos = read_uleb(data, pos)
    return bytes(data[pos:pos + size]), pos + size


def execute_cfa_program(code, cie, row, loc, target, initial=None, code_addr=0, data_base=None):
    """Run CFA instructions from location `loc`, updating `row`, and stop
    before the first advance that moves past `target`. `initial` is the row
    the CIE's instructions produced (for DW_CFA_restore); code_addr is the
    virtual address of code[0] (for a pc-relative DW_CFA_set_loc)."""
    if len(code) > MAX_PROGRAM:
        raise CfiError(f"CFA program of {len(code)} bytes, more than {MAX_PROGRAM}")
    stack = []
    pos, n = 0, len(code)
    daf, caf = cie.data_align, cie.code_align
    while pos < n:
        op = code[pos]
        pos += 1
        high, low = op & 0xC0, op & 0x3F
        new_loc = None
        if high == 0x40:  # DW_CFA_advance_loc
            new_loc = loc + low * caf
        elif high == 0x80:  # DW_CFA_offset
            off, pos = read_uleb(code, pos)
            row.rules[low] = ("offset", off * daf)
        elif high == 0xC0:  # DW_CFA_restore
            _restore(row, initial, low)
        elif op == 0x00:  # nop
            pass
        elif op == 0x01:  # set_loc
            new_loc, pos = read_encoded(code, pos, cie.fde_enc, code_addr, data_base)
        elif op in (0x02, 0x03, 0x04):  # advance_loc1/2/4
            size = {0x02: 1, 0x03: 2, 0x04: 4}[op]
            delta = int.from_bytes(code[pos:pos + size], "little")
            pos += size
            new_loc = loc + delta * caf
        elif op == 0x05:  # offset_extended
            reg, pos = _read_reg(code, pos)
            off, pos = read_uleb(code, pos)
            row.rules[reg] = ("offset", off * daf)
        elif op == 0x06:  # restore_extended
            reg, pos = _read_reg(code, pos)
            _restore(row, initial, reg)
        elif op == 0x07:  # undefined
            reg, pos = _read_reg(code, pos)
            row.rules[reg] = ("undefined",)
        elif op == 0x08:  # same_value
            reg, pos = _read_reg(code, pos)
            row.rules[reg] = ("same",)
        elif op == 0x09:  # register
            reg, pos = _read_reg(code, pos)
            reg2, pos = _read_reg(code, pos)
            row.rules[reg] = ("register", reg2)
        elif op == 0x0A:  # remember_state (the CFA rule is saved too, as GCC expects)
            if len(stack) >= MAX_REMEMBERED:
                raise CfiError(f"DW_CFA_remember_state nested deeper than {MAX_REMEMBERED}")
            stack.append(row.copy())
        elif op == 0x0B:  # restore_state
            if not stack:
                raise CfiError("DW_CFA_restore_state with nothing remembered")
            saved = stack.pop()
            row.cfa, row.rules = saved.cfa, saved.rules
        elif op == 0x0C:  # def_cfa
            reg, pos = _read_reg(code, pos)
            off, pos = read_uleb(code, pos)
            row.cfa = ("reg", reg, off)
        elif op == 0x0D:  # def_cfa_register
            reg, pos = _read_reg(code, pos)
            row.cfa = ("reg", reg, row.cfa[2] if row.cfa and row.cfa[0] == "reg" else 0)
        elif op == 0x0E:  # def_cfa_offset
            off, pos = read_uleb(code, pos)
            row.cfa = ("reg", row.cfa[1] if row.cfa and row.cfa[0] == "reg" else RSP, off)
        elif op == 0x0F:  # def_cfa_expression
            expr, pos = _block(code, pos)
            row.cfa = ("expr", expr)
        elif op == 0x10:  # expression
            reg, pos = _read_reg(code, pos)
            expr, pos = _block(code, pos)
            row.rules[reg] = ("expr", expr)
        elif op == 0x11:  # offset_extended_sf
            reg, pos = _read_reg(code, pos)
            off, pos = read_sleb(code, pos)
            row.rules[reg] = ("offset", off * daf)
        elif op == 0x12:  # def_cfa_sf
            reg, pos = _read_reg(code, pos)
            off, pos = read_sleb(code, pos)
            row.cfa = ("reg", reg, off * daf)
        elif op == 0x13:  # def_cfa_offset_sf
            off, pos = read_sleb(code, pos)
            row.cfa = ("reg", row.cfa[1] if row.cfa and row.cfa[0] == "reg" else RSP, off * daf)
        elif op in (0x14, 0x15):  # val_offset, val_offset_sf
            reg, pos = _read_reg(code, pos)
            off, pos = (read_uleb if op == 0x14 else read_sleb)(code, pos)
            row.rules[reg] = ("val_offset", off * daf)
        elif op == 0x16:  # val_expression
            reg, pos = _read_reg(code, pos)
            expr, pos = _block(code, pos)
            row.rules[reg] = ("val_expr", expr)
        elif op == 0x2E:  # GNU_args_size: only matters for exception landing pads
            _, pos = read_uleb(code, pos)
        elif op == 0x2F:  # GNU_negative_offset_extended
            reg, pos = _read_reg(code, pos)
            off, pos = read_uleb(code, pos)
            row.rules[reg] = ("offset", -off * daf)
        else:
            raise CfiError(f"unknown CFA instruction {op:#x}")
        if new_loc is not None:
            if new_loc > target:
                break
            loc = new_loc
    return row


def _restore(row, initial, reg):
    if initial is not None and reg in initial.rules:
        row.rules[reg] = initial.rules[reg]
    else:
        row.rules.pop(reg, None)


def row_for(fde: Fde, pc: int, data_base=None) -> Row:
    """The unwind row in force at file address pc inside fde."""
    cie = fde.cie
    initial = execute_cfa_program(cie.instructions, cie, Row(), fde.pc_begin, float("inf"),
                                  None, getattr(cie, "instructions_addr", 0), data_base)
    return execute_cfa_program(fde.instructions, cie, initial.copy(), fde.pc_begin, pc,
                               initial, getattr(fde, "instructions_addr", 0), data_base)
