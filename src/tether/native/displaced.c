/*
 * displaced.c: the x86-64 instruction length decoder, the plan of a
 * displaced step (runtime/displaced.py), and its fault addresses.
 *
 * A breakpoint's instruction that the emulator (emulate.c) does not know is
 * run out of line, in a scratch slot of the tracee, while the int3 stays
 * armed for the other threads. For that we must know where the instruction
 * ends (the int3 that ends the step goes right after it), whether it may run
 * at another address at all (no branch, no system call: their effect depends
 * on where they are), and where its RIP-relative operand is (rewritten to a
 * scratch register that holds what rip would have held).
 *
 * The decoder covers 64-bit mode: legacy prefixes, REX, VEX (C4/C5), EVEX
 * (62), XOP (8F), the one-byte map and the maps 0F, 0F38, 0F3A, ModRM, SIB,
 * displacement and immediate sizes (Intel SDM vol. 2, appendix A). Its
 * oracle is objdump over a whole libc (tests/unit/test_insn_length.py).
 */
#include "native.h"

#include <string.h>

#define MAX_INSN 15

/* One-byte map, 64-bit mode: what follows the opcode.
 * M: a ModRM; B: imm8; W: imm16; Z: imm16/32 (operand size); V: imm16/32/64
 * (B8-BF); O: a moffs (address size); X: invalid in 64-bit mode, or a
 * prefix/escape handled before the table is read. */
enum { N = 0, M = 1, B = 2, W = 4, Z = 8, V = 16, O = 32, X = 64 };
#define MB (M | B)
#define MZ (M | Z)

static const unsigned char one_byte[256] = {
    /* 00 */ M, M, M, M, B, Z, X, X, M, M, M, M, B, Z, X, X,
    /* 10 */ M, M, M, M, B, Z, X, X, M, M, M, M, B, Z, X, X,
    /* 20 */ M, M, M, M, B, Z, X, X, M, M, M, M, B, Z, X, X,
    /* 30 */ M, M, M, M, B, Z, X, X, M, M, M, M, B, Z, X, X,
    /* 40 */ X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    /* 50 */ N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,
    /* 60 */ X, X, X, M, X, X, X, X, Z, MZ, B, MB, N, N, N, N,
    /* 70 */ B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
    /* 80 */ MB, MZ, X, MB, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 90 */ N, N, N, N, N, N, N, N, N, N, X, N, N, N, N, N,
    /* a0 */ O, O, O, O, N, N, N, N, B, Z, N, N, N, N, N, N,
    /* b0 */ B, B, B, B, B, B, B, B, V, V, V, V, V, V, V, V,
    /* c0 */ MB, MB, W, N, X, X, MB, MZ, W | B, N, W, N, N, B, X, N,
    /* d0 */ M, M, M, M, X, X, X, N, M, M, M, M, M, M, M, M,
    /* e0 */ B, B, B, B, B, B, B, B, Z, Z, X, B, N, N, N, N,
    /* f0 */ X, N, X, X, N, N, M, M, N, N, N, N, N, N, M, M,
};

/* Map 0F. */
static const unsigned char two_byte[256] = {
    /* 00 */ M, M, M, M, X, N, N, N, N, N, X, N, X, M, N, MB,
    /* 10 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 20 */ M, M, M, M, X, X, X, X, M, M, M, M, M, M, M, M,
    /* 30 */ N, N, N, N, N, N, X, N, X, X, X, X, X, X, X, X,
    /* 40 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 50 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 60 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 70 */ MB, MB, MB, MB, M, M, M, N, M, M, M, M, M, M, M, M,
    /* 80 */ Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z,
    /* 90 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* a0 */ N, N, N, M, MB, M, X, X, N, N, N, M, MB, M, M, M,
    /* b0 */ M, M, M, M, M, M, M, M, M, M, MB, M, M, M, M, M,
    /* c0 */ M, M, MB, M, MB, MB, MB, M, N, N, N, N, N, N, N, N,
    /* d0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* e0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* f0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};

struct insn {
    int len;
    int map;          /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A, 5/6 EVEX maps, 8-10 XOP */
    int opcode;
    int modrm_at;     /* offset of the ModRM byte, or -1 */
    int modrm;
    int reg;          /* ModRM.reg with REX.R / VEX.R */
    int vvvv;         /* VEX/EVEX register operand, -1 if none */
    int vex;          /* 0, 2 (C5), 3 (C4), 4 (EVEX 62), 8 (XOP 8F): prefix length or kind */
    int vex_at;       /* offset of the C4/C5/62 byte */
    int rex;
    int rex_at;
    int p66, p67, rep, lock;
    int rip_relative; /* ModRM mod=00 rm=101: disp32 from the next instruction */
};

