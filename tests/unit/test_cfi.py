"""The .eh_frame unwinder (tether.symbols.cfi), without tracing.

End to end: C programs capture their own rip/rsp/rbp deep inside a call
chain (through libc's qsort) and dump their stack and /proc/self/maps; the
unwinder runs over the dump. Unit level: hand-assembled CIEs/FDEs."""
import struct
import subprocess

import pytest

from tether.memory.maps import parse_maps
from tether.symbols.cfi import (CfiError, EhFrame, Unwinder, evaluate_expression,
                                read_encoded, read_sleb, read_uleb, row_for)
from tether.symbols.elf import ElfFile, ElfSymbol, Segment
from tether.symbols.symbol_list import build_symbols, load_base, symbol_at

LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"

DUMPER = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <alloca.h>

#define DEPTH 5
#define NOIPA __attribute__((noipa))

static const char *out_path;
volatile int sink;
static int captured;
static char maps[1 << 16];

NOIPA void dump_state(uint64_t rip, uint64_t rsp, uint64_t rbp);
NOIPA int leaf(int n);
NOIPA int cmp(const void *a, const void *b);
NOIPA int via_qsort(int n);
NOIPA int recurse_a(int n);
NOIPA int recurse_b(int n);
int main(int argc, char **argv);

/* Header (u64): magic, rip, rsp, rbp, stack start, stack length, maps length,
   then the addresses of leaf, cmp, via_qsort, recurse_a, recurse_b, main;
   then the stack bytes from rsp to the top of [stack]; then the maps text. */
NOIPA void dump_state(uint64_t rip, uint64_t rsp, uint64_t rbp) {
    FILE *m = fopen("/proc/self/maps", "r");
    size_t len = 0, got;
    while ((got = fread(maps + len, 1, sizeof maps - 1 - len, m)) > 0) len += got;
    fclose(m);
    maps[len] = 0;
    uint64_t hi = 0;
    char *line = strstr(maps, "[stack]");
    while (line > maps && line[-1] != '\n') line--;
    sscanf(line, "%*lx-%lx", &hi);
    uint64_t hdr[13] = {0x74657468, rip, rsp, rbp, rsp, hi - rsp, len,
                        (uint64_t)leaf, (uint64_t)cmp, (uint64_t)via_qsort,
                        (uint64_t)recurse_a, (uint64_t)recurse_b, (uint64_t)main};
    FILE *f = fopen(out_path, "wb");
    fwrite(hdr, sizeof hdr, 1, f);
    fwrite((void *)rsp, 1, hi - rsp, f);
    fwrite(maps, 1, len, f);
    fclose(f);
}

NOIPA int leaf(int n) {
    uint64_t rip, rsp, rbp;
    /* rbp first: should the compiler pick rbp for a later output, rbp was
       already read. rip is the address right after the lea. */
    __asm__ volatile("mov %%rbp, %0\n\tmov %%rsp, %1\n\tlea 0(%%rip), %2"
                     : "=r"(rbp), "=r"(rsp), "=r"(rip));
    if (!captured) {
        captured = 1;
        dump_state(rip, rsp, rbp);
    }
    return n + 1;
}

NOIPA int cmp(const void *a, const void *b) {
    int r = leaf(*(const int *)a) - leaf(*(const int *)b);
    sink = r;
    return r;
}

NOIPA int via_qsort(int n) {
    int v[2] = {n + 1, n};
#ifdef NO_QSORT
    int r = leaf(n);
#else
    qsort(v, 2, sizeof v[0], cmp);  /* libc calls cmp: frames inside libc */
    int r = v[0];
#endif
    sink = r;
    return r + 1;
}

NOIPA int recurse_a(int n) {
    int r = n == 0 ? via_qsort(n) : recurse_b(n);
    sink = r;            /* work after the call: no tail call */
    return r + 1;
}

