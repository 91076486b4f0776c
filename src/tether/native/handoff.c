/*
 * handoff.c: the hand-offs between the user's threads and the tracer thread
 * — the futex "generation" counter (generation, wait_generation, notify)
 * and kick (wake the tracer for a queued command).
 *
 * A user thread waiting for the tracer (for a command to be done, or for a
 * process to stop) sleeps on a futex, a "generation" counter that the tracer
 * bumps whenever something the user may wait for happened. Two rules keep
 * the hand-off to one context switch each way:
 *   - the tracer bumps (wakes) only *after* releasing the GIL, on its way
 *     into its next wait, so the woken thread can take the GIL at once;
 *   - a user thread waiting for its command (call()) kicks the tracer (the
 *     wake signal, wait_loop.c) only after releasing the GIL, so the tracer
 *     can take it at once; a posted command (cont()) kicks with the GIL held,
 *     as its thread goes on and releases it in its next wait (py_kick).
 * Waiters re-check their condition under the GIL after reading the
 * generation, so no bump between the check and the sleep is lost.
 */
#include "native.h"

#include <limits.h>
#include <linux/futex.h>
#include <time.h>

static uint32_t generation = 0;
static int waiters = 0;

/* Bump the generation and wake its waiters (the futex call only if someone
   sleeps). Called with the GIL released. Returns whether a thread was woken. */
int bump_generation(void)
{
    __atomic_add_fetch(&generation, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&waiters, __ATOMIC_SEQ_CST) > 0)
        return syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) > 0;
    return 0;
}

/* kick(): wake the tracer thread for a command queued without waiting for it
 * (post(): cont()). The GIL stays held: the caller usually goes on to wait
 * (releasing it there), and a tracer woken on another CPU would only find
 * the GIL taken back at once; most of the time the tracer is not even asleep
 * in its wait (it yields to the thread it woke, wait_loop.c), and the kick is
 * a flag. */
PyObject *py_kick(PyObject *self, PyObject *args)
{
    kick_tracer();
    Py_RETURN_NONE;
}

/* generation() -> int: read before checking a condition, then wait_generation(). */
PyObject *py_generation(PyObject *self, PyObject *args)
{
    return PyLong_FromUnsignedLong(__atomic_load_n(&generation, __ATOMIC_SEQ_CST));
}

/* notify(): bump the generation now (tracer thread, before it blocks elsewhere). */
PyObject *py_notify(PyObject *self, PyObject *args)
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
PyObject *py_wait_generation(PyObject *self, PyObject *args)
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
