/*
 * tether._native: the only code in tether that makes ptrace/wait system calls.
 *
 * It holds no policy. Every function is a thin wrapper that releases the GIL
 * around the system call and turns a failure into OSError(errno). Policy (what
 * a stop means, what to do about it) lives in Python, in tether.events and
 * tether.runtime.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <elf.h>
#include <limits.h>
#include <linux/futex.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ptrace.h>
#include <sched.h>
#include <ucontext.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __WALL
#define __WALL 0x40000000
#endif
#ifndef __WNOTHREAD
#define __WNOTHREAD 0x20000000
#endif

#define XSTATE_MAX 16384

static long raw_ptrace(long req, long pid, unsigned long addr, unsigned long data)
{
    /* The raw system call: glibc's wrapper treats PEEK* specially. */
    return syscall(SYS_ptrace, req, pid, addr, data);
}

static PyObject *os_error(void)
{
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* ptrace(request, pid, addr=0, data=0) -> int */
static PyObject *py_ptrace(PyObject *self, PyObject *args)
{
    long req, pid;
    unsigned long addr = 0, data = 0;
    if (!PyArg_ParseTuple(args, "ll|kk", &req, &pid, &addr, &data))
        return NULL;
    long r;
    Py_BEGIN_ALLOW_THREADS
    r = raw_ptrace(req, pid, addr, data);
    Py_END_ALLOW_THREADS
    if (r == -1)
        return os_error();
    return PyLong_FromLong(r);
}

/* peekdata(pid, addr) -> int (unsigned word); peekuser(pid, offset) likewise. */
static PyObject *peek_common(long req, PyObject *args)
{
    long pid;
    unsigned long addr;
    if (!PyArg_ParseTuple(args, "lk", &pid, &addr))
        return NULL;
    unsigned long word;
    errno = 0;
    /* The raw syscall stores the word through `data` (glibc hides this). */
    long r = raw_ptrace(req, pid, addr, (unsigned long)&word);
    if (r == -1)
        return os_error();
    return PyLong_FromUnsignedLong(word);
}

static PyObject *py_peekdata(PyObject *self, PyObject *args) { return peek_common(PTRACE_PEEKDATA, args); }
static PyObject *py_peekuser(PyObject *self, PyObject *args) { return peek_common(PTRACE_PEEKUSR, args); }

static PyObject *py_pokeuser(PyObject *self, PyObject *args)
{
    long pid;
    unsigned long off, val;
    if (!PyArg_ParseTuple(args, "lkk", &pid, &off, &val))
        return NULL;
    if (raw_ptrace(PTRACE_POKEUSR, pid, off, val) == -1)
        return os_error();
    Py_RETURN_NONE;
}

static PyObject *py_pokedata(PyObject *self, PyObject *args)
{
    long pid;
    unsigned long addr, val;
    if (!PyArg_ParseTuple(args, "lkk", &pid, &addr, &val))
        return NULL;
    if (raw_ptrace(PTRACE_POKEDATA, pid, addr, val) == -1)
        return os_error();
    Py_RETURN_NONE;
}

/* PTRACE_SETREGS from a user_regs_struct-sized buffer; -1 with an exception set. */
static int write_regs(long pid, Py_buffer *buf, const char *who)
{
    if ((size_t)buf->len != sizeof(struct user_regs_struct)) {
        PyErr_Format(PyExc_ValueError, "%s: register buffer has the wrong size", who);
        return -1;
    }
    if (raw_ptrace(PTRACE_SETREGS, pid, 0, (unsigned long)buf->buf) == -1) {
        os_error();
        return -1;
    }
    return 0;
}

/* ---- displaced-instruction emulation -------------------------------------
 * The C half of tether.runtime.emulate (see its docstring for why and which
 * instructions): done here because it runs at every breakpoint hit.
 * Slot (8-byte index) in struct user_regs_struct of register number 0..15
 * (rax rcx rdx rbx rsp rbp rsi rdi r8 .. r15). */
static const int reg_slot[16] = {10, 11, 12, 5, 19, 4, 13, 14, 9, 8, 7, 6, 3, 2, 1, 0};
#define SLOT_RIP 16
#define SLOT_EFLAGS 18
#define SLOT_RSP 19
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
    if (len < 1)
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
static PyObject *py_emulate(PyObject *self, PyObject *args)
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

/* resume(tid, request, sig, gpr=None): write the registers back (if given),
 * then restart the thread with `request`. One call per resume at every stop.
 * The GIL is kept: both requests return at once. */
static PyObject *py_resume(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 && nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "resume(tid, request, sig, gpr=None)");
        return NULL;
    }
    long pid = PyLong_AsLong(args[0]), req = PyLong_AsLong(args[1]), sig = PyLong_AsLong(args[2]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *gpr = nargs == 4 ? args[3] : Py_None;
    if (gpr != Py_None) {
        Py_buffer buf;
        if (PyObject_GetBuffer(gpr, &buf, PyBUF_SIMPLE) < 0)
            return NULL;
        int r = write_regs(pid, &buf, "resume");
        PyBuffer_Release(&buf);
        if (r < 0)
            return NULL;
    }
    if (raw_ptrace(req, pid, 0, (unsigned long)sig) == -1)
        return os_error();
    Py_RETURN_NONE;
}

