/*
 * clone_sniff.c: what a new task is, asked when it is born: clone_event (its
 * id, and is it a thread?) and same_vm (does a new process share its
 * parent's memory?). A PTRACE_EVENT_CLONE stop does not say whether the
 * clone made a thread, and /proc is slow to ask at every thread's birth, so
 * these read the answer from the stopped creator and from kcmp.
 */
#include "native.h"

#include <sys/uio.h>

/* clone_event(tid) -> (new_tid, makes_thread)
 * At a PTRACE_EVENT_CLONE stop: the new task's id, and whether the clone
 * passed CLONE_THREAD (1), did not (0), or cannot tell (-1). The creator is
 * still inside the call, so its own arguments say it: the flags are rdi for
 * clone and the first u64 of struct clone_args (pointed to by rdi) for
 * clone3 (ebx for a 32-bit creator). Reading them beats /proc, and it runs at every thread's birth. */
#define CLONE_THREAD_FLAG 0x00010000UL
#define USER32_CS 0x23      /* arch/x86/include/asm/segment.h: __USER32_CS */
#define I386_NR_CLONE 120   /* asm/unistd_32.h: __NR_clone */
PyObject *py_clone_event(PyObject *self, PyObject *arg)
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
        /* A 32-bit (i386) creator runs with cs = __USER32_CS and calls clone
         * by its i386 number, with the flags (or clone3's struct pointer) in
         * ebx: asm/unistd_32.h, the i386 syscall convention. clone3 has one
         * number on every architecture. */
        int compat = regs.cs == USER32_CS;
        unsigned long long clone_nr = compat ? I386_NR_CLONE : SYS_clone;
        unsigned long long first_arg = compat ? (regs.rbx & 0xFFFFFFFFULL) : regs.rdi;
        if (regs.orig_rax == clone_nr) {
            thread = (first_arg & CLONE_THREAD_FLAG) != 0;
        } else if (regs.orig_rax == SYS_clone3) {
            struct iovec local = {&flags, sizeof flags};
            struct iovec remote = {(void *)first_arg, sizeof flags};
            if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == sizeof flags)
                thread = (flags & CLONE_THREAD_FLAG) != 0;
        }
    }
    PyObject *items[2] = {PyLong_FromUnsignedLong(msg), PyLong_FromLong(thread)};
    return tuple_of(2, items);
}

/* same_vm(pid1, pid2) -> bool: kcmp(KCMP_VM), do two processes share one
 * address space (a clone(CLONE_VM) without CLONE_THREAD, or a vfork)? Asked
 * at every followed fork. */
PyObject *py_same_vm(PyObject *self, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return PyBool_FromLong(syscall(SYS_kcmp, a, b, 1 /* KCMP_VM */, 0, 0) == 0);
}
