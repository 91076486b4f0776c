"""Call-stack unwinding of x86-64 and i386 processes from .eh_frame
call-frame information (CFI).

For each frame we find the FDE covering the pc, run its CIE's and its own
CFA program up to the pc, compute the CFA and read the caller's rip, rsp and
callee-saved registers from the stack. Where no FDE covers the pc we fall
back to the frame-pointer chain. The DWARF numbers of the instruction,
stack and frame pointers, the registers a call clobbers and the word size
come from the process's architecture table (tether.arch.Arch), x86-64's by
default.
"""
from __future__ import annotations

import bisect
import struct
import weakref

from .cfa_program import row_for
from .cfi_encoding import MASK64, RBP, RIP, RSP
from .cfi_errors import CfiError, UnknownValue
from .debug_files import file_symbols
from .dwarf_expression import evaluate_expression
from .eh_frame import EhFrame

__all__ = ["Unwinder", "modules_of", "CALLER_SAVED", "prologue_pushed"]

# Registers a call may clobber (psABI 3.2.1): without a CFI rule their value
# in the caller is unknown. The others (rbx, rbp, r12-r15) are preserved.
CALLER_SAVED = {0, 1, 2, 4, 5, 8, 9, 10, 11}

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
        return {s.value for s in file_symbols(elf) if s.kind in ("func", "ifunc")}
    except (AttributeError, OSError, ValueError):
        return set()


class Unwinder:
    """Unwinds the call stacks of a process whose modules are known.

    modules: list of (load base, ElfFile); file virtual address v of a
    module is at base + v in the process. Of each ElfFile it uses
    load_segments, eh_frame(_addr), eh_frame_hdr(_addr), section(".got")
    and symbols() (function starts, for the no-CFI fallback). arch: the
    process's architecture table (None: x86-64)."""

    def __init__(self, modules, arch=None):
        if arch is None:
            self.ip, self.sp, self.fp, self.word = RIP, RSP, RBP, 8
            self.caller_saved = CALLER_SAVED
        else:
            self.ip, self.sp, self.fp, self.word = arch.dwarf_ip, arch.dwarf_sp, arch.dwarf_fp, arch.word
            self.caller_saved = arch.dwarf_caller_saved
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

        read_u64(addr) returns the word at addr (8 bytes, 4 for i386) as an
        int, or None if unreadable. Stops at a zero return address, the outermost frame (its
        CFI marks rip undefined), code it cannot unwind, a read failure, or
        a stack pointer that does not move up."""
        RIP, RSP = self.ip, self.sp  # noqa: N806 (the DWARF numbers of this architecture)
        frames = [rip]
        regs = {RIP: rip, RSP: rsp}
        if rbp is not None:
            regs[self.fp] = rbp
        exact_pc = True  # frame 0 and frames interrupted by a signal
        while len(frames) < max_frames:
            try:
                step = self._step(regs, read_u64, exact_pc, first=len(frames) == 1)
            except (UnknownValue, CfiError, struct.error, IndexError, ValueError, OSError):
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
        pc = regs[self.ip]
        # A return address may be one past the end of its function (a call to
        # a noreturn function is the last instruction), so look up pc - 1.
        found = self.find_fde(pc if exact_pc else pc - 1)
        if found is not None:
            base, fde, eh = found
            lookup = (pc if exact_pc else pc - 1) - base
            row = row_for(fde, lookup, eh.data_base)
            return self._apply_row(row, fde.cie, regs, read_u64), fde.cie.is_signal
        return self._frame_pointer_step(regs, read_u64, first), False

    def _apply_row(self, row, cie, regs, read_u64):
        RIP, RSP = self.ip, self.sp  # noqa: N806
        if row.cfa is None:
            raise CfiError("no CFA rule")
        if row.cfa[0] == "reg":
            base = regs.get(row.cfa[1])
            if base is None:
                raise UnknownValue(f"CFA register {row.cfa[1]}")
            cfa = (base + row.cfa[2]) & MASK64
        else:
            cfa = evaluate_expression(row.cfa[1], regs, read_u64)
        ra_rule = row.rules.get(cie.ra_reg)
        if ra_rule is None or ra_rule[0] == "undefined":
            return None  # the outermost frame (e.g. _start marks rip undefined)

        def read(addr):
            value = read_u64(addr & MASK64)
            if value is None:
                raise UnknownValue(f"unreadable stack at {addr:#x}")
            return value

        new = {r: v for r, v in regs.items() if r not in self.caller_saved and r != RIP}
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
        RIP, RSP, RBP, word = self.ip, self.sp, self.fp, self.word  # noqa: N806
        caller_saved = self.caller_saved
        pc, rsp, rbp = regs[RIP], regs[RSP], regs.get(RBP)
        if first:
            module = self.module_of(pc)
            at_entry = False
            if module is not None:
                base, elf = module
                at_entry = pc - base in _cached(_func_starts, elf, _function_starts)
            # (the prologue reader knows 64-bit code only: a 32-bit frame 0
            # without a known function start goes by its frame pointer)
            pushed = 0 if at_entry else prologue_pushed(read_u64(pc)) if word == 8 else None
            if pushed is not None:
                # Before `push rbp` the return address is at [rsp]; after it,
                # at [rsp + word] with the caller's rbp at [rsp].
                ret = read_u64(rsp + pushed)
                if ret is None:
                    return None
                new = {r: v for r, v in regs.items() if r not in caller_saved}
                new.update({RIP: ret, RSP: rsp + pushed + word})
                if pushed:
                    caller_rbp = read_u64(rsp)
                    if caller_rbp is not None:
                        new[RBP] = caller_rbp
                return new
        # With a frame pointer, [rbp] is the caller's rbp and [rbp+8] the
        # return address; a valid frame lies above the stack pointer.
        if not rbp or rbp < rsp or rbp & (word - 1):
            return None
        ret, saved_rbp = read_u64(rbp + word), read_u64(rbp)
        if ret is None or saved_rbp is None:
            return None
        new = {r: v for r, v in regs.items() if r not in caller_saved}
        new.update({RIP: ret, RSP: rbp + 2 * word, RBP: saved_rbp})
        return new


_ENDBR64 = b"\xf3\x0f\x1e\xfa"


def prologue_pushed(code: int | None) -> int | None:
    """Where a frame-0 pc stands in the classic prologue, from the code at
    it (8 bytes as an int; None: unreadable): 0 at `[endbr64;] push rbp`
    (nothing pushed yet), 8 at `mov rbp, rsp` (rbp pushed), None otherwise.
    Used where no symbol or CFI says where functions start (e.g. a snapshot
    loaded without reading the mapped files)."""
    if code is None:
        return None
    data = code.to_bytes(8, "little")
    if data.startswith(_ENDBR64):
        data = data[4:]
    if data[:1] == b"\x55":
        return 0
    if data[:3] == b"\x48\x89\xe5":
        return 8
    return None


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