/* resume_over(tid, request, gpr, code) -> bool
 * The common end of a breakpoint hit: the thread sits on our int3 (rip in
 * `gpr` already moved back to it), `code` holds the original instruction.
 * Emulate it (a push writes the stack with one POKEDATA), move rip past it,
 * write the registers back and restart the thread: one call instead of four.
 * Returns False, having done nothing, if the instruction is not emulated. */
static PyObject *py_resume_over(PyObject *self, PyObject *args)
{
    long pid, req;
    Py_buffer gpr, code;
    if (!PyArg_ParseTuple(args, "llw*y*", &pid, &req, &gpr, &code))
        return NULL;
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

/* getregs(tid) -> bytearray(sizeof(struct user_regs_struct)) */
static PyObject *py_getregs(PyObject *self, PyObject *args)
{
    long pid;
    if (!PyArg_ParseTuple(args, "l", &pid))
        return NULL;
    struct user_regs_struct regs;
    if (raw_ptrace(PTRACE_GETREGS, pid, 0, (unsigned long)&regs) == -1)
        return os_error();
    return PyByteArray_FromStringAndSize((const char *)&regs, sizeof regs);
}

/* trap_regs(tid) -> (bytearray, address): the registers of a thread stopped
 * by an int3, with rip moved back onto the int3 (the trap leaves rip one
 * byte past it), and that address. The breakpoint hit's first call. */
static PyObject *py_trap_regs(PyObject *self, PyObject *arg)
{
    long pid = PyLong_AsLong(arg);
    if (pid == -1 && PyErr_Occurred())
        return NULL;
    struct user_regs_struct regs;
    if (raw_ptrace(PTRACE_GETREGS, pid, 0, (unsigned long)&regs) == -1)
        return os_error();
    regs.rip -= 1;
    PyObject *buf = PyByteArray_FromStringAndSize((const char *)&regs, sizeof regs);
    if (!buf)
        return NULL;
    return Py_BuildValue("(NK)", buf, (unsigned long long)regs.rip);
}

/* setregs(tid, buffer) */
static PyObject *py_setregs(PyObject *self, PyObject *args)
{
    long pid;
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "ly*", &pid, &buf))
        return NULL;
    int r = write_regs(pid, &buf, "setregs");
    PyBuffer_Release(&buf);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* getxstate(tid) -> bytearray: the XSAVE area (NT_X86_XSTATE), the size the kernel reports. */
static PyObject *py_getxstate(PyObject *self, PyObject *args)
{
    long pid;
    if (!PyArg_ParseTuple(args, "l", &pid))
        return NULL;
    static unsigned char area[XSTATE_MAX] __attribute__((aligned(64)));
    struct iovec iov = {area, sizeof area};
    if (raw_ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, (unsigned long)&iov) == -1)
        return os_error();
    return PyByteArray_FromStringAndSize((const char *)area, iov.iov_len);
}

static PyObject *py_setxstate(PyObject *self, PyObject *args)
{
    long pid;
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "ly*", &pid, &buf))
        return NULL;
    struct iovec iov = {buf.buf, buf.len};
    long r = raw_ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, (unsigned long)&iov);
    PyBuffer_Release(&buf);
    if (r == -1)
        return os_error();
    Py_RETURN_NONE;
}

static PyObject *py_geteventmsg(PyObject *self, PyObject *args)
{
    long pid;
    if (!PyArg_ParseTuple(args, "l", &pid))
        return NULL;
    unsigned long msg = 0;
    if (raw_ptrace(PTRACE_GETEVENTMSG, pid, 0, (unsigned long)&msg) == -1)
        return os_error();
    return PyLong_FromUnsignedLong(msg);
}

/* clone_event(tid) -> (new_tid, makes_thread)
 * At a PTRACE_EVENT_CLONE stop: the new task's id, and whether the clone
 * passed CLONE_THREAD (1), did not (0), or cannot tell (-1). The creator is
 * still inside the call, so its own arguments say it: the flags are rdi for
 * clone and the first u64 of struct clone_args (pointed to by rdi) for
 * clone3. Reading them beats /proc, and it runs at every thread's birth. */