NOIPA int recurse_b(int n) {
    /* alloca makes -O2 code keep a frame pointer (CFA defined on rbp). */
    volatile char *p = alloca(16 + (n & 7) * 16);
    p[0] = (char)n;
    int r = recurse_a(n - 1);
    sink = r + p[0];
    return r + 1;
}

int main(int argc, char **argv) {
    out_path = argv[1];
    int r = recurse_a(DEPTH);
    sink = r;
    return 0;
}
"""

DEPTH = 5
FUNCS = ["leaf", "cmp", "via_qsort", "recurse_a", "recurse_b", "main"]


class Dump:
    """A process's self-captured registers, stack and maps."""

    def __init__(self, raw: bytes, binary: str):
        hdr = struct.unpack_from("<13Q", raw)
        assert hdr[0] == 0x74657468
        self.rip, self.rsp, self.rbp, self.stack_lo, n, mlen = hdr[1:7]
        self.funcs = dict(zip(FUNCS, hdr[7:]))
        self.stack = raw[104:104 + n]
        self.maps = parse_maps(raw[104 + n:104 + n + mlen].decode(), binary_path=binary)
        self.binary = binary
        self.reads = 0

    def read_u64(self, addr):
        self.reads += 1
        off = addr - self.stack_lo
        if 0 <= off <= len(self.stack) - 8:
            return struct.unpack_from("<Q", self.stack, off)[0]
        return None

    def modules(self, only=None):
        by_file = {}
        for m in self.maps:
            if m.is_file_backed:
                by_file.setdefault(m.backing_file, []).append(m)
        mods = []
        for path, file_maps in by_file.items():
            if only is not None and path not in only:
                continue
            try:
                elf = ElfFile(path)
            except (OSError, ValueError):
                continue
            mods.append((load_base(elf, file_maps), elf))
        return mods


@pytest.fixture(scope="module")
def dumper_source(tmp_path_factory):
    d = tmp_path_factory.mktemp("unwind")
    src = d / "unwind_dump.c"
    src.write_text(DUMPER)
    return d, src


def _dump(dumper_source, name, *flags):
    d, src = dumper_source
    exe = d / name
    subprocess.run(["gcc", *flags, "-o", str(exe), str(src)], check=True)
    out = d / (name + ".bin")
    subprocess.run([str(exe), str(out)], check=True, timeout=30)
    return Dump(out.read_bytes(), str(exe))


def _expected_chain(d: Dump, symbols, frames, through_libc=True):
    """Check frames: leaf, cmp, libc..., via_qsort, (recurse_a, recurse_b)*, recurse_a, main."""
    names = [symbol_at(f, symbols) or "?" for f in frames]
    files = [(d.maps.filter(f)[0].backing_file if d.maps.filter(f) else "?") for f in frames]
    shown = list(zip(names, [hex(f) for f in frames]))
    base = [n.split("+")[0] for n in names]
    assert base[0] == "leaf", shown
    i = 1
    if through_libc:
        assert base[1] == "cmp", shown
        i = 2
        while "libc.so" in files[i]:
            i += 1
        assert i >= 3, shown  # at least one libc frame (qsort's internals)
    assert base[i] == "via_qsort", shown
    expected = ["recurse_a"] + ["recurse_b", "recurse_a"] * DEPTH + ["main"]
    assert base[i + 1:i + 1 + len(expected)] == expected, shown
    # Below main: libc's start code, then _start, whose CFI ends the stack.
    rest = frames[i + 1 + len(expected):]
    assert rest and all(d.maps.filter(f) for f in rest), shown
    assert "__libc_start_main" in {b for b in base[i + 1 + len(expected):]}, shown
    assert base[-1] == "_start", shown
    # Each return address lies strictly inside its function (after a call).
    assert all("+" in n for n in names[1:] if n != "?"), shown


