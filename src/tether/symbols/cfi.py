"""Call-stack unwinding from .eh_frame call-frame information (CFI).

For each frame we find the FDE covering the pc, run its CIE's and its own
CFA program up to the pc (DWARF 5 section 6.4 "Call Frame Information", with
the .eh_frame encoding of the Linux Standard Base), compute the CFA and read
the caller's rip, rsp and callee-saved registers from the stack. Where no
FDE covers the pc we fall back to the frame-pointer chain.

Register numbers are the x86-64 psABI's DWARF numbers: 0 rax, 1 rdx, 2 rcx,
3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 return address (rip).
"""
from __future__ import annotations

import bisect
import struct
import weakref

__all__ = ["Unwinder", "EhFrame", "CfiError"]

RBP, RSP, RIP = 6, 7, 16
# Registers a call may clobber (psABI 3.2.1): without a CFI rule their value
# in the caller is unknown. The others (rbx, rbp, r12-r15) are preserved.
CALLER_SAVED = {0, 1, 2, 4, 5, 8, 9, 10, 11}
MASK64 = (1 << 64) - 1

# DW_EH_PE_* pointer encodings (LSB, "DWARF Extensions", .eh_frame).
PE_OMIT = 0xFF
PE_ABSPTR, PE_ULEB128, PE_UDATA2, PE_UDATA4, PE_UDATA8 = 0x00, 0x01, 0x02, 0x03, 0x04
PE_SLEB128, PE_SDATA2, PE_SDATA4, PE_SDATA8 = 0x09, 0x0A, 0x0B, 0x0C
PE_PCREL, PE_TEXTREL, PE_DATAREL, PE_FUNCREL, PE_ALIGNED = 0x10, 0x20, 0x30, 0x40, 0x50
_FIXED = {PE_ABSPTR: "<Q", PE_UDATA2: "<H", PE_UDATA4: "<I", PE_UDATA8: "<Q",
          PE_SDATA2: "<h", PE_SDATA4: "<i", PE_SDATA8: "<q"}


class CfiError(Exception):
    """Malformed or unsupported call-frame information."""


class _Unknown(Exception):
    """A value the unwinder cannot know (unsaved register, unreadable memory)."""


# --- primitive decoders ----------------------------------------------------------