#define CLONE_THREAD_FLAG 0x00010000UL
static PyObject *py_clone_event(PyObject *self, PyObject *arg)
{
    long pid = PyLong_AsLong(arg);
    if (pid == -1 && PyErr_Occurred())
        return NULL;
    unsigned long msg = 0;
    if (raw_ptrace(PTRACE_GETEVENTMSG, pid, 0, (unsigned long)&msg) == -1)
        return os_error();
    int thread = -1;
    struct user_regs_struct regs;
    if (raw_ptrace(PTRACE_GETREGS, pid, 0, (unsigned long)&regs) == 0) {
        uint64_t flags = 0;
        if (regs.orig_rax == SYS_clone) {
            thread = (regs.rdi & CLONE_THREAD_FLAG) != 0;
        } else if (regs.orig_rax == SYS_clone3) {
            struct iovec local = {&flags, sizeof flags};
            struct iovec remote = {(void *)regs.rdi, sizeof flags};
            if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == sizeof flags)
                thread = (flags & CLONE_THREAD_FLAG) != 0;
        }
    }
    return Py_BuildValue("(ki)", msg, thread);
}

/* same_vm(pid1, pid2) -> bool: kcmp(KCMP_VM), do two processes share one
 * address space (a clone(CLONE_VM) without CLONE_THREAD, or a vfork)? Asked
 * at every followed fork. */
static PyObject *py_same_vm(PyObject *self, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return PyBool_FromLong(syscall(SYS_kcmp, a, b, 1 /* KCMP_VM */, 0, 0) == 0);
}

/* get_syscall_info(tid) -> (op, nr, (args...), rval, is_error)
 * op: 0 none, 1 entry, 2 exit, 3 seccomp. The kernel tells entry from exit,
 * so enter/exit pairing never depends on counting stops. */
static PyObject *py_get_syscall_info(PyObject *self, PyObject *arg)
{
    long pid = PyLong_AsLong(arg);
    if (pid == -1 && PyErr_Occurred())
        return NULL;
    struct ptrace_syscall_info info;
    memset(&info, 0, sizeof info);
    if (raw_ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, (unsigned long)&info) == -1)
        return os_error();
    if (info.op == PTRACE_SYSCALL_INFO_ENTRY || info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
        unsigned long long *a = info.op == PTRACE_SYSCALL_INFO_ENTRY ? info.entry.args : info.seccomp.args;
        unsigned long long nr = info.op == PTRACE_SYSCALL_INFO_ENTRY ? info.entry.nr : info.seccomp.nr;
        return Py_BuildValue("(iK(KKKKKK)Ki)", info.op, nr, a[0], a[1], a[2], a[3], a[4], a[5], 0ULL, 0);
    }
    if (info.op == PTRACE_SYSCALL_INFO_EXIT)
        return Py_BuildValue("(iK()Li)", info.op, 0ULL, (long long)info.exit.rval, (int)info.exit.is_error);
    return Py_BuildValue("(iK()Ki)", info.op, 0ULL, 0ULL, 0);
}

/* getsiginfo(tid) -> (signo, code, pid, status): the siginfo of a signal-delivery-stop. */
static PyObject *py_getsiginfo(PyObject *self, PyObject *args)
{
    long pid;
    if (!PyArg_ParseTuple(args, "l", &pid))
        return NULL;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (raw_ptrace(PTRACE_GETSIGINFO, pid, 0, (unsigned long)&si) == -1)
        return os_error();
    return Py_BuildValue("(iiii)", si.si_signo, si.si_code, (int)si.si_pid, si.si_status);
}

/* ---- waiting --------------------------------------------------------------
 * The tracer thread sleeps in wait4() and must also wake up when the user's
 * thread hands it a command. The user thread sends the tracer thread a
 * dedicated "wake" signal, whose handler records it in `wake_pending`:
 *   - sent while the tracer runs Python code: the next wait sees the flag
 *     and returns at once;
 *   - sent between that check and the system call, or while the call sleeps:
 *     the handler moves the thread's saved rip to the "woken" exit of the
 *     wait's assembly stub, so it returns -EINTR without (re)entering wait4;
 *   - sent as wait4 returns a status: rip is past the system call, so the
 *     handler leaves it alone and the status is kept (the flag is seen at
 *     the next wait).
 * So no wake-up and no status is ever lost, with one system call per event
 * and no signal-mask call (the technique of musl's cancellation points). */
/* Plain globals, not __thread: there is one tracer thread per process, and
   the first touch of a __thread variable in a dlopen()ed module may call
   malloc, which a signal handler must never risk. */
static int wake_signal = 0;
static volatile sig_atomic_t wake_armed = 0;
static volatile sig_atomic_t wake_pending = 0;
static pid_t tracer_tid = 0;
static timer_t wake_timer;
static int wake_timer_ok = 0;

/* ---- hand-offs between the user's threads and the tracer thread ---------
 * A user thread waiting for the tracer (for a command to be done, or for a
 * process to stop) sleeps on a futex, a "generation" counter that the tracer
 * bumps whenever something the user may wait for happened. Two rules keep
 * the hand-off to one context switch each way:
 *   - the tracer bumps (wakes) only *after* releasing the GIL, on its way
 *     into its next wait, so the woken thread can take the GIL at once;
 *   - a user thread kicks the tracer (the wake signal) only after releasing
 *     the GIL, so the tracer can take it at once.
 * Waiters re-check their condition under the GIL after reading the
 * generation, so no bump between the check and the sleep is lost.
 */