/* The ModRM at d->modrm_at and what follows it (SIB, displacement): the
 * offset just past them, or 0 if it runs past `avail`. */
static int skip_modrm(const uint8_t *code, int avail, struct insn *d)
{
    int i = d->modrm_at;
    if (i >= avail)
        return 0;
    int m = code[i], mod = m >> 6, rm = m & 7;
    d->modrm = m;
    d->reg |= (m >> 3) & 7;
    i++;
    if (mod != 3) {
        if (rm == 4) {   /* SIB */
            if (i >= avail)
                return 0;
            int base = code[i] & 7;
            i++;
            if (mod == 0 && base == 5)
                i += 4;
        } else if (mod == 0 && rm == 5) {
            d->rip_relative = 1;
            i += 4;
        }
        if (mod == 1)
            i += 1;
        else if (mod == 2)
            i += 4;
    }
    return i <= avail ? i : 0;
}

/* VEX (C4/C5), EVEX (62) or XOP (8F) at code[i]. */
static int decode_vex(const uint8_t *code, int avail, int i, struct insn *d)
{
    int op = code[i], map, p;
    d->vex_at = i;
    if (op == 0xC5) {
        if (i + 2 >= avail)
            return 0;
        uint8_t b1 = code[i + 1];
        d->vex = 2;
        map = 1;
        d->reg = ((b1 >> 4) & 8) ^ 8;
        d->vvvv = ((~b1) >> 3) & 15;
        p = b1 & 3;
        i += 2;
    } else if (op == 0x62) {
        if (i + 4 >= avail)
            return 0;
        uint8_t p0 = code[i + 1], p1 = code[i + 2];
        d->vex = 4;
        map = p0 & 7;
        if (map == 0 || map == 4 || map == 7)
            return 0;
        d->reg = ((p0 >> 4) & 8) ^ 8;
        d->vvvv = ((~p1) >> 3) & 15;
        p = p1 & 3;
        i += 4;
    } else {
        if (i + 3 >= avail)
            return 0;
        uint8_t b1 = code[i + 1], b2 = code[i + 2];
        d->vex = op == 0xC4 ? 3 : 8;
        map = b1 & 0x1F;
        if (op == 0xC4 ? (map < 1 || map > 3) : (map < 8 || map > 10))
            return 0;
        d->reg = ((b1 >> 4) & 8) ^ 8;
        d->vvvv = ((~b2) >> 3) & 15;
        p = b2 & 3;
        i += 3;
    }
    d->map = map;
    d->opcode = code[i];
    if (p == 1)
        d->p66 = 1;
    i++;
    int imm = 0;
    if (map == 3 || map == 8)
        imm = 1;
    else if (map == 10)
        imm = 4;
    else if (map == 1 && ((d->opcode >= 0x70 && d->opcode <= 0x73) || d->opcode == 0xC2
                          || (d->opcode >= 0xC4 && d->opcode <= 0xC6)))
        imm = 1;
    /* Every one has a ModRM but vzeroupper/vzeroall (VEX 0F 77). */
    if (!((d->vex == 2 || d->vex == 3) && map == 1 && d->opcode == 0x77)) {
        d->modrm_at = i;
        i = skip_modrm(code, avail, d);
        if (i == 0)
            return 0;
    }
    i += imm;
    return i <= avail ? i : 0;
}

/* Decode the instruction at code[0..avail). Returns its length, or 0 if it
 * is not a valid (or not a known) 64-bit mode instruction. */
