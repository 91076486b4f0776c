/*
 * memory.c: reading a tracee's memory with process_vm_readv (read_memory),
 * one system call for any size where PTRACE_PEEKDATA takes one per word.
 * Scripts call it in tight loops, so it is kept as cheap as a call can be.
 * (Writes are not here: process_vm_writev honours page protections and so
 * cannot patch code pages; tether.memory writes through /proc/<pid>/mem.)
 */
#include "native.h"

#include <sys/uio.h>

/* read_memory(pid, addr, size) -> bytes, via process_vm_readv (one system call
 * for any size). Raises OSError(EFAULT/EIO) if any part is unmapped.
 * METH_FASTCALL and no GIL release for small reads: scripts read a few bytes
 * in tight loops, where the argument tuple and the GIL hand-off cost about a
 * third as much as the system call itself. */
#define SMALL_READ 4096
PyObject *py_read_memory(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
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