static uint32_t generation = 0;
static int waiters = 0;

/* Wake the tracer thread for a queued command (any thread; GIL released).
 * Only a tracer asleep in its wait needs the signal; one running Python code
 * sees wake_pending before it waits again (the fences order the flag against
 * wake_armed; the command was queued before this call). */
static void kick_tracer(void)
{
    wake_pending = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (wake_armed && tracer_tid)
        syscall(SYS_tgkill, getpid(), tracer_tid, wake_signal);
}

static void bump_generation(void)
{
    __atomic_add_fetch(&generation, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&waiters, __ATOMIC_SEQ_CST) > 0)
        syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* long wait4_unless_woken(pid, status, options, rusage, &wake_pending):
 * wait4(), or -EINTR without waiting if the flag is set. The flag check and
 * the `syscall` instruction lie between wait_stub_begin and wait_stub_end,
 * which the wake handler checks. */
extern const char wait_stub_begin[], wait_stub_end[], wait_stub_woken[];
long wait4_unless_woken(long pid, int *status, long options, void *rusage,
                        volatile sig_atomic_t *flag);
__asm__(".text\n"
        ".globl wait4_unless_woken\n"
        ".hidden wait4_unless_woken\n"
        ".type wait4_unless_woken,@function\n"
        "wait4_unless_woken:\n"
        ".globl wait_stub_begin\n.hidden wait_stub_begin\n"
        "wait_stub_begin:\n"
        "    movl (%r8), %eax\n"
        "    testl %eax, %eax\n"
        "    jnz wait_stub_woken\n"
        "    movq %rcx, %r10\n"
        "    movl $61, %eax\n"                 /* SYS_wait4 */
        "    syscall\n"
        ".globl wait_stub_end\n.hidden wait_stub_end\n"
        "wait_stub_end:\n"
        "    ret\n"
        ".globl wait_stub_woken\n.hidden wait_stub_woken\n"
        "wait_stub_woken:\n"
        "    movq $-4, %rax\n"                 /* -EINTR */
        "    ret\n"
        ".size wait4_unless_woken, .-wait4_unless_woken\n");

static void wake_handler(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    wake_pending = 1;
    ucontext_t *uc = context;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    /* Before the syscall instruction completed (a blocked wait4 that the
       kernel would restart also shows rip on the instruction): leave by the
       woken exit. After it: keep whatever it returned. */
    if (pc >= (uintptr_t)wait_stub_begin && pc < (uintptr_t)wait_stub_end)
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)wait_stub_woken;
}

/* tracer_thread_init(signo): install the wake handler (for this thread). */
static PyObject *py_tracer_thread_init(PyObject *self, PyObject *args)
{
    int signo;
    if (!PyArg_ParseTuple(args, "i", &signo))
        return NULL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = wake_handler;
    sigemptyset(&sa.sa_mask);
    /* SA_SIGINFO: the handler needs the interrupted context. No SA_RESTART:
       a wait4 already sleeping must return. */
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(signo, &sa, NULL) == -1)
        return os_error();
    /* Asynchronous signals (Ctrl-C, SIGTERM, timers...) must reach the
       user's threads, not this one: the kernel picks any thread that does not
       block a process-directed signal, and a signal landing here would not
       interrupt the user's thread waiting in wait_generation(). Faults stay
       unblocked (they are thread-directed and fatal anyway). So does
       SIGCHLD: every ptrace-stop sends it to us, and while no thread blocks
       it an ignored SIGCHLD is dropped when sent; blocked here it would be
       queued for, and wake, the user's thread at every stop. */
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, signo);
    int keep[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS, SIGPIPE, SIGCHLD};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        sigdelset(&set, keep[i]);
    pthread_sigmask(SIG_SETMASK, &set, NULL);
    wake_signal = signo;
    tracer_tid = (pid_t)syscall(SYS_gettid);
    /* SCHED_BATCH: waking this thread (a user's command, a tracee's stop)
       does not preempt the thread that woke it. A user's thread that hands
       us a command and then waits gets to its wait first, and we run once it
       sleeps: one context switch instead of three on a shared CPU. Allowed
       to any user; failing it only costs speed. */
    struct sched_param param;
    memset(&param, 0, sizeof param);
    sched_setscheduler(0, SCHED_BATCH, &param);
    /* A one-shot timer that sends the wake signal to this thread: waits with
       a time limit (wake_after) without a timer thread. */
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = signo;
    sev._sigev_un._tid = tracer_tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &wake_timer) == -1)
        return os_error();
    wake_timer_ok = 1;
    Py_RETURN_NONE;
}

/* wait_event(block=True, notify=False) -> (pid, status) | None (woken) | (-1, 0) (no child) | (0, 0) (nothing)
 * With notify, the user's waiting threads are woken first (bump_generation),
 * once the GIL is released.
 * Waits for a child of *this thread* (tracee or own child) to change state:
 * __WNOTHREAD keeps us away from the children of the user's other threads. */
