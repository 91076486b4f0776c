/*
 * process.c: the few process and thread calls that are not ptrace: tgkill
 * (a signal to one thread), gettid (the tracer thread's own id) and
 * set_child_subreaper. Thin wrappers, none on a hot path.
 */
#include "native.h"

#include <sys/prctl.h>

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

/* set_child_subreaper(): orphans of traced processes get reparented to us, so
 * nothing we started ends up as an unreaped zombie under init. */
PyObject *py_set_child_subreaper(PyObject *self, PyObject *args)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
        return os_error();
    Py_RETURN_NONE;
}