@pytest.mark.parametrize("flags", [
    ["-O0"],
    ["-O2"],
    ["-O2", "-no-pie", "-fno-pie"],
    ["-O1", "-fomit-frame-pointer"],
], ids=lambda f: " ".join(f))
def test_unwind_through_libc_with_cfi(dumper_source, flags):
    d = _dump(dumper_source, "dump_" + "_".join(f.strip("-") for f in flags), *flags)
    symbols = build_symbols(d.maps)
    # Symbols agree with the addresses the program printed.
    for name, addr in d.funcs.items():
        assert symbol_at(addr, symbols) == name
    frames = Unwinder(d.modules()).unwind(d.rip, d.rsp, d.rbp, d.read_u64)
    _expected_chain(d, symbols, frames)


def test_unwind_without_binary_cfi_uses_frame_pointers(dumper_source):
    """The program has no .eh_frame of its own: its frames are unwound by the
    rbp chain, libc's by libc's CFI, and the two mix."""
    d = _dump(dumper_source, "dump_nocfi", "-O0", "-fno-omit-frame-pointer",
              "-fno-asynchronous-unwind-tables", "-fno-unwind-tables")
    symbols = build_symbols(d.maps)
    frames = Unwinder(d.modules()).unwind(d.rip, d.rsp, d.rbp, d.read_u64)
    _expected_chain(d, symbols, frames)


def test_unwind_frame_pointer_only_without_any_module(dumper_source):
    d = _dump(dumper_source, "dump_fp", "-O0", "-fno-omit-frame-pointer", "-DNO_QSORT")
    symbols = build_symbols(d.maps)
    frames = Unwinder([]).unwind(d.rip, d.rsp, d.rbp, d.read_u64)
    names = [(symbol_at(f, symbols) or "?").split("+")[0] for f in frames]
    expected = ["leaf", "via_qsort", "recurse_a"] + ["recurse_b", "recurse_a"] * DEPTH + ["main"]
    assert names[:len(expected)] == expected, names


def test_unwind_respects_max_frames(dumper_source):
    d = _dump(dumper_source, "dump_max", "-O2")
    frames = Unwinder(d.modules()).unwind(d.rip, d.rsp, d.rbp, d.read_u64, max_frames=4)
    assert len(frames) == 4 and frames[0] == d.rip


def test_unwind_stops_at_unreadable_stack(dumper_source):
    d = _dump(dumper_source, "dump_short", "-O2")
    frames = Unwinder(d.modules()).unwind(d.rip, d.rsp, d.rbp, lambda addr: None)
    assert frames == [d.rip]


def test_unwind_stops_in_unknown_code_without_frame_pointer(dumper_source):
    d = _dump(dumper_source, "dump_nolibc", "-O2")
    # rip in no module and rbp below rsp (not a frame pointer): nothing to do.
    frames = Unwinder([]).unwind(0x1234, d.rsp, d.rsp - 64, d.read_u64)
    assert frames == [0x1234]


# --- libc's search table ---------------------------------------------------------------