static PyObject *py_wait_event(PyObject *self, PyObject *args)
{
    int block = 1, notify = 0;
    if (!PyArg_ParseTuple(args, "|pp", &block, &notify))
        return NULL;
    int woke = 0, status = 0;
    long rc;

    Py_BEGIN_ALLOW_THREADS
    if (notify)
        bump_generation();
    if (block) {
        wake_armed = 1;
        /* Pairs with kick_tracer(): one of us sees the other's store. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        rc = wait4_unless_woken(-1, &status, __WALL | __WNOTHREAD, NULL, &wake_pending);
        wake_armed = 0;
        if (rc == -EINTR && wake_pending) {
            woke = 1;
            wake_pending = 0;
        }
    } else {
        rc = syscall(SYS_wait4, -1, &status, __WALL | __WNOTHREAD | WNOHANG, NULL);
        if (rc == -1)
            rc = -errno;
    }
    Py_END_ALLOW_THREADS

    if (woke)
        Py_RETURN_NONE;
    if (rc < 0) {
        if (rc == -ECHILD)
            return Py_BuildValue("(ii)", -1, 0);
        if (rc == -EINTR)
            Py_RETURN_NONE;
        errno = (int)-rc;
        return os_error();
    }
    return Py_BuildValue("(ii)", (int)rc, rc > 0 ? status : 0);
}

/* kick(): wake the tracer thread for a command queued without waiting for it. */
static PyObject *py_kick(PyObject *self, PyObject *args)
{
    Py_BEGIN_ALLOW_THREADS
    kick_tracer();
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* generation() -> int: read before checking a condition, then wait_generation(). */
static PyObject *py_generation(PyObject *self, PyObject *args)
{
    return PyLong_FromUnsignedLong(__atomic_load_n(&generation, __ATOMIC_SEQ_CST));
}

/* notify(): bump the generation now (tracer thread, before it blocks elsewhere). */
static PyObject *py_notify(PyObject *self, PyObject *args)
{
    Py_BEGIN_ALLOW_THREADS
    bump_generation();
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* wait_generation(seen, timeout=-1.0, kick=False) -> bool
 * Sleep while the generation is still `seen`, at most `timeout` seconds (< 0:
 * no limit). With kick, first wake the tracer thread (a command was queued).
 * Returns False on timeout, True otherwise (changed, or a signal arrived:
 * the caller re-checks). Python signal handlers (Ctrl-C) run before return. */
static PyObject *py_wait_generation(PyObject *self, PyObject *args)
{
    unsigned long seen;
    double timeout = -1.0;
    int kick = 0;
    if (!PyArg_ParseTuple(args, "k|dp", &seen, &timeout, &kick))
        return NULL;
    int timed_out = 0, interrupted = 0;
    struct timespec ts, *tsp = NULL;
    if (timeout >= 0) {
        ts.tv_sec = (time_t)timeout;
        ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
        tsp = &ts;
    }
    Py_BEGIN_ALLOW_THREADS
    if (kick)
        kick_tracer();
    __atomic_add_fetch(&waiters, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&generation, __ATOMIC_SEQ_CST) == (uint32_t)seen) {
        long rc = syscall(SYS_futex, &generation, FUTEX_WAIT_PRIVATE, (uint32_t)seen, tsp, NULL, 0);
        if (rc == -1 && errno == ETIMEDOUT)
            timed_out = 1;
        else if (rc == -1 && errno == EINTR)
            interrupted = 1;
    }
    __atomic_sub_fetch(&waiters, 1, __ATOMIC_SEQ_CST);
    Py_END_ALLOW_THREADS
    if (interrupted && PyErr_CheckSignals() < 0)
        return NULL;
    if (timed_out)
        Py_RETURN_FALSE;
    Py_RETURN_TRUE;
}

/* wait_pid(pid, nohang) -> (pid, status) : wait4 on one tid (used for a new child's first stop). */
static PyObject *py_wait_pid(PyObject *self, PyObject *args)
{
    long want;
    int nohang = 0;
    if (!PyArg_ParseTuple(args, "l|p", &want, &nohang))
        return NULL;
    int status = 0;
    pid_t pid;
    Py_BEGIN_ALLOW_THREADS
    do {
        pid = wait4(want, &status, __WALL | (nohang ? WNOHANG : 0), NULL);
    } while (pid == -1 && errno == EINTR);
    Py_END_ALLOW_THREADS
    if (pid == -1)
        return os_error();
    return Py_BuildValue("(ii)", (int)pid, status);
}

/* ---- memory --------------------------------------------------------------- */

/* read_memory(pid, addr, size) -> bytes, via process_vm_readv (one system call
 * for any size). Raises OSError(EFAULT/EIO) if any part is unmapped.
 * METH_FASTCALL and no GIL release for small reads: scripts read a few bytes
 * in tight loops, where the argument tuple and the GIL hand-off cost about a
 * third as much as the system call itself. */
#define SMALL_READ 4096
static PyObject *py_read_memory(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "read_memory(pid, addr, size) takes 3 arguments");
        return NULL;
    }
    long pid = PyLong_AsLong(args[0]);
    unsigned long addr = PyLong_AsUnsignedLong(args[1]);
    Py_ssize_t size = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred())
        return NULL;
    if (size < 0) {
        PyErr_SetString(PyExc_ValueError, "size must not be negative");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, size);
    if (!out)
        return NULL;
    char *p = PyBytes_AS_STRING(out);
    Py_ssize_t done = 0;
    int err = 0;
    PyThreadState *released = size > SMALL_READ ? PyEval_SaveThread() : NULL;
    while (done < size) {
        struct iovec local = {p + done, size - done};
        struct iovec remote = {(void *)(addr + done), size - done};
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0) {
            err = n == 0 ? EIO : errno;
            break;
        }
        done += n;
    }
    if (released)
        PyEval_RestoreThread(released);
    if (err) {
        Py_DECREF(out);
        errno = err;
        return os_error();
    }
    return out;
}

