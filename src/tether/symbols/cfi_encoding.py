"""The encodings of .eh_frame data: LEB128 numbers, DW_EH_PE_* encoded
pointers (the .eh_frame encoding of the Linux Standard Base) and the x86-64
DWARF register numbers.

Register numbers are the x86-64 psABI's DWARF numbers: 0 rax, 1 rdx, 2 rcx,
3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 return address (rip).
"""
from __future__ import annotations

import struct

from .cfi_errors import CfiError

__all__ = [
    "RBP", "RSP", "RIP", "MASK64",
    "PE_OMIT", "PE_ABSPTR", "PE_ULEB128", "PE_UDATA2", "PE_UDATA4", "PE_UDATA8",
    "PE_SLEB128", "PE_SDATA2", "PE_SDATA4", "PE_SDATA8",
    "PE_PCREL", "PE_TEXTREL", "PE_DATAREL", "PE_FUNCREL", "PE_ALIGNED",
    "read_uleb", "read_sleb", "read_encoded",
]

RBP, RSP, RIP = 6, 7, 16
MASK64 = (1 << 64) - 1

# DW_EH_PE_* pointer encodings (LSB, "DWARF Extensions", .eh_frame).
PE_OMIT = 0xFF
PE_ABSPTR, PE_ULEB128, PE_UDATA2, PE_UDATA4, PE_UDATA8 = 0x00, 0x01, 0x02, 0x03, 0x04
PE_SLEB128, PE_SDATA2, PE_SDATA4, PE_SDATA8 = 0x09, 0x0A, 0x0B, 0x0C
PE_PCREL, PE_TEXTREL, PE_DATAREL, PE_FUNCREL, PE_ALIGNED = 0x10, 0x20, 0x30, 0x40, 0x50
_FIXED = {PE_ABSPTR: "<Q", PE_UDATA2: "<H", PE_UDATA4: "<I", PE_UDATA8: "<Q",
          PE_SDATA2: "<h", PE_SDATA4: "<i", PE_SDATA8: "<q"}


_MAX_LEB_BYTES = 10  # a 64-bit value needs at most 10 bytes of 7 bits


def read_uleb(data, pos):
    """(unsigned LEB128 number at data[pos], position after it); CfiError
    when truncated or longer than a 64-bit value needs."""
    result = shift = 0
    start = pos
    while True:
        if pos >= len(data) or pos < 0:
            raise CfiError("truncated LEB128")
        if pos - start >= _MAX_LEB_BYTES:
            raise CfiError("LEB128 number longer than 10 bytes")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def read_sleb(data, pos):
    """(signed LEB128 number at data[pos], position after it)."""
    result, end = read_uleb(data, pos)
    bits = 7 * (end - pos)
    if result & (1 << (bits - 1)):
        result -= 1 << bits
    return result, end


def read_encoded(data, pos, enc, section_addr, data_base=None, func_base=None):
    """Decode a DW_EH_PE_* encoded pointer at data[pos]; returns (value, pos).

    section_addr is the virtual address of data[0], for pc-relative values."""
    if enc == PE_OMIT:
        return None, pos
    fmt, app = enc & 0x0F, enc & 0x70
    if app == PE_ALIGNED:
        pos = (pos + 7) & ~7
    field_addr = section_addr + pos
    if pos < 0:
        raise CfiError("encoded pointer before its data")
    if fmt == PE_ULEB128:
        value, pos = read_uleb(data, pos)
    elif fmt == PE_SLEB128:
        value, pos = read_sleb(data, pos)
    elif fmt in _FIXED:
        code = _FIXED[fmt]
        size = struct.calcsize(code)
        if pos + size > len(data):
            raise CfiError("truncated encoded pointer")
        value = struct.unpack_from(code, data, pos)[0]
        pos += size
    else:
        raise CfiError(f"unsupported pointer format {enc:#x}")
    if app == PE_PCREL:
        value += field_addr
    elif app == PE_DATAREL:
        if data_base is None:
            raise CfiError("datarel pointer without a data base")
        value += data_base
    elif app == PE_FUNCREL:
        value += func_base or 0
    elif app not in (0, PE_ALIGNED):
        raise CfiError(f"unsupported pointer application {enc:#x}")
    # Bit 0x80 (indirect) only changes what the value means, not its size;
    # it appears on personality pointers, which the unwinder does not follow.
    return value & MASK64, pos
