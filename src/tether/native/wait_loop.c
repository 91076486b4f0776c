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

/* The targeted wait. wait4(-1) makes the kernel walk every child and
 * tracee of this thread (do_wait), and it does so twice per event when the
 * tracer sleeps: once finding nothing, once when woken; with thousands of
 * tracees that is microseconds per walk. wait4(pid) looks at that one task
 * only (Linux 5.17+). So when the events come from one thread in a row (a
 * breakpoint or a syscall in a loop: the streak) and since its last report
 * the tracer has set going that thread alone, or nothing (the script looks
 * at the stopped process), the wait is for that thread. The other tracees
 * still get heard: while it targets, a tick makes it walk everything once
 * without waiting. That walk costs what the targeting saves (some 150 us
 * with 3,000 idle tracees here), so the tick's period is a hundred times
 * the last walk's time, between 10 and 100 ms: at most 1 % of the time
 * goes to the walks, and another thread's report waits at most a period.
 * (Each tick also costs a signal and, pinned, two context switches: a 1 ms
 * period took 3 % of a breakpoint loop with one process.) An event
 * found there of another thread
 * ends the targeting and doubles the streak needed to target again (a
 * second busy thread is not kept waiting tick after tick), a tick that
 * finds nothing halves it. No event is lost or invented; another thread's
 * is at most a tick late. */
#define TICK_MIN_NS 10000000L
#define TICK_MAX_NS 100000000L
#define TICK_PER_WALK 100
#define TICK_VALUE 0x7469   /* the tick timer's sigev_value: tells its signal from a kick */
#define STREAK_MIN 8L
#define STREAK_MAX (1L << 16)
long reports_started = 0;      /* see native.h: counted by raw_ptrace */
long report_started_by = 0;
static pid_t last_reporter = 0;
static long streak = 0;
static long streak_needed = STREAK_MIN;
static timer_t tick_timer;
static int tick_timer_ok = 0, tick_armed = 0;
static long tick_ns = TICK_MIN_NS;      /* the period (a hundred walks) */
static volatile sig_atomic_t tick_pending = 0;

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
    if (info->si_code == SI_TIMER && info->si_value.sival_int == TICK_VALUE)
        tick_pending = 1;   /* the targeted wait's tick, not a command */
    else
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
    sev.sigev_value.sival_int = TICK_VALUE;
    tick_timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &tick_timer) == 0;  /* (else: no targeting) */
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

/* The tick runs only while the wait targets one thread. */
static void set_tick(int on)
{
    if (on == tick_armed)
        return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (on) {
        its.it_value.tv_sec = its.it_interval.tv_sec = tick_ns / 1000000000L;
        its.it_value.tv_nsec = its.it_interval.tv_nsec = tick_ns % 1000000000L;
    }
    if (timer_settime(tick_timer, 0, &its, NULL) == 0)
        tick_armed = on;
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);   /* (the vDSO: no system call) */
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* A walk that found nothing took `walk_ns`: the tick's period follows (a
 * period more than twice off is set again; the timer restarts with it). */
static void fit_tick(long walk_ns)
{
    long want = walk_ns * TICK_PER_WALK;
    want = want < TICK_MIN_NS ? TICK_MIN_NS : want > TICK_MAX_NS ? TICK_MAX_NS : want;
    if (want > 2 * tick_ns || 2 * want < tick_ns) {
        tick_ns = want;
        if (tick_armed) {
            tick_armed = 0;
            set_tick(1);
        }
    }
}

/* The thread to wait for alone, or 0: everyone. */
static pid_t wait_target(void)
{
    if (!tick_timer_ok || last_reporter <= 0 || streak < streak_needed)
        return 0;
    if (reports_started == 0 || (reports_started == 1 && report_started_by == last_reporter))
        return last_reporter;
    return 0;
}

/* A blocking wait (GIL released): wait4's result, or -EINTR with *woke set
 * when a command (or the wake_after timer) woke us. */
static long wait_blocking(int *status, int *woke)
{
    pid_t target = wait_target();
    set_tick(target != 0);
    for (;;) {
        long rc;
        if (target && tick_pending) {
            /* The tick: has anyone else something to report? One walk. */
            tick_pending = 0;
            long start = now_ns();
            rc = syscall(SYS_wait4, -1, status, __WALL | __WNOTHREAD | WNOHANG, NULL);
            if (rc == 0) {
                fit_tick(now_ns() - start);
                if (streak_needed > STREAK_MIN)
                    streak_needed /= 2;
                continue;
            }
            if (rc > 0 && rc != target && streak_needed < STREAK_MAX)
                streak_needed *= 2;
            return rc == -1 ? -errno : rc;
        }
        wake_armed = 1;
        /* Pairs with kick_tracer(): one of us sees the other's store. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        rc = wait4_unless_woken(target ? target : -1, status, __WALL | __WNOTHREAD, NULL,
                                &wake_pending);
        wake_armed = 0;
        if (rc == -EINTR && wake_pending) {
            *woke = 1;
            wake_pending = 0;
            return rc;
        }
        if (target && (rc == -ECHILD || (rc == -EINTR && tick_pending))) {
            if (rc == -ECHILD) {   /* it is gone (reaped): wait for anyone */
                target = 0;
                set_tick(0);
            }
            continue;
        }
        return rc;
    }
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
        rc = wait_blocking(&status, &woke);
    } else {
        rc = syscall(SYS_wait4, -1, &status, __WALL | __WNOTHREAD | WNOHANG, NULL);
        if (rc == -1)
            rc = -errno;
    }
    Py_END_ALLOW_THREADS

    if (rc > 0) {   /* who reports: the streak of the targeted wait */
        if (rc == last_reporter) {
            streak++;
        } else {
            last_reporter = (pid_t)rc;
            streak = 1;
        }
        reports_started = 0;
    }
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