/* ---- starting a program ---------------------------------------------------
 * spawn(path, argv, envp, aslr, stdin_fd, stdout_fd, stderr_fd, go_fd, errpipe_fd) -> (pid, stack)
 * envp: a sequence of "NAME=value" str/bytes, or None for our own environment.
 * Creates the child from the calling (tracer) thread, so it is this thread's
 * child. The child applies the ASLR setting, installs the pipes, then blocks
 * reading go_fd until the tracer has PTRACE_SEIZEd it, and only then execs:
 * the exec is therefore reported as PTRACE_EVENT_EXEC and no instruction of
 * the new program runs untraced.
 *
 * The child shares our memory (clone with CLONE_VM, as posix_spawn does):
 * fork() would copy the page tables of the whole Python process, which costs
 * more than the rest of starting a program. So the child runs on a stack of
 * its own, touches nothing but that stack and what was prepared for it, and
 * makes raw system calls only (a libc wrapper would write errno, which is the
 * tracer thread's: the child shares its TLS). The caller frees the stack with
 * free_stack() once the child has exec'd or died. */
struct spawn_args {
    const char *path;
    char **argv, **envp;
    int aslr, in_fd, out_fd, err_fd, go_fd, errpipe_fd;
};

#define SPAWN_STACK (64 * 1024)

static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;   /* -errno on failure */
}

static int spawn_child(void *arg)
{
    struct spawn_args *a = arg;
    /* Block everything, then put every handler back to the default: a
       signal must not run one of the tracer's handlers in here (they would
       act on memory we share). The program starts with an empty mask. */
    uint64_t all = ~0ULL, none = 0;
    raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0, 0);
    struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } act, dfl = {0};
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (raw6(SYS_rt_sigaction, sig, 0, (long)&act, 8, 0, 0) == 0
                && act.handler != SIG_DFL && act.handler != SIG_IGN)
            raw6(SYS_rt_sigaction, sig, (long)&dfl, 0, 8, 0, 0);
    }
    if (!a->aslr)
        raw6(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0);
    if (a->in_fd >= 0)
        raw6(SYS_dup2, a->in_fd, 0, 0, 0, 0, 0);
    if (a->out_fd >= 0)
        raw6(SYS_dup2, a->out_fd, 1, 0, 0, 0, 0);
    if (a->err_fd >= 0)
        raw6(SYS_dup2, a->err_fd, 2, 0, 0, 0, 0);
    char c;
    while (raw6(SYS_read, a->go_fd, (long)&c, 1, 0, 0, 0) == -EINTR)
        ;
    /* Every descriptor above 2 is closed by the exec (the error pipe too, which
       is how the parent learns the exec succeeded). close_range needs 5.11. */
    if (raw6(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */, 0, 0, 0) < 0)
        for (int fd = 3; fd < 4096; fd++)
            if (fd != a->errpipe_fd)
                raw6(SYS_close, fd, 0, 0, 0, 0, 0);
    raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
    long rc = raw6(SYS_execve, (long)a->path, (long)a->argv, (long)a->envp, 0, 0, 0);
    int e = (int)-rc;
    raw6(SYS_write, a->errpipe_fd, (long)&e, sizeof e, 0, 0, 0);
    raw6(SYS_exit, 127, 0, 0, 0, 0, 0);
    return 127;
}

