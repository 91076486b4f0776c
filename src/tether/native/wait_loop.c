/*
 * wait_loop.c: the tracer thread's wait — wait_event with its wake signal
 * (kick_tracer, the signal handler, the assembly stub around wait4),
 * tracer_thread_init, wake_after (a time limit on the wait) and wait_pid.
 *
 * The tracer thread sleeps in wait4() and must also wake up when a user's
 * thread hands it a command. The user thread sends the tracer thread a
 * dedicated "wake" signal, whose handler records it in `wake_pending`:
 *   - sent while the tracer runs Python code: the next wait sees the flag
 *     and returns at once;
 *   - sent between that check and the system call, or while the call sleeps:
 *     the handler moves the thread's saved rip to the "woken" exit of the
 *     wait's assembly stub, so it returns -EINTR without (re)entering wait4;
 *   - sent as wait4 returns a status: rip is past the system call, so the
 *     handler leaves it alone and the status is kept (the flag is seen at
 *     the next wait).
 * So no wake-up and no status is ever lost, with one system call per event
 * and no signal-mask call (the technique of musl's cancellation points).
 */
#include "native.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <sys/wait.h>

/* __WALL: every kind of child, "clone" children included (a thread, or a
   process whose exit signal is not SIGCHLD), which wait4 skips by default
   (older kernels skip traced ones too). __WNOTHREAD: only children and
   tracees of this thread, not those of the user's other threads. */
#ifndef __WALL
#define __WALL 0x40000000
#endif
#ifndef __WNOTHREAD
#define __WNOTHREAD 0x20000000
#endif

static timer_t wake_timer;
static int wake_timer_ok = 0;

/* long wait4_unless_woken(pid, status, options, rusage, &wake_pending):
 * wait4(), or -EINTR without waiting if the flag is set. The flag check and
 * the `syscall` instruction lie between wait_stub_begin and wait_stub_end,
 * which the wake handler checks. */
extern const char wait_stub_begin[], wait_stub_end[], wait_stub_woken[];
long wait4_unless_woken(long pid, int *status, long options, void *rusage,
                        volatile sig_atomic_t *flag);
__asm__(".text\n"
        ".globl wait4_unless_woken\n"
        ".hidden wait4_unless_woken\n"
        ".type wait4_unless_woken,@function\n"
        "wait4_unless_woken:\n"
        ".globl wait_stub_begin\n.hidden wait_stub_begin\n"
        "wait_stub_begin:\n"
        "    movl (%r8), %eax\n"
        "    testl %eax, %eax\n"
        "    jnz wait_stub_woken\n"
        "    movq %rcx, %r10\n"
        "    movl $61, %eax\n"                 /* SYS_wait4 */
        "    syscall\n"
        ".globl wait_stub_end\n.hidden wait_stub_end\n"
        "wait_stub_end:\n"
        "    ret\n"
        ".globl wait_stub_woken\n.hidden wait_stub_woken\n"
        "wait_stub_woken:\n"
        "    movq $-4, %rax\n"                 /* -EINTR */
        "    ret\n"
        ".size wait4_unless_woken, .-wait4_unless_woken\n");

static void wake_handler(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    wake_pending = 1;
    ucontext_t *uc = context;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    /* Before the syscall instruction completed (a blocked wait4 that the
       kernel would restart also shows rip on the instruction): leave by the
       woken exit. After it: keep whatever it returned. */
    if (pc >= (uintptr_t)wait_stub_begin && pc < (uintptr_t)wait_stub_end)
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)wait_stub_woken;
}

/* tracer_thread_init(signo): install the wake handler (for this thread). */
PyObject *py_tracer_thread_init(PyObject *self, PyObject *args)
{
    int signo;
    if (!PyArg_ParseTuple(args, "i", &signo))
        return NULL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = wake_handler;
    sigemptyset(&sa.sa_mask);
    /* SA_SIGINFO: the handler needs the interrupted context. No SA_RESTART:
       a wait4 already sleeping must return. */
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(signo, &sa, NULL) == -1)
        return os_error();
    /* Asynchronous signals (Ctrl-C, SIGTERM, timers...) must reach the
       user's threads, not this one: the kernel picks any thread that does not
       block a process-directed signal, and a signal landing here would not
       interrupt the user's thread waiting in wait_generation(). Faults stay
       unblocked (they are thread-directed and fatal anyway). So does
       SIGCHLD: every ptrace-stop sends it to us, and while no thread blocks
       it an ignored SIGCHLD is dropped when sent; blocked here it would be
       queued for, and wake, the user's thread at every stop. */
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, signo);
    int keep[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS, SIGPIPE, SIGCHLD};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        sigdelset(&set, keep[i]);
    pthread_sigmask(SIG_SETMASK, &set, NULL);
    wake_signal = signo;
    note_tracer_thread();
    /* SCHED_BATCH: waking this thread (a user's command, a tracee's stop)
       does not preempt the thread that woke it. A user's thread that hands
       us a command and then waits gets to its wait first, and we run once it
       sleeps: one context switch instead of three on a shared CPU. Allowed
       to any user; failing it only costs speed. */
    struct sched_param param;
    memset(&param, 0, sizeof param);
    sched_setscheduler(0, SCHED_BATCH, &param);
    /* A one-shot timer that sends the wake signal to this thread: waits with
       a time limit (wake_after) without a timer thread. */
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = signo;
    sev._sigev_un._tid = tracer_tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &wake_timer) == -1)
        return os_error();
    wake_timer_ok = 1;
    Py_RETURN_NONE;
}