def test_eh_frame_hdr_table_agrees_with_full_scan():
    elf = ElfFile(LIBC)
    fast, slow = EhFrame(elf), EhFrame(elf, use_search_table=False)
    funcs = [s for s in elf.symbols() if s.kind == "func" and s.size > 1]
    assert len(funcs) > 1000
    checked = 0
    for s in funcs[::7]:
        for pc in (s.value, s.value + s.size // 2):
            a, b = fast.find(pc), slow.find(pc)
            assert (a is None) == (b is None), hex(pc)
            if a is not None:
                assert (a.pc_begin, a.pc_end) == (b.pc_begin, b.pc_end)
                assert a.pc_begin <= pc < a.pc_end
                checked += 1
    assert checked > 300
    assert fast.find(0x10) is None and slow.find(0x10) is None


def test_libc_plt_fde_uses_the_plt_expression():
    elf = ElfFile(LIBC)
    plt = elf.section(".plt")
    fde = EhFrame(elf).find(plt.addr + 0x20)
    assert fde is not None
    row = row_for(fde, plt.addr + 0x20)
    assert row.cfa[0] == "expr"


# --- hand-assembled .eh_frame ------------------------------------------------------------

def uleb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def sleb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        done = (v == 0 and not b & 0x40) or (v == -1 and b & 0x40)
        out.append(b | (0 if done else 0x80))
        if done:
            return bytes(out)


def block(b):
    return uleb(len(b)) + b


# The standard x86-64 CIE program: CFA = rsp+8, return address at CFA-8.
CIE_INIT = b"\x0c\x07\x08" + b"\x90\x01"


class EhBuilder:
    """Builds an .eh_frame section at virtual address `addr` (pcrel|sdata4 FDEs)."""

    def __init__(self, addr=0x8000):
        self.addr = addr
        self.data = bytearray()

    def cie(self, aug=b"zR", aug_data=b"\x1b", instructions=CIE_INIT, ra=16):
        body = (struct.pack("<I", 0) + b"\x01" + aug + b"\0" + uleb(1) + sleb(-8)
                + bytes([ra]) + block(aug_data) + instructions)
        offset = len(self.data)
        self.data += struct.pack("<I", len(body)) + body
        return offset

    def fde(self, cie_offset, pc_begin, pc_range, instructions, aug_data=b""):
        offset = len(self.data)
        pointer = offset + 4 - cie_offset
        begin = pc_begin - (self.addr + offset + 8)  # pcrel to the field itself
        body = (struct.pack("<Ii", pointer, begin) + struct.pack("<I", pc_range)
                + block(aug_data) + instructions)
        self.data += struct.pack("<I", len(body)) + body
        return offset

    def finish(self):
        return bytes(self.data) + b"\0\0\0\0"  # terminator


class FakeElf:
    """What the unwinder uses of an ElfFile, for a hand-built .eh_frame."""

    def __init__(self, eh: EhBuilder, symbols=()):
        self.eh_frame = eh.finish()
        self.eh_frame_addr = eh.addr
        self.eh_frame_hdr = None
        self.eh_frame_hdr_addr = None
        self.load_segments = [Segment(1, 0, 0x10000, 0, 0x10000, 5)]
        self._symbols = [ElfSymbol(n, v, s, "func") for n, v, s in symbols]

    def symbols(self):
        return self._symbols

    # No MiniDebugInfo, no build id, no debuglink: no separate debug file.
    path = "/nonexistent/fake.so"
    build_id = None

    def section(self, name):
        return None


BASE = 0x7F0000000000
F, G, H, PLT, SIG, K = 0x1000, 0x1100, 0x1200, 0x2000, 0x3000, 0x4000

# F: push rbp; mov rbp,rsp; body; leave (at F+0x3e); ret (F+0x3f); more code.
F_PROGRAM = (b"\x41" + b"\x0e\x10" + b"\x86\x02"        # F+1: CFA rsp+16, rbp at CFA-16
             + b"\x43" + b"\x0d\x06"                     # F+4: CFA on rbp
             + b"\x7a" + b"\x0a" + b"\x0c\x07\x08" + b"\xc6"  # F+0x3e: remember; CFA rsp+8; restore rbp
             + b"\x41" + b"\x0b")                        # F+0x3f: restore_state
# G: a frame-pointer function whose body starts at G+4.
G_PROGRAM = b"\x41\x0e\x10\x86\x02\x43\x0d\x06"
# H: the outermost frame; its return address is undefined (like _start).
H_PROGRAM = b"\x07\x10"
# glibc's PLT rule: CFA = rsp + 8 + ((rip & 15) >= 11 ? 8 : 0).
PLT_EXPR = b"\x77\x08" + b"\x80\x00" + b"\x3f\x1a" + b"\x3b\x2a" + b"\x33\x24\x22"
PLT_PROGRAM = b"\x0e\x10" + b"\x46\x0e\x18" + b"\x4a\x0f" + block(PLT_EXPR)
# A signal trampoline ('S'): everything is in the saved context at rsp.
SIG_PROGRAM = (b"\x0f" + block(b"\x77" + sleb(160) + b"\x06")
               + b"\x10\x10" + block(b"\x77" + sleb(168))
               + b"\x10\x07" + block(b"\x77" + sleb(160))
               + b"\x10\x06" + block(b"\x77" + sleb(120)))


@pytest.fixture
def unwinder():
    eh = EhBuilder()
    cie = eh.cie()
    eh.fde(cie, F, 0x50, F_PROGRAM)
    eh.fde(cie, G, 0x50, G_PROGRAM)
    eh.fde(cie, H, 0x50, H_PROGRAM)
    eh.fde(cie, PLT, 0x40, PLT_PROGRAM)
    sig_cie = eh.cie(aug=b"zRS")
    eh.fde(sig_cie, SIG - 1, 0x10, SIG_PROGRAM)  # like glibc: starts one byte early
    # A "zPLR" CIE: personality (indirect pcrel sdata4), LSDA and FDE encodings.
    plr = eh.cie(aug=b"zPLR", aug_data=b"\x9b" + struct.pack("<i", 0x1234) + b"\x1b\x1b")
    eh.fde(plr, K, 0x20, b"\x41\x0e\x10\x86\x02", aug_data=struct.pack("<i", 0))
    elf = FakeElf(eh, symbols=[("no_cfi_func", 0x5000, 0x40)])
    return Unwinder([(BASE, elf)])


class Memory(dict):
    def read(self, addr):
        return self.get(addr)


S = 0x7FFD0000_1000  # a stack pointer
G_RBP = S + 0x100     # G's frame
RET_G = BASE + G + 0x20
RET_H = BASE + H + 0x10


def _stack_below_g():
    """Memory with G's frame ([G_RBP] = 0, [G_RBP+8] = return into H)."""
    return Memory({G_RBP: 0, G_RBP + 8: RET_H})


def test_function_entry_uses_cie_rule(unwinder):
    mem = _stack_below_g()
    mem[S] = RET_G
    assert unwinder.unwind(BASE + F, S, G_RBP, mem.read) == [BASE + F, RET_G, RET_H]


def test_after_push_rbp(unwinder):
    mem = _stack_below_g()
    mem[S] = G_RBP       # pushed rbp
    mem[S + 8] = RET_G
    assert unwinder.unwind(BASE + F + 1, S, G_RBP, mem.read) == [BASE + F + 1, RET_G, RET_H]


def test_in_body_cfa_on_rbp_and_rbp_restored(unwinder):
    mem = _stack_below_g()
    rbp = S + 0x40       # F's frame; rsp is lower (locals)
    mem[rbp] = G_RBP
    mem[rbp + 8] = RET_G
    # rbp must be restored to G_RBP for G's CFA (rbp-based) to be right.
    assert unwinder.unwind(BASE + F + 0x10, S, rbp, mem.read) == [BASE + F + 0x10, RET_G, RET_H]


def test_epilogue_remember_and_restore_state(unwinder):
    mem = _stack_below_g()
    mem[S] = RET_G       # after leave: rbp already popped
    assert unwinder.unwind(BASE + F + 0x3E, S, G_RBP, mem.read)[1:] == [RET_G, RET_H]
    # F+0x3f: restore_state brings back the rbp-based CFA of the body.
    rbp = S + 0x40
    mem2 = _stack_below_g()
    mem2[rbp], mem2[rbp + 8] = G_RBP, RET_G
    assert unwinder.unwind(BASE + F + 0x40, S, rbp, mem2.read)[1:] == [RET_G, RET_H]


def test_return_address_looked_up_at_pc_minus_one(unwinder):
    # A return address equal to the end of K (K's last instruction called a
    # noreturn function) still belongs to K, where CFA = rsp+16.
    mem = _stack_below_g()
    mem[S] = BASE + K + 0x20
    mem[S + 8], mem[S + 16] = G_RBP, RET_G
    frames = unwinder.unwind(BASE + F, S, 0xDEAD, mem.read)
    assert frames == [BASE + F, BASE + K + 0x20, RET_G, RET_H]


@pytest.mark.parametrize("offset,cfa", [(0x16, 8), (0x1A, 8), (0x1B, 16), (0x1F, 16), (0x26, 8)])
def test_plt_expression(unwinder, offset, cfa):
    mem = Memory({S + cfa - 8: RET_G, G_RBP: 0, G_RBP + 8: RET_H})
    frames = unwinder.unwind(BASE + PLT + offset, S, G_RBP, mem.read)
    assert frames[:2] == [BASE + PLT + offset, RET_G]


def test_plt_header_offsets(unwinder):
    mem = Memory({S + 8: RET_G, G_RBP: 0, G_RBP + 8: RET_H})
    assert unwinder.unwind(BASE + PLT + 1, S, G_RBP, mem.read)[:2] == [BASE + PLT + 1, RET_G]


def test_signal_frame_restores_context_and_uses_exact_pc(unwinder):
    interrupted_rsp = S + 0x80
    mem = _stack_below_g()
    mem[S + 160] = interrupted_rsp
    mem[S + 168] = BASE + F          # interrupted at F's first instruction
    mem[S + 120] = G_RBP
    mem[interrupted_rsp] = RET_G
    frames = unwinder.unwind(BASE + SIG, S, 0, mem.read)
    # F's entry is looked up exactly (pc - 1 would be outside F).
    assert frames == [BASE + SIG, BASE + F, RET_G, RET_H]


def test_zplr_augmentation(unwinder):
    mem = _stack_below_g()
    mem[S], mem[S + 8] = G_RBP, RET_G
    assert unwinder.unwind(BASE + K + 1, S, G_RBP, mem.read) == [BASE + K + 1, RET_G, RET_H]


def test_first_instruction_without_fde_returns_to_rsp(unwinder):
    mem = _stack_below_g()
    mem[S] = RET_G
    # rbp still belongs to the caller G; the return address is [rsp].
    frames = unwinder.unwind(BASE + 0x5000, S, G_RBP, mem.read)
    assert frames == [BASE + 0x5000, RET_G, RET_H]


def test_no_fde_inside_function_uses_frame_pointer(unwinder):
    mem = _stack_below_g()
    rbp = S + 0x30
    mem[rbp], mem[rbp + 8] = G_RBP, RET_G
    frames = unwinder.unwind(BASE + 0x5010, S, rbp, mem.read)
    assert frames == [BASE + 0x5010, RET_G, RET_H]


def test_zero_return_address_stops(unwinder):
    mem = Memory({S: 0})
    assert unwinder.unwind(BASE + F, S, 0, mem.read) == [BASE + F]


def test_stack_must_move_up(unwinder):
    # A frame-pointer chain that points back down is corrupt: stop.
    rbp = S + 0x30
    mem = Memory({rbp: S, rbp + 8: BASE + 0x5020, S + 8: BASE + 0x5030})
    frames = unwinder.unwind(BASE + 0x5010, S, rbp, mem.read)
    assert frames == [BASE + 0x5010, BASE + 0x5020]


def test_module_of(unwinder):
    assert unwinder.module_of(BASE + F)[0] == BASE
    assert unwinder.module_of(BASE + 0x20000) is None


# --- the CFA program and expressions in isolation -------------------------------------------

class _Cie:
    code_align, data_align, ra_reg, fde_enc = 1, -8, 16, 0x1B
    instructions = CIE_INIT


class _Fde:
    cie = _Cie()
    pc_begin, pc_end = 0x100, 0x200

    def __init__(self, instructions):
        self.instructions = instructions


def test_row_for_extended_instructions():
    program = (b"\x02\x10"                      # advance_loc1 16 -> 0x110
               + b"\x12\x06" + sleb(-2)         # def_cfa_sf rbp, -2*-8 = 16
               + b"\x11\x03" + sleb(-3)         # offset_extended_sf rbx: -3 * -8 = CFA+24
               + b"\x03\x10\x00"                # advance_loc2 16 -> 0x120
               + b"\x2e\x08"                    # GNU_args_size 8 (ignored)
               + b"\x08\x03"                    # same_value rbx
               + b"\x09\x0c\x0d"                # register r12 in r13
               + b"\x07\x0e"                    # undefined r14
               + b"\x14\x0f\x02"                # val_offset r15 = CFA-16
               + b"\x04\x10\x00\x00\x00"        # advance_loc4 16 -> 0x130
               + b"\x13" + sleb(-4)             # def_cfa_offset_sf 32
               + b"\x05\x03\x03"                # offset_extended rbx at CFA-24
               + b"\x00\x00")                   # nops
    fde = _Fde(program)
    row = row_for(fde, 0x10F)
    assert row.cfa == ("reg", 7, 8) and row.rules == {16: ("offset", -8)}
    row = row_for(fde, 0x110)
    assert row.cfa == ("reg", 6, 16)
    assert row.rules[3] == ("offset", 24)
    row = row_for(fde, 0x125)
    assert row.rules[3] == ("same",)
    assert row.rules[12] == ("register", 13)
    assert row.rules[14] == ("undefined",)
    assert row.rules[15] == ("val_offset", -16)
    row = row_for(fde, 0x130)
    assert row.cfa == ("reg", 6, 32) and row.rules[3] == ("offset", -24)


def test_restore_returns_to_cie_rule():
    program = (b"\x41\x90\x03"          # 0x101: RA at CFA-24
               + b"\x41\xd0"             # 0x102: restore RA
               + b"\x41\x05\x10\x04"     # 0x103: offset_extended RA at CFA-32
               + b"\x41\x06\x10")        # 0x104: restore_extended RA
    fde = _Fde(program)
    assert row_for(fde, 0x101).rules[16] == ("offset", -24)
    assert row_for(fde, 0x102).rules[16] == ("offset", -8)
    assert row_for(fde, 0x103).rules[16] == ("offset", -32)
    assert row_for(fde, 0x104).rules[16] == ("offset", -8)


def test_restore_state_without_remember_is_an_error():
    with pytest.raises(CfiError):
        row_for(_Fde(b"\x0b"), 0x150)


def test_unknown_instruction_is_an_error():
    with pytest.raises(CfiError):
        row_for(_Fde(b"\x3f"), 0x150)


def test_evaluate_expression_plt_and_deref():
    regs = {7: 0x1000, 16: 0x20B}
    assert evaluate_expression(PLT_EXPR, regs, lambda a: None) == 0x1010
    regs[16] = 0x20A
    assert evaluate_expression(PLT_EXPR, regs, lambda a: None) == 0x1008
    mem = {0x1000 + 160: 0xABC}
    assert evaluate_expression(b"\x77" + sleb(160) + b"\x06", regs, mem.get) == 0xABC
    # constu, consts, minus, swap, dup, drop, over, skip, bra, lit, ne
    expr = (b"\x10" + uleb(300) + b"\x11" + sleb(-5) + b"\x1c"     # 300 - -5 = 305
            + b"\x12\x13" + b"\x31\x14\x16\x13\x13"               # dup drop; lit1 over swap drop drop
            + b"\x2f\x01\x00\x30"                                  # skip 1 (over lit0)
            + b"\x31\x28\x01\x00\x30")                              # lit1 bra +1 (skip lit0)
    assert evaluate_expression(expr, regs, mem.get) == 305
    with pytest.raises(CfiError):
        evaluate_expression(b"\x22", regs, mem.get)  # plus on an empty stack


def test_leb128_and_encoded_pointers():
    assert read_uleb(uleb(624485), 0) == (624485, 3)
    assert read_sleb(sleb(-123456), 0)[0] == -123456
    assert read_sleb(b"\x7f", 0) == (-1, 1)
    data = struct.pack("<i", -16)
    assert read_encoded(data, 0, 0x1B, 0x1000) == (0x1000 - 16, 4)      # pcrel sdata4
    assert read_encoded(data, 0, 0x3B, 0, data_base=0x2000) == (0x2000 - 16, 4)  # datarel
    assert read_encoded(struct.pack("<I", 7), 0, 0x03, 0) == (7, 4)      # udata4
    assert read_encoded(struct.pack("<Q", 9), 0, 0x00, 0) == (9, 8)      # absptr
    assert read_encoded(struct.pack("<h", -2), 0, 0x0A, 0) == ((-2) & (2**64 - 1), 2)
    assert read_encoded(b"", 0, 0xFF, 0) == (None, 0)
    with pytest.raises(CfiError):
        read_encoded(data, 0, 0x07, 0)


# --- hostile CFI (issue 18): cycles and unbounded state end, with CfiError at worst ----------

def test_a_signal_frame_that_unwinds_to_itself_stops_at_the_frame_limit():
    """Signal frames may keep rsp (the unwinder can't insist it grows), so
    one whose saved rip and rsp are its own makes a cycle: it ends at
    max_frames, it does not loop."""
    eh = EhBuilder()
    sig_cie = eh.cie(aug=b"zRS")
    # CFA = rsp; rip saved at CFA+0, rsp saved at CFA+8.
    eh.fde(sig_cie, 0x100, 0x10, b"\x0c\x07\x00" + b"\x10\x10" + block(b"\x77\x00")
           + b"\x10\x07" + block(b"\x77\x08"))
    unwinder = Unwinder([(BASE, FakeElf(eh))])
    mem = Memory({S: BASE + 0x100, S + 8: S})
    frames = unwinder.unwind(BASE + 0x100, S, 0, mem.read, max_frames=64)
    assert frames == [BASE + 0x100] * 64


def test_an_fde_whose_cie_pointer_points_at_itself_is_no_fde():
    eh = EhBuilder()
    offset = len(eh.data)
    body = struct.pack("<I", 4) + struct.pack("<iI", 0, 0x1000)  # CIE pointer 4: back to its own start
    eh.data += struct.pack("<I", len(body)) + body
    frame = EhFrame(FakeElf(eh))
    with pytest.raises(CfiError):
        frame.fde_at(offset)
    assert frame.find(0x8000 + 8) is None


def test_unbounded_cfa_state_is_refused():
    eh = EhBuilder()
    cie = eh.cie()
    eh.fde(cie, 0x100, 0x10, b"\x0a" * 100)                   # remember_state x100
    eh.fde(cie, 0x200, 0x10, b"\x10" + uleb(1 << 40) + block(b"\x30"))  # register 2^40
    eh.fde(cie, 0x300, 0x10, b"\x0e" + b"\x80" * 20 + b"\x00")  # a 21-byte LEB128
    frame = EhFrame(FakeElf(eh))
    for pc, message in ((0x100, "nested deeper than 64"), (0x200, "register .* out of range"),
                        (0x300, "longer than 10 bytes")):
        with pytest.raises(CfiError, match=message):
            row_for(frame.find(pc), pc)


@pytest.mark.parametrize("code, pushed", [
    (b"\x55\x48\x89\xe5\x90\x90\x90\x90", 0),           # push rbp
    (b"\xf3\x0f\x1e\xfa\x55\x48\x89\xe5", 0),           # endbr64; push rbp
    (b"\x48\x89\xe5\x48\x83\xec\x10\x90", 8),           # mov rbp, rsp
    (b"\xf3\x0f\x1e\xfa\x48\x89\xe5\x90", 8),           # endbr64; mov rbp, rsp
    (b"\x48\x83\xec\x10\x90\x90\x90\x90", None),        # sub rsp, 0x10
    (b"\xc3\x90\x90\x90\x90\x90\x90\x90", None),        # ret
])
def test_where_frame_zero_stands_in_the_prologue(code, pushed):
    from tether.symbols.unwinder import prologue_pushed
    assert prologue_pushed(int.from_bytes(code, "little")) == pushed
    assert prologue_pushed(None) is None