static PyObject *py_spawn(PyObject *self, PyObject *args)
{
    struct spawn_args a;
    PyObject *argv_obj, *env_obj;
    if (!PyArg_ParseTuple(args, "sOOpiiiii", &a.path, &argv_obj, &env_obj, &a.aslr, &a.in_fd,
                          &a.out_fd, &a.err_fd, &a.go_fd, &a.errpipe_fd))
        return NULL;
    /* env None: this process's own environment (what os.environ's changes
       are written through to, with putenv), without building a Python list
       of it at every start. */
    int own_env = env_obj == Py_None;
    Py_ssize_t argc = PySequence_Size(argv_obj), envc = 0;
    if (own_env)
        while (environ[envc])
            envc++;
    else
        envc = PySequence_Size(env_obj);
    if (argc < 0 || envc < 0)
        return NULL;
    a.argv = PyMem_Calloc(argc + 1, sizeof(char *));
    a.envp = PyMem_Calloc(envc + 1, sizeof(char *));
    PyObject *keep = PyList_New(0);
    PyObject *result = NULL;
    if (!a.argv || !a.envp || !keep)
        goto done;
    if (own_env)
        memcpy(a.envp, environ, envc * sizeof(char *));
    for (Py_ssize_t i = 0; i < argc + (own_env ? 0 : envc); i++) {
        PyObject *item = i < argc ? PySequence_GetItem(argv_obj, i) : PySequence_GetItem(env_obj, i - argc);
        if (!item)
            goto done;
        PyObject *b = PyUnicode_Check(item) ? PyUnicode_EncodeFSDefault(item) : (Py_INCREF(item), item);
        Py_DECREF(item);
        if (!b || !PyBytes_Check(b)) {
            Py_XDECREF(b);
            PyErr_SetString(PyExc_TypeError, "argv and env entries must be str or bytes");
            goto done;
        }
        PyList_Append(keep, b);
        Py_DECREF(b);
        if (i < argc)
            a.argv[i] = PyBytes_AS_STRING(b);
        else
            a.envp[i - argc] = PyBytes_AS_STRING(b);
    }
    /* Everything the child reads (this block, the pointer arrays, the
       strings) is copied to the top of its stack mapping: freeing the
       mapping frees it all, and the Python objects can go at once. */
    size_t strbytes = 0;
    for (Py_ssize_t i = 0; i < argc; i++)
        strbytes += strlen(a.argv[i]) + 1;
    for (Py_ssize_t i = 0; i < envc; i++)
        strbytes += strlen(a.envp[i]) + 1;
    size_t argbytes = (sizeof a + (argc + 1 + envc + 1) * sizeof(char *) + strbytes + 15) & ~(size_t)15;
    size_t mapsize = (SPAWN_STACK + argbytes + 4095) & ~(size_t)4095;
    char *stack = mmap(NULL, mapsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        os_error();
        goto done;
    }
    char *top = stack + mapsize - argbytes;   /* 16-byte aligned: the child's stack grows down from here */
    struct spawn_args *child_args = (struct spawn_args *)top;
    *child_args = a;
    child_args->argv = (char **)(top + sizeof a);
    child_args->envp = child_args->argv + argc + 1;
    char *str = (char *)(child_args->envp + envc + 1);
    for (Py_ssize_t i = 0; i < argc + envc; i++) {
        const char *src = i < argc ? a.argv[i] : a.envp[i - argc];
        size_t n = strlen(src) + 1;
        memcpy(str, src, n);
        if (i < argc)
            child_args->argv[i] = str;
        else
            child_args->envp[i - argc] = str;
        str += n;
    }
    child_args->argv[argc] = NULL;
    child_args->envp[envc] = NULL;
    size_t pathlen = strlen(a.path) + 1;
    if (pathlen > SPAWN_STACK / 4) {
        munmap(stack, mapsize);
        PyErr_SetString(PyExc_ValueError, "spawn: path too long");
        goto done;
    }
    /* The path goes at the bottom of the mapping, far below the stack in use. */
    memcpy(stack, a.path, pathlen);
    child_args->path = stack;
    pid_t pid = clone(spawn_child, top, CLONE_VM | SIGCHLD, child_args);
    if (pid == -1) {
        os_error();
        munmap(stack, mapsize);
        goto done;
    }
    result = Py_BuildValue("(iKn)", (int)pid, (unsigned long long)(uintptr_t)stack, (Py_ssize_t)mapsize);
done:
    PyMem_Free(a.argv);
    PyMem_Free(a.envp);
    Py_XDECREF(keep);
    return result;
}

/* wake_after(seconds): the tracer thread's wait is interrupted (as by a
 * user's command) after `seconds`; 0 disarms. Tracer thread only. */
static PyObject *py_wake_after(PyObject *self, PyObject *args)
{
    double seconds;
    if (!PyArg_ParseTuple(args, "d", &seconds))
        return NULL;
    if (!wake_timer_ok) {
        PyErr_SetString(PyExc_RuntimeError, "wake_after: the tracer thread is not set up");
        return NULL;
    }
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (seconds > 0) {
        its.it_value.tv_sec = (time_t)seconds;
        its.it_value.tv_nsec = (long)((seconds - (double)its.it_value.tv_sec) * 1e9);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;
    }
    if (timer_settime(wake_timer, 0, &its, NULL) == -1)
        return os_error();
    Py_RETURN_NONE;
}

