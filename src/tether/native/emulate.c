/*
 * emulate.c: the displaced-instruction emulator and resume_over.
 *
 * The C half of tether.runtime.emulate (see its docstring for why and which
 * instructions): after a breakpoint hit, the original instruction under the
 * int3 is emulated on the register buffer instead of single-stepping it, so
 * a hit costs one resume instead of remove-step-reinsert. It is done in C
 * because it runs at every hit. emulate_insn stays in this file with both
 * of its callers (emulate, resume_over) so the compiler can inline and
 * specialise it.
 */
#include "native.h"

#include <string.h>

/* Slot (8-byte index) in struct user_regs_struct of the register that an
 * instruction encodes as number 0..15 (rax rcx rdx rbx rsp rbp rsi rdi
 * r8 .. r15). */
static const int reg_slot[16] = {
    GPR_SLOT(rax), GPR_SLOT(rcx), GPR_SLOT(rdx), GPR_SLOT(rbx),
    GPR_SLOT(rsp), GPR_SLOT(rbp), GPR_SLOT(rsi), GPR_SLOT(rdi),
    GPR_SLOT(r8), GPR_SLOT(r9), GPR_SLOT(r10), GPR_SLOT(r11),
    GPR_SLOT(r12), GPR_SLOT(r13), GPR_SLOT(r14), GPR_SLOT(r15),
};
#define SLOT_RIP GPR_SLOT(rip)
#define SLOT_EFLAGS GPR_SLOT(eflags)
#define SLOT_RSP GPR_SLOT(rsp)
#define SLOT_CS GPR_SLOT(cs)
/* The code segment selector of a thread running 64-bit code (__USER_CS,
 * arch/x86/include/asm/segment.h). A 32-bit (i386) task runs with
 * __USER32_CS = 0x23, where the same bytes mean other instructions (0x40..0x4F
 * are inc/dec, not REX prefixes): this emulator decodes 64-bit mode only, so
 * it refuses any other code segment and the caller single-steps instead. */
#define USER64_CS 0x33
#define F_CF (1u << 0)
#define F_PF (1u << 2)
#define F_AF (1u << 4)
#define F_ZF (1u << 6)
#define F_SF (1u << 7)
#define F_OF (1u << 11)

static uint64_t result_flags(uint64_t fl, uint64_t r)
{
    fl &= ~(uint64_t)(F_PF | F_ZF | F_SF);
    if (!(__builtin_popcount((unsigned)(r & 0xFF)) & 1))
        fl |= F_PF;
    if (r == 0)
        fl |= F_ZF;
    if (r >> 63)
        fl |= F_SF;
    return fl;
}

/* Apply code[0..] to regs. Returns the length, or 0 if not emulated (then
   regs is unchanged). A push stores its address/value in *push_addr/value. */
static int emulate_insn(uint64_t *regs, const uint8_t *code, Py_ssize_t len,
                        int *pushed, uint64_t *push_addr, uint64_t *push_value)
{
    if (len < 1 || regs[SLOT_CS] != USER64_CS)
        return 0;
    int rex = 0, i = 0;
    if (code[0] >= 0x40 && code[0] <= 0x4F) {
        rex = code[0];
        i = 1;
    }
    if (len < i + 1)
        return 0;
    int op = code[i];
    int r_bit = (rex >> 2) & 1, b_bit = rex & 1, w_bit = (rex >> 3) & 1;
    if (op >= 0x50 && op <= 0x57 && !w_bit && (rex == 0 || rex == 0x41)) {
        uint64_t value = regs[reg_slot[(op - 0x50) + 8 * b_bit]];
        uint64_t rsp = regs[SLOT_RSP] - 8;
        *pushed = 1;
        *push_addr = rsp;
        *push_value = value;
        regs[SLOT_RSP] = rsp;
        return i + 1;
    }
    if (op >= 0xB8 && op <= 0xBF && !w_bit && (rex == 0 || rex == 0x41)) {
        if (len < i + 5)
            return 0;
        uint32_t imm;
        memcpy(&imm, code + i + 1, 4);
        regs[reg_slot[(op - 0xB8) + 8 * b_bit]] = imm;   /* 32-bit moves zero-extend */
        return i + 5;
    }
    if (op == 0x90 && rex == 0)
        return 1;
    if (len >= 4 && code[0] == 0xF3 && code[1] == 0x0F && code[2] == 0x1E && code[3] == 0xFA)
        return 4;   /* endbr64 */
    if (!w_bit || len < i + 2)
        return 0;
    int modrm = code[i + 1];
    if (modrm >> 6 != 3)
        return 0;   /* memory operands: not ours to emulate */
    int reg = ((modrm >> 3) & 7) + 8 * r_bit;
    int rm = (modrm & 7) + 8 * b_bit;
    if (op == 0x89) {
        regs[reg_slot[rm]] = regs[reg_slot[reg]];
        return i + 2;
    }
    if (op == 0x8B) {
        regs[reg_slot[reg]] = regs[reg_slot[rm]];
        return i + 2;
    }
    if (op == 0x85) {   /* test: CF/OF cleared, AF undefined (kept) */
        uint64_t r = regs[reg_slot[rm]] & regs[reg_slot[reg]];
        regs[SLOT_EFLAGS] = result_flags(regs[SLOT_EFLAGS], r) & ~(uint64_t)(F_CF | F_OF);
        return i + 2;
    }
    if ((op == 0x83 || op == 0x81) && ((modrm >> 3) & 7) == 5 && rm == 4) {   /* sub rsp, imm */
        uint64_t imm;
        int length;
        if (op == 0x83) {
            if (len < i + 3)
                return 0;
            imm = (uint64_t)(int64_t)(int8_t)code[i + 2];
            length = i + 3;
        } else {
            if (len < i + 6)
                return 0;
            int32_t v;
            memcpy(&v, code + i + 2, 4);
            imm = (uint64_t)(int64_t)v;
            length = i + 6;
        }
        uint64_t dst = regs[SLOT_RSP], r = dst - imm;
        uint64_t fl = result_flags(regs[SLOT_EFLAGS], r) & ~(uint64_t)(F_CF | F_AF | F_OF);
        if (dst < imm)
            fl |= F_CF;
        if (((dst ^ imm ^ r) >> 4) & 1)
            fl |= F_AF;
        if ((((dst ^ imm) & (dst ^ r)) >> 63) & 1)
            fl |= F_OF;
        regs[SLOT_RSP] = r;
        regs[SLOT_EFLAGS] = fl;
        return length;
    }
    return 0;
}

