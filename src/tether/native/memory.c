/*
 * memory.c: reading a tracee's memory with process_vm_readv (read_memory),
 * one system call for any size where PTRACE_PEEKDATA takes one per word.
 * Scripts call it in tight loops, so it is kept as cheap as a call can be.
 * Writes go through /proc/<pid>/mem (write_mem_file): process_vm_writev
 * honours page protections and so cannot patch code pages, the file takes
 * the kernel's FOLL_FORCE path as PTRACE_POKEDATA does.
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

/* write_mem_file(fd, data, addr) -> int: pwrite(2) of `data` (bytes) at
 * offset `addr` of an open /proc/<pid>/mem, the number of bytes written.
 * As os.pwrite, but METH_FASTCALL and without a GIL release for small
 * writes (see read_memory). */
PyObject *py_write_mem_file(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "write_mem_file(fd, data: bytes, addr) takes 3 arguments");
        return NULL;
    }
    int fd = (int)PyLong_AsLong(args[0]);
    long long addr = PyLong_AsLongLong(args[2]);
    if (PyErr_Occurred())
        return NULL;
    Py_ssize_t size = PyBytes_GET_SIZE(args[1]);
    const char *p = PyBytes_AS_STRING(args[1]);
    PyThreadState *released = size > SMALL_READ ? PyEval_SaveThread() : NULL;
    ssize_t n;
    do {
        n = pwrite(fd, p, (size_t)size, (off_t)addr);
    } while (n < 0 && errno == EINTR);
    int err = errno;
    if (released)
        PyEval_RestoreThread(released);
    if (n < 0) {
        errno = err;
        return os_error();
    }
    return PyLong_FromSsize_t(n);
}