/* free_stack(address, size): after the spawned child exec'd or died. */
static PyObject *py_free_stack(PyObject *self, PyObject *args)
{
    unsigned long long addr;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "Kn", &addr, &size))
        return NULL;
    if (munmap((void *)(uintptr_t)addr, (size_t)size) == -1)
        return os_error();
    Py_RETURN_NONE;
}

static PyObject *py_tgkill(PyObject *self, PyObject *args)
{
    long tgid, tid;
    int sig;
    if (!PyArg_ParseTuple(args, "lli", &tgid, &tid, &sig))
        return NULL;
    if (syscall(SYS_tgkill, tgid, tid, sig) == -1)
        return os_error();
    Py_RETURN_NONE;
}

static PyObject *py_gettid(PyObject *self, PyObject *args)
{
    return PyLong_FromLong(syscall(SYS_gettid));
}

/* set_child_subreaper(): orphans of traced processes get reparented to us, so
 * nothing we started ends up as an unreaped zombie under init. */
static PyObject *py_set_child_subreaper(PyObject *self, PyObject *args)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
        return os_error();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"ptrace", py_ptrace, METH_VARARGS, "ptrace(request, pid, addr=0, data=0) -> int"},
    {"peekdata", py_peekdata, METH_VARARGS, "peekdata(pid, addr) -> word"},
    {"pokedata", py_pokedata, METH_VARARGS, "pokedata(pid, addr, word)"},
    {"peekuser", py_peekuser, METH_VARARGS, "peekuser(pid, offset) -> word"},
    {"pokeuser", py_pokeuser, METH_VARARGS, "pokeuser(pid, offset, word)"},
    {"emulate", py_emulate, METH_VARARGS, "emulate(gpr, code) -> None | (length, push_address, push_value)"},
    {"resume_over", py_resume_over, METH_VARARGS, "resume_over(tid, request, gpr, code) -> bool"},
    {"resume", (PyCFunction)(void (*)(void))py_resume, METH_FASTCALL, "resume(tid, request, sig, gpr=None)"},
    {"getregs", py_getregs, METH_VARARGS, "getregs(tid) -> bytearray"},
    {"setregs", py_setregs, METH_VARARGS, "setregs(tid, buffer)"},
    {"getxstate", py_getxstate, METH_VARARGS, "getxstate(tid) -> bytearray"},
    {"setxstate", py_setxstate, METH_VARARGS, "setxstate(tid, buffer)"},
    {"geteventmsg", py_geteventmsg, METH_VARARGS, "geteventmsg(tid) -> int"},
    {"getsiginfo", py_getsiginfo, METH_VARARGS, "getsiginfo(tid) -> (signo, code, pid, status)"},
    {"get_syscall_info", py_get_syscall_info, METH_O, "get_syscall_info(tid) -> tuple"},
    {"tracer_thread_init", py_tracer_thread_init, METH_VARARGS, "install and block the wake signal"},
    {"same_vm", py_same_vm, METH_VARARGS, "same_vm(pid1, pid2) -> bool (kcmp KCMP_VM)"},
    {"clone_event", py_clone_event, METH_O, "clone_event(tid) -> (new_tid, makes_thread 1/0/-1)"},
    {"trap_regs", py_trap_regs, METH_O, "trap_regs(tid) -> (bytearray, address): registers after an int3, rip on it"},
    {"wait_event", py_wait_event, METH_VARARGS, "wait_event(block=True, notify=False) -> (pid, status) | None"},
    {"generation", py_generation, METH_NOARGS, "generation() -> int"},
    {"kick", py_kick, METH_NOARGS, "kick(): wake the tracer thread for a queued command"},
    {"notify", py_notify, METH_NOARGS, "notify(): wake the user's waiting threads"},
    {"wait_generation", py_wait_generation, METH_VARARGS, "wait_generation(seen, timeout=-1, kick=False) -> bool"},
    {"wait_pid", py_wait_pid, METH_VARARGS, "wait_pid(pid, nohang=False) -> (pid, status)"},
    {"read_memory", (PyCFunction)(void (*)(void))py_read_memory, METH_FASTCALL, "read_memory(pid, addr, size) -> bytes"},
    {"spawn", py_spawn, METH_VARARGS, "spawn(...) -> (pid, stack_address, stack_size)"},
    {"wake_after", py_wake_after, METH_VARARGS, "wake_after(seconds): interrupt the tracer's wait then (0: disarm)"},
    {"free_stack", py_free_stack, METH_VARARGS, "free_stack(address, size)"},
    {"tgkill", py_tgkill, METH_VARARGS, "tgkill(tgid, tid, sig)"},
    {"gettid", py_gettid, METH_NOARGS, "gettid() -> int"},
    {"set_child_subreaper", py_set_child_subreaper, METH_NOARGS, "prctl(PR_SET_CHILD_SUBREAPER)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "tether._native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