/* emulate(gpr: bytearray, code: bytes) -> None | (length, push_address | None, push_value)
 * Applies the instruction to the register buffer (rip not moved). */
PyObject *py_emulate(PyObject *self, PyObject *args)
{
    Py_buffer gpr, code;
    if (!PyArg_ParseTuple(args, "w*y*", &gpr, &code))
        return NULL;
    PyObject *out = NULL;
    if ((size_t)gpr.len != sizeof(struct user_regs_struct)) {
        PyErr_SetString(PyExc_ValueError, "emulate: register buffer has the wrong size");
    } else {
        int pushed = 0;
        uint64_t addr = 0, value = 0;
        int n = emulate_insn((uint64_t *)gpr.buf, code.buf, code.len, &pushed, &addr, &value);
        if (n == 0) {
            out = Py_NewRef(Py_None);
        } else if (pushed) {
            out = Py_BuildValue("(iKK)", n, (unsigned long long)addr, (unsigned long long)value);
        } else {
            out = Py_BuildValue("(iOi)", n, Py_None, 0);
        }
    }
    PyBuffer_Release(&gpr);
    PyBuffer_Release(&code);
    return out;
}

/* resume_over(tid, request, gpr, code) -> bool
 * The common end of a breakpoint hit: the thread sits on our int3 (rip in
 * `gpr` already moved back to it), `code` holds the original instruction.
 * Emulate it (a push writes the stack with one POKEDATA), move rip past it,
 * write the registers back and restart the thread: one call instead of four.
 * Returns False, having done nothing, if the instruction is not emulated. */
PyObject *py_resume_over(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* Fast-call: this runs at every breakpoint hit. */
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "resume_over(tid, request, gpr, code)");
        return NULL;
    }
    long pid = PyLong_AsLong(args[0]), req = PyLong_AsLong(args[1]);
    if (PyErr_Occurred())
        return NULL;
    Py_buffer gpr, code;
    if (PyObject_GetBuffer(args[2], &gpr, PyBUF_WRITABLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[3], &code, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&gpr);
        return NULL;
    }
    PyObject *out = NULL;
    if ((size_t)gpr.len != sizeof(struct user_regs_struct)) {
        PyErr_SetString(PyExc_ValueError, "resume_over: register buffer has the wrong size");
        goto done;
    }
    uint64_t *regs = gpr.buf, saved[sizeof(struct user_regs_struct) / 8];
    memcpy(saved, regs, sizeof saved);
    int pushed = 0;
    uint64_t addr = 0, value = 0;
    int n = emulate_insn(regs, code.buf, code.len, &pushed, &addr, &value);
    if (n == 0) {
        out = Py_NewRef(Py_False);
        goto done;
    }
    regs[SLOT_RIP] += (uint64_t)n;
    if ((pushed && raw_ptrace(PTRACE_POKEDATA, pid, addr, value) == -1)
            || raw_ptrace(PTRACE_SETREGS, pid, 0, (unsigned long)regs) == -1
            || raw_ptrace(req, pid, 0, 0) == -1) {
        memcpy(regs, saved, sizeof saved);   /* the caller's cache stays true */
        os_error();
        goto done;
    }
    out = Py_NewRef(Py_True);
done:
    PyBuffer_Release(&gpr);
    PyBuffer_Release(&code);
    return out;
}
