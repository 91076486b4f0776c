"""The CIEs and FDEs of one file's .eh_frame, and the index that finds the
FDE covering a pc (the .eh_frame_hdr search table, else a scan of every FDE).
"""
from __future__ import annotations

import bisect
import struct

from .cfi_encoding import (PE_ABSPTR, PE_DATAREL, PE_OMIT, PE_SDATA4, PE_UDATA4, read_encoded,
                           read_sleb, read_uleb)
from .cfi_errors import CfiError

__all__ = ["Cie", "Fde", "EhFrame"]


class Cie:
    """A Common Information Entry: what the FDEs that point at it share."""

    __slots__ = ("code_align", "data_align", "ra_reg", "fde_enc", "lsda_enc",
                 "has_z", "is_signal", "instructions", "instructions_addr")
    code_align: int
    data_align: int
    ra_reg: int
    fde_enc: int
    lsda_enc: int
    has_z: bool
    is_signal: bool
    instructions: bytes
    instructions_addr: int


class Fde:
    """A Frame Description Entry: the unwind rules of [pc_begin, pc_end)."""

    __slots__ = ("cie", "pc_begin", "pc_end", "instructions", "instructions_addr")
    cie: Cie
    pc_begin: int
    pc_end: int
    instructions: bytes
    instructions_addr: int


class EhFrame:
    """The FDE index of one file's .eh_frame (virtual addresses of the file)."""

    def __init__(self, elf, use_search_table=True):
        self.data = elf.eh_frame or b""
        self.addr = elf.eh_frame_addr or 0
        got = elf.section(".got") if hasattr(elf, "section") else None
        self.data_base = got.addr if got is not None else None
        # DW_EH_PE_absptr is an address of the file's size: 4 bytes in an
        # ELF32 (i386) file.
        self.word = 4 if getattr(elf, "word", 8) == 4 else 8
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
        if count is None or count < 0 or hdr[3] != (PE_DATAREL | PE_SDATA4) \
                or pos + 8 * count > len(hdr):
            return None
        return hdr, hdr_addr, pos, count

    def cie_at(self, offset: int) -> Cie:
        """The CIE at .eh_frame+offset; CfiError if there is none."""
        cie = self._cies.get(offset)
        if cie is None:
            try:
                cie = self._parse_cie(offset)
            except (IndexError, ValueError, struct.error) as e:  # a field past the entry's data
                raise CfiError(f"corrupt CIE at .eh_frame+{offset:#x} ({e})") from None
            self._cies[offset] = cie
        return cie

    def _entry_bounds(self, offset):
        """(start of the id field, end of entry) of the entry at offset."""
        data = self.data
        if offset < 0 or offset + 4 > len(data):
            raise CfiError("entry outside .eh_frame")
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
            pos += self.word
        cie = Cie()
        cie.code_align, pos = read_uleb(data, pos)
        cie.data_align, pos = read_sleb(data, pos)
        if version == 1:
            cie.ra_reg = data[pos]
            pos += 1
        else:
            cie.ra_reg, pos = read_uleb(data, pos)
        cie.fde_enc, cie.lsda_enc = self.sized(PE_ABSPTR), PE_OMIT
        cie.has_z = aug.startswith("z")
        cie.is_signal = "S" in aug
        if cie.has_z:
            aug_len, pos = read_uleb(data, pos)
            aug_data_end = pos + aug_len
            for ch in aug[1:]:
                if ch == "R":
                    cie.fde_enc = self.sized(data[pos])
                    pos += 1
                elif ch == "L":
                    cie.lsda_enc = self.sized(data[pos])
                    pos += 1
                elif ch == "P":
                    enc = self.sized(data[pos])
                    _, pos = read_encoded(data, pos + 1, enc, self.addr, self.data_base)
                elif ch in "SBG":
                    pass  # flags without data
                else:
                    break  # unknown letter: the length lets us skip the rest
            pos = aug_data_end
        cie.instructions = bytes(data[pos:end])
        cie.instructions_addr = self.addr + pos
        return cie

    def sized(self, enc: int) -> int:
        """A pointer encoding with DW_EH_PE_absptr made explicit: udata4 in
        a 32-bit file (read_encoded takes absptr as 8 bytes)."""
        if self.word == 4 and enc != PE_OMIT and enc & 0x0F == PE_ABSPTR:
            return enc | PE_UDATA4
        return enc

    def fde_at(self, offset: int) -> Fde:
        """The FDE at .eh_frame+offset; CfiError if there is none."""
        try:
            return self._parse_fde(offset)
        except (IndexError, ValueError, struct.error) as e:  # a field past the entry's data
            raise CfiError(f"corrupt FDE at .eh_frame+{offset:#x} ({e})") from None

    def _parse_fde(self, offset: int) -> Fde:
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
        if fde.pc_begin is None or pc_range is None:
            raise CfiError(f"FDE at .eh_frame+{offset:#x} has no address range")
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
