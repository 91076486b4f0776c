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

/* read_memory: process_vm_readv (one system call
 * for any size). Raises OSError(EFAULT/EIO) if any part is unmapped.
 * METH_FASTCALL and no GIL release for small reads: scripts read a few bytes
 * in tight loops, where the argument tuple and the GIL hand-off cost about a
 * third as much as the system call itself. */
#define SMALL_READ 4096

/* The bytes at our breakpoints shown as they were: `installed` maps each
 * int3's address to the original byte (AddressSpace.installed). The fresh
 * `out` is patched in place (no one else holds it yet). A single byte is one
 * lookup; a longer read walks the (few) breakpoints. */
static int show_originals(PyObject *out, unsigned long addr, Py_ssize_t size, PyObject *installed)
{
    if (!PyDict_Check(installed)) {
        PyErr_SetString(PyExc_TypeError, "read_memory: installed must be a dict");
        return -1;
    }
    if (PyDict_GET_SIZE(installed) == 0)
        return 0;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(out);
    if (size == 1) {
        PyObject *key = PyLong_FromUnsignedLong(addr);
        if (!key)
            return -1;
        PyObject *orig = PyDict_GetItemWithError(installed, key);
        Py_DECREF(key);
        if (orig) {
            long b = PyLong_AsLong(orig);
            if (b == -1 && PyErr_Occurred())
                return -1;
            p[0] = (unsigned char)b;
        }
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(installed, &pos, &key, &value)) {
        unsigned long at = PyLong_AsUnsignedLong(key);
        if (at == (unsigned long)-1 && PyErr_Occurred())
            return -1;
        if (at >= addr && at - addr < (unsigned long)size) {
            long b = PyLong_AsLong(value);
            if (b == -1 && PyErr_Occurred())
                return -1;
            p[at - addr] = (unsigned char)b;
        }
    }
    return 0;
}

/* read_memory(pid, addr, size[, installed]) -> bytes; with `installed` (the
 * AddressSpace's {address: original byte}), our int3s read as the bytes
 * they replaced, in the same call. */
PyObject *py_read_memory(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 && nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "read_memory(pid, addr, size[, installed]) takes 3 or 4 arguments");
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
    if (nargs == 4 && args[3] != Py_None) {
        if (show_originals(out, addr, size, args[3]) < 0) {
            Py_DECREF(out);
            return NULL;
        }
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
