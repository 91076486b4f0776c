"""DWARF expressions (DWARF 5 section 2.5), as CFI rules use them."""
from __future__ import annotations

import struct

from .cfi_encoding import MASK64, read_sleb, read_uleb
from .cfi_errors import CfiError, UnknownValue

__all__ = ["evaluate_expression"]


def _signed(v):
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


# Branches can loop: a hostile expression is stopped after this many steps.
MAX_STEPS = 10_000


def evaluate_expression(expr, regs, read_u64, stack=None):
    """Evaluate a DWARF expression; registers from `regs` (DWARF numbers).

    Covers the operations CFI uses: glibc's PLT rule (breg7, breg16, lit,
    and, ge, shl, plus), signal frames (breg7) and stack realignment (breg,
    deref). A malformed expression raises CfiError (an unreadable register
    or memory UnknownValue), after at most MAX_STEPS operations."""
    try:
        return _evaluate(expr, regs, read_u64, stack)
    except (IndexError, struct.error) as e:  # an operand past the end, or a short stack
        raise CfiError(f"malformed DWARF expression ({e})") from None


def _evaluate(expr, regs, read_u64, stack):
    stack = list(stack or [])
    pos, n = 0, len(expr)

    def reg(r):
        if regs.get(r) is None:
            raise UnknownValue(f"register {r}")
        return regs[r]

    def pop():
        if not stack:
            raise CfiError("DWARF expression stack underflow")
        return stack.pop()

    binary = {
        0x1A: lambda a, b: a & b, 0x1C: lambda a, b: a - b, 0x1E: lambda a, b: a * b,
        0x21: lambda a, b: a | b, 0x22: lambda a, b: a + b, 0x24: lambda a, b: a << (b & 63),
        0x25: lambda a, b: (a & MASK64) >> (b & 63), 0x26: lambda a, b: _signed(a) >> (b & 63),
        0x27: lambda a, b: a ^ b,
        # Relational operators compare as signed values (DWARF 5, 2.5.1.4).
        0x29: lambda a, b: int(_signed(a) == _signed(b)),
        0x2A: lambda a, b: int(_signed(a) >= _signed(b)),
        0x2B: lambda a, b: int(_signed(a) > _signed(b)),
        0x2C: lambda a, b: int(_signed(a) <= _signed(b)),
        0x2D: lambda a, b: int(_signed(a) < _signed(b)),
        0x2E: lambda a, b: int(_signed(a) != _signed(b)),
    }
    consts = {0x08: "<B", 0x09: "<b", 0x0A: "<H", 0x0B: "<h", 0x0C: "<I", 0x0D: "<i",
              0x0E: "<Q", 0x0F: "<q"}
    steps = 0
    while pos < n:
        steps += 1
        if steps > MAX_STEPS:
            raise CfiError(f"DWARF expression runs more than {MAX_STEPS} steps")
        if pos < 0:
            raise CfiError("DWARF expression branches before its start")
        op = expr[pos]
        pos += 1
        if 0x30 <= op <= 0x4F:  # lit0..lit31
            stack.append(op - 0x30)
        elif 0x70 <= op <= 0x8F:  # breg0..breg31
            off, pos = read_sleb(expr, pos)
            stack.append(reg(op - 0x70) + off)
        elif op == 0x92:  # bregx
            r, pos = read_uleb(expr, pos)
            off, pos = read_sleb(expr, pos)
            stack.append(reg(r) + off)
        elif op in consts:
            code = consts[op]
            stack.append(struct.unpack_from(code, expr, pos)[0])
            pos += struct.calcsize(code)
        elif op == 0x03:  # addr
            stack.append(struct.unpack_from("<Q", expr, pos)[0])
            pos += 8
        elif op == 0x10:  # constu
            v, pos = read_uleb(expr, pos)
            stack.append(v)
        elif op == 0x11:  # consts
            v, pos = read_sleb(expr, pos)
            stack.append(v)
        elif op in (0x06, 0x94):  # deref, deref_size
            size = 8
            if op == 0x94:
                size = expr[pos]
                pos += 1
            value = read_u64(pop() & MASK64)
            if value is None:
                raise UnknownValue("unreadable memory in expression")
            stack.append(value & ((1 << (8 * size)) - 1) if size < 8 else value)
        elif op == 0x12:  # dup
            if not stack:
                raise CfiError("DWARF expression stack underflow")
            stack.append(stack[-1])
        elif op == 0x13:  # drop
            pop()
        elif op == 0x14:  # over
            if len(stack) < 2:
                raise CfiError("DWARF expression stack underflow")
            stack.append(stack[-2])
        elif op == 0x15:  # pick
            if expr[pos] >= len(stack):
                raise CfiError("DW_OP_pick past the bottom of the stack")
            stack.append(stack[-1 - expr[pos]])
            pos += 1
        elif op in (0x16, 0x17) and len(stack) < op - 0x14:
            raise CfiError("DWARF expression stack underflow")
        elif op == 0x16:  # swap
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif op == 0x17:  # rot
            stack[-1], stack[-2], stack[-3] = stack[-2], stack[-3], stack[-1]
        elif op == 0x19:  # abs
            stack.append(abs(_signed(pop())))
        elif op == 0x1F:  # neg
            stack.append(-pop())
        elif op == 0x20:  # not
            stack.append(~pop())
        elif op == 0x23:  # plus_uconst
            v, pos = read_uleb(expr, pos)
            stack.append(pop() + v)
        elif op in binary:
            b, a = pop(), pop()
            stack.append(binary[op](a, b))
        elif op in (0x28, 0x2F):  # bra, skip
            off = struct.unpack_from("<h", expr, pos)[0]
            pos += 2
            if op == 0x2F or pop() & MASK64:
                pos += off
        elif op == 0x96:  # nop
            pass
        else:
            raise CfiError(f"unsupported DWARF expression operation {op:#x}")
        if stack:
            stack[-1] &= MASK64
    if not stack:
        raise CfiError("DWARF expression left nothing on the stack")
    return stack[-1] & MASK64
