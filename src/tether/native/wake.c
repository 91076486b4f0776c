/*
 * wake.c: how any thread wakes the tracer thread out of its wait — the wake
 * flags shared with the wait (wait_loop.c) and kick_tracer (used by the
 * hand-offs, handoff.c). Kept apart so that neither of those two files
 * needs the other for it.
 *
 * Plain globals, not __thread: there is one tracer thread per process, and
 * the first touch of a __thread variable in a dlopen()ed module may call
 * malloc, which a signal handler must never risk.
 */
#include "native.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int wake_signal = 0;
volatile sig_atomic_t wake_armed = 0;    /* the tracer sleeps (or is about to) in wait4 */
volatile sig_atomic_t wake_pending = 0;  /* a command was queued since its last wait */
pid_t tracer_tid = 0;
static pid_t tracer_pid = 0;  /* getpid() of the tracer's process: no system call per kick */

/* Wake the tracer thread for a queued command (any thread, GIL held or not).
 * Only a tracer asleep in its wait needs the signal; one running Python code
 * sees wake_pending before it waits again (the fences order the flag against
 * wake_armed; the command was queued before this call). */
void kick_tracer(void)
{
    wake_pending = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (wake_armed && tracer_tid)
        syscall(SYS_tgkill, tracer_pid, tracer_tid, wake_signal);
}

/* A child forked by the user's program has no tracer thread: it must not
 * signal its parent's (tracer_pid names the parent there). */
static void forget_tracer_in_child(void)
{
    tracer_tid = 0;
    tracer_pid = 0;
}

void note_tracer_thread(void)
{
    static int registered = 0;
    tracer_tid = (pid_t)syscall(SYS_gettid);
    tracer_pid = getpid();
    if (!registered) {
        pthread_atfork(NULL, NULL, forget_tracer_in_child);
        registered = 1;
    }
}
