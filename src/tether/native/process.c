/*
 * process.c: the few process and thread calls that are not ptrace: tgkill
 * (a signal to one thread) and gettid (the tracer thread's own id). Thin
 * wrappers, none on a hot path.
 */
#include "native.h"

PyObject *py_tgkill(PyObject *self, PyObject *args)
{
    long tgid, tid;
    int sig;
    if (!PyArg_ParseTuple(args, "lli", &tgid, &tid, &sig))
        return NULL;
    if (syscall(SYS_tgkill, tgid, tid, sig) == -1)
        return os_error();
    Py_RETURN_NONE;
}

PyObject *py_gettid(PyObject *self, PyObject *args)
{
    return PyLong_FromLong(syscall(SYS_gettid));
}