static int decode(const uint8_t *code, int avail, struct insn *d)
{
    memset(d, 0, sizeof *d);
    d->modrm_at = -1;
    d->vvvv = -1;
    d->rex_at = -1;
    d->vex_at = -1;
    if (avail > MAX_INSN)
        avail = MAX_INSN;
    int i = 0;
    /* legacy prefixes */
    for (;; i++) {
        if (i >= avail)
            return 0;
        uint8_t b = code[i];
        if (b == 0x66)
            d->p66 = 1;
        else if (b == 0x67)
            d->p67 = 1;
        else if (b == 0xF2 || b == 0xF3)
            d->rep = b;
        else if (b == 0xF0)
            d->lock = 1;
        else if (!(b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65))
            break;
    }
    if ((code[i] & 0xF0) == 0x40) {   /* REX: must come right before the opcode */
        d->rex = code[i];
        d->rex_at = i;
        i++;
        if (i >= avail)
            return 0;
    }
    int op = code[i];
    if (op == 0xC4 || op == 0xC5 || op == 0x62
            || (op == 0x8F && i + 1 < avail && (code[i + 1] & 0x1F) >= 8)) {
        /* VEX / EVEX / XOP: a REX, 66, F2, F3 or F0 before it is #UD. */
        if (d->rex || d->p66 || d->rep || d->lock)
            return 0;
        d->len = decode_vex(code, avail, i, d);
        return d->len;
    }
    unsigned flags;
    if (op == 0x0F) {
        i++;
        if (i >= avail)
            return 0;
        op = code[i];
        if (op == 0x38 || op == 0x3A) {
            d->map = op == 0x38 ? 2 : 3;
            i++;
            if (i >= avail)
                return 0;
            op = code[i];
            flags = d->map == 2 ? M : MB;
        } else {
            d->map = 1;
            flags = two_byte[op];
            if (op == 0x78 && (d->p66 || d->rep == 0xF2))
                flags = M | W;   /* AMD SSE4a extrq/insertq: imm8, imm8 */
        }
    } else {
        flags = one_byte[op];
        if (op == 0xF6 || op == 0xF7) {
            /* test r/m, imm has an immediate; the rest of group 3 none. */
            if (i + 1 >= avail)
                return 0;
            if (((code[i + 1] >> 3) & 7) < 2)
                flags |= op == 0xF6 ? B : Z;
        }
    }
    if (flags & X)
        return 0;
    d->opcode = op;
    i++;
    if (flags & M) {
        d->modrm_at = i;
        d->reg = (d->rex & 4) << 1;
        i = skip_modrm(code, avail, d);
        if (i == 0)
            return 0;
    }
    if (flags & B)
        i += 1;
    if (flags & W)
        i += 2;
    if (flags & Z)
        i += d->p66 && !(d->rex & 8) ? 2 : 4;
    if (flags & V)
        i += (d->rex & 8) ? 8 : d->p66 ? 2 : 4;
    if (flags & O)
        i += d->p67 ? 4 : 8;
    /* Near branches take a rel32 whatever 66 says in 64-bit mode (Intel). */
    if (d->p66 && ((d->map == 0 && (op == 0xE8 || op == 0xE9))
                   || (d->map == 1 && op >= 0x80 && op <= 0x8F)))
        i += 2;
    if (i > avail)
        return 0;
    d->len = i;
    return i;
}

/* May the instruction run at another address (the slot) than its own?
 * Not a branch, call or return (their target or pushed address depends on
 * where they are), no system call or software interrupt (the kernel would
 * see the slot as the return address), not hlt (faults), not xbegin (its
 * abort address is rip-relative). */
static int movable(const struct insn *d, const uint8_t *code)
{
    int op = d->opcode;
    if (d->vex)
        return 1;
    if (d->map == 0) {
        if ((op >= 0x70 && op <= 0x7F) || (op >= 0xE0 && op <= 0xE3) || op == 0xE8 || op == 0xE9
                || op == 0xEB || op == 0xC2 || op == 0xC3 || op == 0xCA || op == 0xCB
                || op == 0xCC || op == 0xCD || op == 0xCF || op == 0xF1 || op == 0xF4)
            return 0;
        if (op == 0xFF) {
            int r = (d->modrm >> 3) & 7;
            if (r >= 2 && r <= 5)   /* call/jmp near and far, indirect */
                return 0;
        }
        if (op == 0xC7 && d->modrm == 0xF8)   /* xbegin */
            return 0;
        return 1;
    }
    if (d->map == 1) {
        if (op == 0x05 || op == 0x07 || op == 0x34 || op == 0x35 || (op >= 0x80 && op <= 0x8F))
            return 0;
        if (op == 0x01 && (d->modrm & 0xC0) == 0xC0)
            return d->modrm != 0xD5 && d->modrm != 0xD4;   /* xend, vmfunc */
        return 1;
    }
    (void)code;
    return 1;
}