def read_uleb(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise CfiError("truncated LEB128")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def read_sleb(data, pos):
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


# --- CIE / FDE parsing --------------------------------------------------------------

class Cie:
    __slots__ = ("code_align", "data_align", "ra_reg", "fde_enc", "lsda_enc",
                 "has_z", "is_signal", "instructions", "instructions_addr")


class Fde:
    __slots__ = ("cie", "pc_begin", "pc_end", "instructions", "instructions_addr")


class EhFrame:
    """The FDE index of one file's .eh_frame (virtual addresses of the file)."""

    def __init__(self, elf, use_search_table=True):
        self.data = elf.eh_frame or b""
        self.addr = elf.eh_frame_addr or 0
        got = elf.section(".got") if hasattr(elf, "section") else None
        self.data_base = got.addr if got is not None else None
        self._cies: dict[int, Cie] = {}
        self._table = None  # (hdr bytes, hdr addr, table offset, count)
        self._starts = None  # full-scan index: sorted pc_begin, and entries
        self._entries = None
        if not use_search_table:
            return
        try:
            self._table = self._hdr_table(getattr(elf, "eh_frame_hdr", None),
                                          getattr(elf, "eh_frame_hdr_addr", None))
        except (CfiError, struct.error, TypeError):
            self._table = None

    # .eh_frame_hdr (LSB): version, eh_frame_ptr_enc, fde_count_enc,
    # table_enc, eh_frame_ptr, fde_count, then sorted (initial_loc, fde) pairs.
    @staticmethod
    def _hdr_table(hdr, hdr_addr):
        if not hdr or hdr_addr is None or len(hdr) < 4 or hdr[0] != 1:
            return None
        _, pos = read_encoded(hdr, 4, hdr[1], hdr_addr, hdr_addr)
        count, pos = read_encoded(hdr, pos, hdr[2], hdr_addr, hdr_addr)
        # GNU ld, gold and lld all write datarel|sdata4 (0x3b) entries.
        if count is None or hdr[3] != (PE_DATAREL | PE_SDATA4) or pos + 8 * count > len(hdr):
            return None
        return hdr, hdr_addr, pos, count

    def cie_at(self, offset: int) -> Cie:
        cie = self._cies.get(offset)
        if cie is None:
            cie = self._cies[offset] = self._parse_cie(offset)
        return cie

    def _entry_bounds(self, offset):
        """(start of the id field, end of entry) of the entry at offset."""
        data = self.data
        if offset + 4 > len(data):
            raise CfiError("entry past the end of .eh_frame")
        length = struct.unpack_from("<I", data, offset)[0]
        pos = offset + 4
        if length == 0xFFFFFFFF:  # 64-bit DWARF length
            length = struct.unpack_from("<Q", data, pos)[0]
            pos += 8
        end = pos + length
        if length == 0 or end > len(data):
            raise CfiError("empty or truncated .eh_frame entry")
        return pos, end

    def _parse_cie(self, offset) -> Cie:
        data = self.data
        pos, end = self._entry_bounds(offset)
        if struct.unpack_from("<I", data, pos)[0] != 0:
            raise CfiError(f"no CIE at .eh_frame+{offset:#x}")
        pos += 4
        version = data[pos]
        pos += 1
        aug_end = data.index(b"\0", pos)
        aug = data[pos:aug_end].decode("ascii", "replace")
        pos = aug_end + 1
        if "eh" in aug:  # old GCC: an eh_data pointer precedes the factors
            pos += 8
        cie = Cie()
        cie.code_align, pos = read_uleb(data, pos)
        cie.data_align, pos = read_sleb(data, pos)
        if version == 1:
            cie.ra_reg = data[pos]
            pos += 1
        else:
            cie.ra_reg, pos = read_uleb(data, pos)
        cie.fde_enc, cie.lsda_enc = PE_ABSPTR, PE_OMIT
        cie.has_z = aug.startswith("z")
        cie.is_signal = "S" in aug
        if cie.has_z:
            aug_len, pos = read_uleb(data, pos)
            aug_data_end = pos + aug_len
            for ch in aug[1:]:
                if ch == "R":
                    cie.fde_enc = data[pos]
                    pos += 1
                elif ch == "L":
                    cie.lsda_enc = data[pos]
                    pos += 1
                elif ch == "P":
                    enc = data[pos]
                    _, pos = read_encoded(data, pos + 1, enc, self.addr, self.data_base)
                elif ch in "SBG":
                    pass  # flags without data
                else:
                    break  # unknown letter: the length lets us skip the rest
            pos = aug_data_end
        cie.instructions = bytes(data[pos:end])
        cie.instructions_addr = self.addr + pos
        return cie

    def fde_at(self, offset: int) -> Fde:
        data = self.data
        pos, end = self._entry_bounds(offset)
        cie_ptr = struct.unpack_from("<I", data, pos)[0]
        if cie_ptr == 0:
            raise CfiError(f"CIE where an FDE was expected at .eh_frame+{offset:#x}")
        # The CIE pointer counts back from the pointer field itself.
        cie = self.cie_at(pos - cie_ptr)
        pos += 4
        fde = Fde()
        fde.cie = cie
        fde.pc_begin, pos = read_encoded(data, pos, cie.fde_enc, self.addr, self.data_base)
        # The range has the format of the encoding but no base applied.
        pc_range, pos = read_encoded(data, pos, cie.fde_enc & 0x0F, self.addr)
        fde.pc_end = fde.pc_begin + pc_range
        if cie.has_z:
            aug_len, pos = read_uleb(data, pos)
            pos += aug_len
        fde.instructions = bytes(data[pos:end])
        fde.instructions_addr = self.addr + pos
        return fde

    def _scan(self):
        """Index every FDE (used when .eh_frame_hdr has no search table)."""
        entries = []
        offset, data = 0, self.data
        while offset + 4 <= len(data):
            length = struct.unpack_from("<I", data, offset)[0]
            if length == 0:
                break  # terminator
            try:
                pos, end = self._entry_bounds(offset)
                if struct.unpack_from("<I", data, pos)[0] != 0:
                    fde = self.fde_at(offset)
                    if fde.pc_end > fde.pc_begin:
                        entries.append((fde.pc_begin, fde.pc_end, offset))
            except (CfiError, struct.error, IndexError, ValueError):
                break
            offset = end
        entries.sort()
        self._entries = entries
        self._starts = [e[0] for e in entries]

    def find(self, pc: int):
        """The FDE covering file virtual address pc, or None."""
        try:
            if self._table is not None:
                return self._find_in_table(pc)
            if self._entries is None:
                self._scan()
            i = bisect.bisect_right(self._starts, pc) - 1
            if i >= 0 and pc < self._entries[i][1]:
                return self.fde_at(self._entries[i][2])
        except (CfiError, struct.error, IndexError, ValueError):
            pass
        return None

    def _find_in_table(self, pc):
        hdr, hdr_addr, table, count = self._table
        lo, hi = 0, count
        while lo < hi:  # last entry whose initial location is <= pc
            mid = (lo + hi) // 2
            if hdr_addr + struct.unpack_from("<i", hdr, table + 8 * mid)[0] <= pc:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            return None
        fde_addr = hdr_addr + struct.unpack_from("<i", hdr, table + 8 * (lo - 1) + 4)[0]
        fde = self.fde_at(fde_addr - self.addr)
        return fde if fde.pc_begin <= pc < fde.pc_end else None


# --- the CFA program ----------------------------------------------------------------

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


def _block(data, pos):
    size, pos = read_uleb(data, pos)
    return bytes(data[pos:pos + size]), pos + size


def execute_cfa_program(code, cie, row, loc, target, initial=None, code_addr=0, data_base=None):
    """Run CFA instructions from location `loc`, updating `row`, and stop
    before the first advance that moves past `target`. `initial` is the row
    the CIE's instructions produced (for DW_CFA_restore); code_addr is the
    virtual address of code[0] (for a pc-relative DW_CFA_set_loc)."""
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
            reg, pos = read_uleb(code, pos)
            off, pos = read_uleb(code, pos)
            row.rules[reg] = ("offset", off * daf)
        elif op == 0x06:  # restore_extended
            reg, pos = read_uleb(code, pos)
            _restore(row, initial, reg)
        elif op == 0x07:  # undefined
            reg, pos = read_uleb(code, pos)
            row.rules[reg] = ("undefined",)
        elif op == 0x08:  # same_value
            reg, pos = read_uleb(code, pos)
            row.rules[reg] = ("same",)
        elif op == 0x09:  # register
            reg, pos = read_uleb(code, pos)
            reg2, pos = read_uleb(code, pos)
            row.rules[reg] = ("register", reg2)
        elif op == 0x0A:  # remember_state (the CFA rule is saved too, as GCC expects)
            stack.append(row.copy())
        elif op == 0x0B:  # restore_state
            if not stack:
                raise CfiError("DW_CFA_restore_state with nothing remembered")
            saved = stack.pop()
            row.cfa, row.rules = saved.cfa, saved.rules
        elif op == 0x0C:  # def_cfa
            reg, pos = read_uleb(code, pos)
            off, pos = read_uleb(code, pos)
            row.cfa = ("reg", reg, off)
        elif op == 0x0D:  # def_cfa_register
            reg, pos = read_uleb(code, pos)
            row.cfa = ("reg", reg, row.cfa[2] if row.cfa and row.cfa[0] == "reg" else 0)
        elif op == 0x0E:  # def_cfa_offset
            off, pos = read_uleb(code, pos)
            row.cfa = ("reg", row.cfa[1] if row.cfa and row.cfa[0] == "reg" else RSP, off)
        elif op == 0x0F:  # def_cfa_expression
            expr, pos = _block(code, pos)
            row.cfa = ("expr", expr)
        elif op == 0x10:  # expression
            reg, pos = read_uleb(code, pos)
            expr, pos = _block(code, pos)
            row.rules[reg] = ("expr", expr)
        elif op == 0x11:  # offset_extended_sf
            reg, pos = read_uleb(code, pos)
            off, pos = read_sleb(code, pos)
            row.rules[reg] = ("offset", off * daf)
        elif op == 0x12:  # def_cfa_sf
            reg, pos = read_uleb(code, pos)
            off, pos = read_sleb(code, pos)
            row.cfa = ("reg", reg, off * daf)
        elif op == 0x13:  # def_cfa_offset_sf
            off, pos = read_sleb(code, pos)
            row.cfa = ("reg", row.cfa[1] if row.cfa and row.cfa[0] == "reg" else RSP, off * daf)
        elif op in (0x14, 0x15):  # val_offset, val_offset_sf
            reg, pos = read_uleb(code, pos)
            off, pos = (read_uleb if op == 0x14 else read_sleb)(code, pos)
            row.rules[reg] = ("val_offset", off * daf)
        elif op == 0x16:  # val_expression
            reg, pos = read_uleb(code, pos)
            expr, pos = _block(code, pos)
            row.rules[reg] = ("val_expr", expr)
        elif op == 0x2E:  # GNU_args_size: only matters for exception landing pads
            _, pos = read_uleb(code, pos)
        elif op == 0x2F:  # GNU_negative_offset_extended
            reg, pos = read_uleb(code, pos)
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


# --- DWARF expressions (DWARF 5 section 2.5) -------------------------------------------

def _signed(v):
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def evaluate_expression(expr, regs, read_u64, stack=None):
    """Evaluate a DWARF expression; registers from `regs` (DWARF numbers).

    Covers the operations CFI uses: glibc's PLT rule (breg7, breg16, lit,
    and, ge, shl, plus), signal frames (breg7) and stack realignment (breg,
    deref)."""
    stack = list(stack or [])
    pos, n = 0, len(expr)

    def reg(r):
        if regs.get(r) is None:
            raise _Unknown(f"register {r}")
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
    while pos < n:
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
                raise _Unknown("unreadable memory in expression")
            stack.append(value & ((1 << (8 * size)) - 1) if size < 8 else value)
        elif op == 0x12:  # dup
            stack.append(stack[-1])
        elif op == 0x13:  # drop
            pop()
        elif op == 0x14:  # over
            stack.append(stack[-2])
        elif op == 0x15:  # pick
            stack.append(stack[-1 - expr[pos]])
            pos += 1
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


# --- the unwinder ----------------------------------------------------------------

# One EhFrame index per ElfFile, shared by every Unwinder: ElfFile objects are
# cached per file, so a debugger following many processes parses libc once.
_eh_frames: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_func_starts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _cached(table, elf, make):
    try:
        value = table.get(elf)
    except TypeError:  # not weak-referenceable: do not cache
        return make(elf)
    if value is None:
        value = make(elf)
        table[elf] = value
    return value


def _function_starts(elf):
    try:
        return {s.value for s in elf.symbols() if s.kind in ("func", "ifunc")}
    except (AttributeError, OSError, ValueError):
        return set()


class Unwinder:
    """Unwinds x86-64 call stacks of a process whose modules are known.

    modules: list of (load base, ElfFile); file virtual address v of a
    module is at base + v in the process. Of each ElfFile it uses
    load_segments, eh_frame(_addr), eh_frame_hdr(_addr), section(".got")
    and symbols() (function starts, for the no-CFI fallback)."""

    def __init__(self, modules):
        self._ranges = []
        for base, elf in modules:
            # Code lives in executable (PF_X = 1) PT_LOAD segments.
            segs = [s for s in elf.load_segments if s.flags & 1] or list(elf.load_segments)
            for s in segs:
                self._ranges.append((base + s.vaddr, base + s.vaddr + s.memsz, base, elf))
        self._ranges.sort(key=lambda r: r[0])
        self._range_starts = [r[0] for r in self._ranges]

    def module_of(self, address):
        """(base, elf) of the module whose code holds address, or None."""
        i = bisect.bisect_right(self._range_starts, address) - 1
        if i >= 0 and address < self._ranges[i][1]:
            return self._ranges[i][2], self._ranges[i][3]
        return None

    def find_fde(self, address):
        """(base, Fde, EhFrame) for the FDE covering absolute address, or None."""
        module = self.module_of(address)
        if module is None:
            return None
        base, elf = module
        eh = _cached(_eh_frames, elf, EhFrame)
        fde = eh.find(address - base)
        return None if fde is None else (base, fde, eh)

    def unwind(self, rip, rsp, rbp, read_u64, max_frames=64):
        """[rip, return address 1, return address 2, ...] of the call stack.

        read_u64(addr) returns the 8 bytes at addr as an int, or None if
        unreadable. Stops at a zero return address, the outermost frame (its
        CFI marks rip undefined), code it cannot unwind, a read failure, or
        a stack pointer that does not move up."""
        frames = [rip]
        regs = {RIP: rip, RSP: rsp}
        if rbp is not None:
            regs[RBP] = rbp
        exact_pc = True  # frame 0 and frames interrupted by a signal
        while len(frames) < max_frames:
            try:
                step = self._step(regs, read_u64, exact_pc, first=len(frames) == 1)
            except (_Unknown, CfiError, struct.error, IndexError, ValueError, OSError):
                break  # unknowable register, bad CFI or unreadable memory
            new_regs, was_signal = step
            if new_regs is None:
                break  # outermost frame, or no way to unwind this one
            ret = new_regs.get(RIP)
            if not ret:
                break
            new_rsp = new_regs.get(RSP)
            if new_rsp is None or (new_rsp <= regs[RSP] and not was_signal):
                break  # no progress up the stack: corrupt or looping
            frames.append(ret)
            regs = new_regs
            exact_pc = was_signal
        return frames

    def _step(self, regs, read_u64, exact_pc, first):
        pc = regs[RIP]
        # A return address may be one past the end of its function (a call to
        # a noreturn function is the last instruction), so look up pc - 1.
        found = self.find_fde(pc if exact_pc else pc - 1)
        if found is not None:
            base, fde, eh = found
            lookup = (pc if exact_pc else pc - 1) - base
            row = row_for(fde, lookup, eh.data_base)
            return self._apply_row(row, fde.cie, regs, read_u64), fde.cie.is_signal
        return self._frame_pointer_step(regs, read_u64, first), False

    @staticmethod
    def _apply_row(row, cie, regs, read_u64):
        if row.cfa is None:
            raise CfiError("no CFA rule")
        if row.cfa[0] == "reg":
            base = regs.get(row.cfa[1])
            if base is None:
                raise _Unknown(f"CFA register {row.cfa[1]}")
            cfa = (base + row.cfa[2]) & MASK64
        else:
            cfa = evaluate_expression(row.cfa[1], regs, read_u64)
        ra_rule = row.rules.get(cie.ra_reg)
        if ra_rule is None or ra_rule[0] == "undefined":
            return None  # the outermost frame (e.g. _start marks rip undefined)

        def read(addr):
            value = read_u64(addr & MASK64)
            if value is None:
                raise _Unknown(f"unreadable stack at {addr:#x}")
            return value

        new = {r: v for r, v in regs.items() if r not in CALLER_SAVED and r != RIP}
        new[RSP] = cfa  # psABI: the CFA is rsp before the call pushed its return address
        for r, rule in row.rules.items():
            kind = rule[0]
            if kind == "undefined":
                new.pop(r, None)
            elif kind == "same":
                if regs.get(r) is not None:
                    new[r] = regs[r]
            elif kind == "offset":
                new[r] = read(cfa + rule[1])
            elif kind == "val_offset":
                new[r] = (cfa + rule[1]) & MASK64
            elif kind == "register":
                if regs.get(rule[1]) is None:
                    new.pop(r, None)
                else:
                    new[r] = regs[rule[1]]
            elif kind == "expr":
                new[r] = read(evaluate_expression(rule[1], regs, read_u64, [cfa]))
            elif kind == "val_expr":
                new[r] = evaluate_expression(rule[1], regs, read_u64, [cfa])
        if cie.ra_reg != RIP:
            new[RIP] = new.pop(cie.ra_reg, None)
        return new

    def _frame_pointer_step(self, regs, read_u64, first):
        """Caller registers without CFI: the classic rbp chain.

        At a function's first instruction (frame 0 only) nothing is pushed
        yet and the return address is at [rsp]."""
        pc, rsp, rbp = regs[RIP], regs[RSP], regs.get(RBP)
        if first:
            module = self.module_of(pc)
            if module is not None:
                base, elf = module
                if pc - base in _cached(_func_starts, elf, _function_starts):
                    ret = read_u64(rsp)
                    if ret is None:
                        return None
                    new = {r: v for r, v in regs.items() if r not in CALLER_SAVED}
                    new.update({RIP: ret, RSP: rsp + 8})
                    return new
        # With a frame pointer, [rbp] is the caller's rbp and [rbp+8] the
        # return address; a valid frame lies above the stack pointer.
        if not rbp or rbp < rsp or rbp & 7:
            return None
        ret, saved_rbp = read_u64(rbp + 8), read_u64(rbp)
        if ret is None or saved_rbp is None:
            return None
        new = {r: v for r, v in regs.items() if r not in CALLER_SAVED}
        new.update({RIP: ret, RSP: rbp + 16, RBP: saved_rbp})
        return new


def modules_of(maps) -> list:
    """(load base, ElfFile) of every ELF file mapped in `maps`, for an Unwinder.
    Files that are gone or not ELF are skipped (no unwind data for them)."""
    from .elf import ElfFile
    from .symbol_list import load_base
    modules = []
    for path in dict.fromkeys(m.backing_file for m in maps if m.backing_file.startswith("/")):
        try:
            elf = ElfFile(path)
        except (OSError, ValueError):
            continue
        modules.append((load_base(elf, [m for m in maps if m.backing_file == path]), elf))
    return modules