/* wait_event(block=True, notify=False) -> (pid, status) | None (woken) | (-1, 0) (no child) | (0, 0) (nothing)
 * With notify, the user's waiting threads are woken first (bump_generation),
 * once the GIL is released.
 * Waits for a child of *this thread* (tracee or own child) to change state:
 * __WNOTHREAD keeps us away from the children of the user's other threads. */
/* (Fast-call, and the result built without a format string: this runs once
 * per event.) */
static PyObject *pid_status(long pid, int status)
{
    PyObject *a = PyLong_FromLong(pid), *b = PyLong_FromLong(status);
    PyObject *out = (a && b) ? PyTuple_Pack(2, a, b) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(b);
    return out;
}

PyObject *py_wait_event(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int block = 1, notify = 0;
    if (nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "wait_event(block=True, notify=False)");
        return NULL;
    }
    if (nargs > 0 && (block = PyObject_IsTrue(args[0])) < 0)
        return NULL;
    if (nargs > 1 && (notify = PyObject_IsTrue(args[1])) < 0)
        return NULL;
    int woke = 0, status = 0;
    long rc;

    Py_BEGIN_ALLOW_THREADS
    /* A user's thread woken here usually hands us its next command at
       once (cont() after wait()). Yielding to it first lets it do so while
       we have not gone back into wait4 yet: its kick then only sets the flag
       (wake_armed is still 0) and the wait below returns at once, with no
       signal to deliver (a signal frame, the handler, sigreturn: about as
       much as a context switch). On one CPU the woken thread runs now; on
       another, the yield returns at once. */
    if (notify && bump_generation())
        sched_yield();
    if (block) {
        wake_armed = 1;
        /* Pairs with kick_tracer(): one of us sees the other's store. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        rc = wait4_unless_woken(-1, &status, __WALL | __WNOTHREAD, NULL, &wake_pending);
        wake_armed = 0;
        if (rc == -EINTR && wake_pending) {
            woke = 1;
            wake_pending = 0;
        }
    } else {
        rc = syscall(SYS_wait4, -1, &status, __WALL | __WNOTHREAD | WNOHANG, NULL);
        if (rc == -1)
            rc = -errno;
    }
    Py_END_ALLOW_THREADS

    if (woke)
        Py_RETURN_NONE;
    if (rc < 0) {
        if (rc == -ECHILD)
            return pid_status(-1, 0);
        if (rc == -EINTR)
            Py_RETURN_NONE;
        errno = (int)-rc;
        return os_error();
    }
    return pid_status(rc, rc > 0 ? status : 0);
}

/* wake_after(seconds): the tracer thread's wait is interrupted (as by a
 * user's command) after `seconds`; 0 disarms. Tracer thread only. */
PyObject *py_wake_after(PyObject *self, PyObject *args)
{
    double seconds;
    if (!PyArg_ParseTuple(args, "d", &seconds))
        return NULL;
    if (!wake_timer_ok) {
        PyErr_SetString(PyExc_RuntimeError, "wake_after: the tracer thread is not set up");
        return NULL;
    }
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (seconds > 0) {
        its.it_value.tv_sec = (time_t)seconds;
        its.it_value.tv_nsec = (long)((seconds - (double)its.it_value.tv_sec) * 1e9);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;
    }
    if (timer_settime(wake_timer, 0, &its, NULL) == -1)
        return os_error();
    Py_RETURN_NONE;
}

/* wait_pid(pid, nohang) -> (pid, status) : wait4 on one tid (used for a new child's first stop). */
PyObject *py_wait_pid(PyObject *self, PyObject *args)
{
    long want;
    int nohang = 0;
    if (!PyArg_ParseTuple(args, "l|p", &want, &nohang))
        return NULL;
    int status = 0;
    pid_t pid;
    Py_BEGIN_ALLOW_THREADS
    do {
        pid = wait4(want, &status, __WALL | (nohang ? WNOHANG : 0), NULL);
    } while (pid == -1 && errno == EINTR);
    Py_END_ALLOW_THREADS
    if (pid == -1)
        return os_error();
    return Py_BuildValue("(ii)", (int)pid, status);
}