/* insn_length(code) -> int: the length of the x86-64 instruction at
 * code[0], 0 if not a valid 64-bit mode instruction. */
PyObject *py_insn_length(PyObject *self, PyObject *arg)
{
    Py_buffer code;
    if (PyObject_GetBuffer(arg, &code, PyBUF_SIMPLE) < 0)
        return NULL;
    struct insn d;
    int n = decode(code.buf, (int)(code.len > MAX_INSN ? MAX_INSN : code.len), &d);
    PyBuffer_Release(&code);
    return PyLong_FromLong(n);
}

/* Register numbers a displaced RIP-relative operand may be based on, in
 * order of preference: rsi, rdi. No ModRM-addressed instruction reads or
 * writes them implicitly (the string instructions that do have no ModRM). */
static const int scratch_choices[] = {6, 7};

/* displace_plan(code) -> None | (length, slot_code, scratch)
 * For the instruction at code[0]: the bytes to run in the slot (the
 * instruction, then an int3 that ends the step), and the register (0..15)
 * that must hold the instruction's own end address while it runs there
 * (its RIP-relative operand rewritten to [scratch + disp32]), or -1.
 * None: it may not run out of line (see movable), or is not decoded. */
PyObject *py_displace_plan(PyObject *self, PyObject *arg)
{
    Py_buffer code;
    if (PyObject_GetBuffer(arg, &code, PyBUF_SIMPLE) < 0)
        return NULL;
    struct insn d;
    uint8_t out[MAX_INSN + 1];
    int n = decode(code.buf, (int)(code.len > MAX_INSN ? MAX_INSN : code.len), &d);
    int scratch = -1;
    if (n == 0 || !movable(&d, code.buf))
        goto no;
    memcpy(out, code.buf, (size_t)n);
    out[n] = 0xCC;
    if (d.rip_relative) {
        /* rip-relative with a 32-bit address size (67) is eip-relative: not ours. */
        if (d.p67 || d.vex == 8)
            goto no;
        for (size_t k = 0; k < sizeof scratch_choices / sizeof *scratch_choices; k++) {
            int r = scratch_choices[k];
            if (r != d.reg && r != d.vvvv) {
                scratch = r;
                break;
            }
        }
        if (scratch < 0)
            goto no;
        /* mod=00 rm=101 (disp32 from rip) -> mod=10 rm=scratch (disp32 from it) */
        out[d.modrm_at] = (uint8_t)(0x80 | (d.modrm & 0x38) | scratch);
        /* The base register's high bit (REX.B; VEX/EVEX store it inverted)
         * must say "low eight". */
        if (d.rex_at >= 0)
            out[d.rex_at] &= (uint8_t)~1;
        if (d.vex == 3 || d.vex == 4)
            out[d.vex_at + 1] |= 0x20;
    }
    PyBuffer_Release(&code);
    return Py_BuildValue("(iy#i)", n, (const char *)out, (Py_ssize_t)(n + 1), scratch);
no:
    PyBuffer_Release(&code);
    Py_RETURN_NONE;
}

/* move_fault_address(tid, low, high, delta) -> bool
 * A thread stopped for a signal that a fault raised in the slot: the
 * siginfo's si_addr (the faulting instruction's address for SIGILL and
 * SIGFPE) is the slot's. If it lies in [low, high), add `delta` (back to the
 * instruction's own address), so the handler sees what it would untraced.
 * Returns whether it was moved. */
PyObject *py_move_fault_address(PyObject *self, PyObject *args)
{
    long pid;
    unsigned long long low, high, delta;
    if (!PyArg_ParseTuple(args, "lKKK", &pid, &low, &high, &delta))
        return NULL;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (raw_ptrace(PTRACE_GETSIGINFO, pid, 0, (unsigned long)&si) == -1)
        return os_error();
    if (si.si_code <= 0)
        Py_RETURN_FALSE;   /* sent by someone (kill, tgkill, sigqueue): no address */
    uint64_t addr = (uint64_t)(uintptr_t)si.si_addr;
    if (addr < low || addr >= high)
        Py_RETURN_FALSE;
    si.si_addr = (void *)(uintptr_t)(addr + delta);
    if (raw_ptrace(PTRACE_SETSIGINFO, pid, 0, (unsigned long)&si) == -1)
        return os_error();
    Py_RETURN_TRUE;
}
