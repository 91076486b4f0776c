/*
 * native.h: what the parts of tether._native share.
 *
 * tether._native is the only code in tether that makes ptrace/wait system
 * calls. It holds no policy: every function is a thin wrapper that turns a
 * failure into OSError(errno). Policy (what a stop means, what to do about
 * it) lives in Python, in tether.events and tether.runtime.
 *
 * Build: separate translation units (setup.py lists every .c here), not a
 * unity build. Each hot path keeps its callers and callees in one file:
 * resume/trap_regs/write_regs in ptrace_calls.c, resume_over/emulate_insn in
 * emulate.c, wait_event and its stub in wait_loop.c, generation and
 * wait_generation in handoff.c, read_memory alone in memory.c. The two
 * helpers every file uses (raw_ptrace, os_error) are static inline here, so
 * they are inlined everywhere as before. The only calls between files
 * (wait_event -> bump_generation, kick/wait_generation -> kick_tracer in
 * wake.c) were
 * out-of-line calls in the single-file build too, and every cross-file name
 * is hidden, so such a call stays a direct call (no PLT).
 */
#ifndef TETHER_NATIVE_H
#define TETHER_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <signal.h>
#include <linux/ptrace.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

/* Shared between the files of this extension, invisible outside it. */
#define HIDDEN __attribute__((visibility("hidden")))

/* wait_loop.c: what the tracer has set going since the last event it
 * waited for (the targeted wait there needs it): how many requests that
 * lead to a report (restart, interrupt, attach, let go), and on which tid. */
HIDDEN extern long reports_started;
HIDDEN extern long report_started_by;

static inline long raw_ptrace(long req, long pid, unsigned long addr, unsigned long data)
{
    /* The raw system call: glibc's wrapper treats PEEK* specially. */
    long r = syscall(SYS_ptrace, req, pid, addr, data);
    switch (req) {
    case PTRACE_CONT: case PTRACE_KILL: case PTRACE_SINGLESTEP: case PTRACE_ATTACH:
    case PTRACE_DETACH: case PTRACE_SYSCALL: case PTRACE_SYSEMU: case PTRACE_SYSEMU_SINGLESTEP:
    case PTRACE_SEIZE: case PTRACE_INTERRUPT: case PTRACE_LISTEN:
        if (r == 0) {   /* (ptrace is the tracer thread's alone: no race here) */
            reports_started++;
            report_started_by = pid;
        }
        break;
    }
    return r;
}

static inline PyObject *os_error(void)
{
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* A tuple of `n` new references (stolen, NULL-safe): faster than
 * Py_BuildValue's format parsing on the per-event paths. */
static inline PyObject *tuple_of(Py_ssize_t n, PyObject **items)
{
    PyObject *t = NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        if (items[i] == NULL)
            goto fail;
    t = PyTuple_New(n);
    if (t == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(t, i, items[i]);
    return t;
fail:
    for (Py_ssize_t i = 0; i < n; i++)
        Py_XDECREF(items[i]);
    return NULL;
}

/* Slot (8-byte index) of a field of the kernel's struct user_regs_struct:
 * a register buffer (PTRACE_GETREGS/SETREGS) is an array of u64, and the
 * kernel's header is the one definition of where each register sits.
 * Python gets the same offsets as _native.GPR_LAYOUT (gpr_layout.c). */
#define GPR_SLOT(field) (offsetof(struct user_regs_struct, field) / 8)

/* ---- helpers called across files ---------------------------------------- */
HIDDEN void kick_tracer(void);                 /* wake.c */
HIDDEN void note_tracer_thread(void);          /* wake.c: the calling thread is the tracer */
HIDDEN extern int wake_signal;                 /* wake.c: the wake state shared with wait_loop.c */
HIDDEN extern volatile sig_atomic_t wake_armed;
HIDDEN extern volatile sig_atomic_t wake_pending;
HIDDEN extern pid_t tracer_tid;
HIDDEN int bump_generation(void);             /* handoff.c */
HIDDEN int add_gpr_layout(PyObject *module);   /* gpr_layout.c */

/* ---- the module's functions (method table: module.c) -------------------- */
/* ptrace_calls.c */
HIDDEN PyObject *py_ptrace(PyObject *self, PyObject *args);
HIDDEN PyObject *py_peekdata(PyObject *self, PyObject *args);
HIDDEN PyObject *py_peekuser(PyObject *self, PyObject *args);
HIDDEN PyObject *py_pokedata(PyObject *self, PyObject *args);
HIDDEN PyObject *py_pokeuser(PyObject *self, PyObject *args);
HIDDEN PyObject *py_resume(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
HIDDEN PyObject *py_getregs(PyObject *self, PyObject *args);
HIDDEN PyObject *py_trap_regs(PyObject *self, PyObject *arg);
HIDDEN PyObject *py_setregs(PyObject *self, PyObject *args);
HIDDEN PyObject *py_getxstate(PyObject *self, PyObject *args);
HIDDEN PyObject *py_setxstate(PyObject *self, PyObject *args);
HIDDEN PyObject *py_geteventmsg(PyObject *self, PyObject *args);
HIDDEN PyObject *py_getsiginfo(PyObject *self, PyObject *args);
HIDDEN PyObject *py_syscall_stop(PyObject *self, PyObject *arg);
HIDDEN PyObject *py_get_syscall_info(PyObject *self, PyObject *arg);
/* displaced.c */
HIDDEN PyObject *py_insn_length(PyObject *self, PyObject *arg);
HIDDEN PyObject *py_displace_plan(PyObject *self, PyObject *arg);
HIDDEN PyObject *py_move_fault_address(PyObject *self, PyObject *args);

/* emulate.c */
HIDDEN PyObject *py_emulate(PyObject *self, PyObject *args);
HIDDEN PyObject *py_resume_over(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
/* clone_sniff.c */
HIDDEN PyObject *py_clone_event(PyObject *self, PyObject *arg);
HIDDEN PyObject *py_same_vm(PyObject *self, PyObject *args);
/* wait_loop.c */
HIDDEN PyObject *py_tracer_thread_init(PyObject *self, PyObject *args);
HIDDEN PyObject *py_wait_event(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
HIDDEN PyObject *py_wake_after(PyObject *self, PyObject *args);
HIDDEN PyObject *py_wait_pid(PyObject *self, PyObject *args);
/* handoff.c */
HIDDEN PyObject *py_generation(PyObject *self, PyObject *args);
HIDDEN PyObject *py_kick(PyObject *self, PyObject *args);
HIDDEN PyObject *py_notify(PyObject *self, PyObject *args);
HIDDEN PyObject *py_wait_generation(PyObject *self, PyObject *args);
/* memory.c */
HIDDEN PyObject *py_read_memory(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
HIDDEN PyObject *py_write_mem_file(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
/* spawn.c */
HIDDEN long install_seccomp_filter(const void *code, long len);
HIDDEN PyObject *py_spawn(PyObject *self, PyObject *args);
HIDDEN PyObject *py_free_stack(PyObject *self, PyObject *args);
/* process.c */
HIDDEN PyObject *py_tgkill(PyObject *self, PyObject *args);
HIDDEN PyObject *py_gettid(PyObject *self, PyObject *args);

#endif
