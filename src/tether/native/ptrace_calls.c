/*
 * ptrace_calls.c: the thin ptrace bindings — raw requests, peek/poke, the
 * register buffers (get/set, trap_regs, resume), the XSAVE area, the event
 * message, siginfo and syscall info.
 *
 * resume and trap_regs are the two calls of every breakpoint hit and every
 * syscall stop, so they take their arguments without a tuple (METH_FASTCALL
 * and METH_O) and keep the GIL: their requests return at once.
 * write_regs stays in this file next to its callers (resume, setregs) so the
 * compiler can specialise it for them.
 */
#include "native.h"

#include <elf.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>

/* Large enough for any XSAVE area the kernel reports (AVX-512 with AMX tile
   data is about 11 KiB). */
#define XSTATE_MAX 16384

/* ptrace(request, pid, addr=0, data=0) -> int */
PyObject *py_ptrace(PyObject *self, PyObject *args)
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

PyObject *py_peekdata(PyObject *self, PyObject *args) { return peek_common(PTRACE_PEEKDATA, args); }
PyObject *py_peekuser(PyObject *self, PyObject *args) { return peek_common(PTRACE_PEEKUSR, args); }

PyObject *py_pokeuser(PyObject *self, PyObject *args)
{
    long pid;
    unsigned long off, val;
    if (!PyArg_ParseTuple(args, "lkk", &pid, &off, &val))
        return NULL;
    if (raw_ptrace(PTRACE_POKEUSR, pid, off, val) == -1)
        return os_error();
    Py_RETURN_NONE;
}

PyObject *py_pokedata(PyObject *self, PyObject *args)
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

/* resume(tid, request, sig, gpr=None): write the registers back (if given),
 * then restart the thread with `request`. One call per resume at every stop.
 * The GIL is kept: both requests return at once. */
PyObject *py_resume(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
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

/* getregs(tid) -> bytearray(sizeof(struct user_regs_struct)) */
PyObject *py_getregs(PyObject *self, PyObject *args)
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
PyObject *py_trap_regs(PyObject *self, PyObject *arg)
{
    long pid = PyLong_AsLong(arg);
    if (pid == -1 && PyErr_Occurred())
        return NULL;
    struct user_regs_struct regs;
    if (raw_ptrace(PTRACE_GETREGS, pid, 0, (unsigned long)&regs) == -1)
        return os_error();
    regs.rip -= 1;
    PyObject *items[2] = {PyByteArray_FromStringAndSize((const char *)&regs, sizeof regs),
                          PyLong_FromUnsignedLongLong(regs.rip)};
    return tuple_of(2, items);
}

/* setregs(tid, buffer) */
PyObject *py_setregs(PyObject *self, PyObject *args)
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
PyObject *py_getxstate(PyObject *self, PyObject *args)
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

PyObject *py_setxstate(PyObject *self, PyObject *args)
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

PyObject *py_geteventmsg(PyObject *self, PyObject *args)
{
    long pid;
    if (!PyArg_ParseTuple(args, "l", &pid))
        return NULL;
    unsigned long msg = 0;
    if (raw_ptrace(PTRACE_GETEVENTMSG, pid, 0, (unsigned long)&msg) == -1)
        return os_error();
    return PyLong_FromUnsignedLong(msg);
}

/* get_syscall_info(tid) -> (op, nr, (args...), rval, is_error)
 * op: 0 none, 1 entry, 2 exit, 3 seccomp. The kernel tells entry from exit,
 * so enter/exit pairing never depends on counting stops. */
PyObject *py_get_syscall_info(PyObject *self, PyObject *arg)
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
        PyObject *args6[6];
        for (int i = 0; i < 6; i++)
            args6[i] = PyLong_FromUnsignedLongLong(a[i]);
        PyObject *items[5] = {PyLong_FromLong(info.op), PyLong_FromUnsignedLongLong(nr),
                              tuple_of(6, args6), PyLong_FromLong(0), PyLong_FromLong(0)};
        return tuple_of(5, items);
    }
    PyObject *items[5] = {PyLong_FromLong(info.op), PyLong_FromLong(0), PyTuple_New(0),
                          info.op == PTRACE_SYSCALL_INFO_EXIT
                              ? PyLong_FromLongLong((long long)info.exit.rval) : PyLong_FromLong(0),
                          PyLong_FromLong(info.op == PTRACE_SYSCALL_INFO_EXIT
                                          ? (int)info.exit.is_error : 0)};
    return tuple_of(5, items);
}

/* syscall_stop(tid) -> int: at a syscall-stop, the syscall's number at its
 * entry (>= 0), -1 at its exit, -2 for any other stop. A seccomp stop
 * (PTRACE_EVENT_SECCOMP from our filter's SECCOMP_RET_TRACE) is a syscall's
 * entry too. All a syscall stop needs unless the arguments are wanted
 * (get_syscall_info): one small int, no tuple, at every syscall stop. */
PyObject *py_syscall_stop(PyObject *self, PyObject *arg)
{
    long pid = PyLong_AsLong(arg);
    if (pid == -1 && PyErr_Occurred())
        return NULL;
    struct ptrace_syscall_info info;
    memset(&info, 0, sizeof info);
    if (raw_ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, (unsigned long)&info) == -1)
        return os_error();
    if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
        return PyLong_FromUnsignedLongLong(info.entry.nr);
    if (info.op == PTRACE_SYSCALL_INFO_SECCOMP)
        return PyLong_FromUnsignedLongLong(info.seccomp.nr);
    return PyLong_FromLong(info.op == PTRACE_SYSCALL_INFO_EXIT ? -1 : -2);
}

/* getsiginfo(tid) -> (signo, code, pid, status): the siginfo of a signal-delivery-stop. */
PyObject *py_getsiginfo(PyObject *self, PyObject *args)
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
