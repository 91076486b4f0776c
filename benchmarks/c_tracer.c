/* c_tracer: the smallest ptrace tracer that does each benchmark workload, as
 * the physical limit a debugger library can be measured against.
 *
 *   c_tracer WORKLOAD N BP_ADDR DATA_ADDR TARGET [ARGS...]
 *   c_tracer handoff N
 *
 * WORKLOAD is one of bp_cb bp_sync bp_sync_2t hw_bp syscall syscall_sync
 * syscall_sync_2t fork vfork thread exec startup idle mem_1b mem_8b mem_1m
 * mem_16m mem_write regs fork_nofollow scale (TARGET is then
 * targets/scale_loop with its ARGS N KIND PROCS: every child followed). BP_ADDR (hex) is
 * where the breakpoint goes (hit() for bp_* and hw_bp, stop_here() for mem_* and regs,
 * _start for startup); DATA_ADDR (hex) is the 16 MiB buffer `big` for mem_*.
 * Targets are built -no-pie, so the runner takes both from `nm`. Prints one
 * JSON line: {"count": events seen, "tracer_ns": ..., "op_ns": ...,
 * "cpu_ns": ...}; cpu_ns is this process's own CPU time (user + system), for
 * the event workloads from the first resume to the end: the idle figure.
 *
 * No frills: PTRACE_TRACEME + execv, waitpid(__WALL), GETREGS/SETREGS,
 * PEEKDATA/POKEDATA, POKEUSER (debug registers), process_vm_readv. A breakpoint whose displaced
 * instruction is `push %rbp` is stepped over by doing the push ourselves (one
 * stop per hit, which is what a good debugger can do); anything else, or
 * C_TRACER_STEP_OVER=1 in the environment, uses the classic lift-int3 /
 * single-step / re-insert (two stops per hit).
 *
 * bp_sync_2t is bp_sync done the way a debugger library with libdebug's API
 * must do it: a "script" thread asks for each resume and waits for each stop,
 * and a tracer thread, the only one ptrace accepts requests from, does the
 * work (see run_sync_two_threads); syscall_sync_2t is syscall_sync done the
 * same way. `handoff` times the bare hand-offs: N
 * round trips between two threads, no tracee (op_ns = one round trip). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG (16L << 20)
/* Debug registers in the tracee's `struct user` (PTRACE_POKEUSER offsets). */
#define DEBUGREG(i) (offsetof(struct user, u_debugreg) + (i) * sizeof(long))
#define EFLAGS_RF (1L << 16)

static pid_t tracee;
static uintptr_t bp_addr;
static long bp_word;          /* the original word at bp_addr */
static int force_step_over;
static const char *scale_kind;  /* scale: the target's KIND (bp syscall fork thread), else NULL */
static long scale_procs;
static int let_children_go;     /* fork_nofollow: detach each child at its first stop */

static void die(const char *what)
{
    perror(what);
    if (tracee > 0)
        kill(tracee, SIGKILL);
    exit(2);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* This process's CPU time so far (user + system, every thread). */
static long long cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static void insert_int3(pid_t pid)
{
    errno = 0;
    bp_word = ptrace(PTRACE_PEEKDATA, pid, (void *)bp_addr, 0);
    if (errno)
        die("PEEKDATA");
    long patched = (bp_word & ~0xffL) | 0xcc;
    if (ptrace(PTRACE_POKEDATA, pid, (void *)bp_addr, (void *)patched) < 0)
        die("POKEDATA");
}

/* `pid` stopped on our int3 (rip = bp_addr + 1): run the displaced
 * instruction and leave it ready to PTRACE_CONT/SYSCALL. */
static void step_over(pid_t pid, struct user_regs_struct *r)
{
    if ((bp_word & 0xff) == 0x55 && !force_step_over) {
        /* push %rbp, done by hand: the int3 stays in place. */
        r->rsp -= 8;
        if (ptrace(PTRACE_POKEDATA, pid, (void *)r->rsp, (void *)r->rbp) < 0)
            die("POKEDATA push");
        r->rip = bp_addr + 1;
        if (ptrace(PTRACE_SETREGS, pid, 0, r) < 0)
            die("SETREGS");
        return;
    }
    int status;
    r->rip = bp_addr;
    if (ptrace(PTRACE_SETREGS, pid, 0, r) < 0)
        die("SETREGS");
    if (ptrace(PTRACE_POKEDATA, pid, (void *)bp_addr, (void *)bp_word) < 0)
        die("POKEDATA restore");
    if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0)
        die("SINGLESTEP");
    if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status))
        die("waitpid step");
    insert_int3(pid);
}

/* hw_bp: DR0 = bp_addr, and in DR7 the local enable of slot 0 (bit 0) with
 * R/W0 = 00 (instruction execution) and LEN0 = 00 (1 byte, as the SDM
 * requires for execution breakpoints): DR7 = 1. DR0 goes first, since the
 * kernel checks the address when DR7 enables the slot. */
static void set_hw_breakpoint(pid_t pid)
{
    if (ptrace(PTRACE_POKEUSER, pid, (void *)DEBUGREG(0), (void *)bp_addr) < 0)
        die("POKEUSER DR0");
    if (ptrace(PTRACE_POKEUSER, pid, (void *)DEBUGREG(7), (void *)1L) < 0)
        die("POKEUSER DR7");
}

/* `pid` stopped with SIGTRAP: was it our hardware breakpoint? An execution
 * breakpoint is a fault, reported before the instruction runs (rip = the
 * address). Clear DR6 so the next hit does not see this one's status, and
 * resume with EFLAGS.RF set, which makes the CPU skip the instruction
 * breakpoint once so it does not fire again at once (Intel SDM vol. 3,
 * 18.3.1.1). The kernel's own handler usually sets RF in the saved flags
 * already; SETREGS is only paid when it did not. */
static int hw_bp_hit(pid_t pid)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
        die("GETREGS hw");
    if (r.rip != bp_addr)
        return 0;
    if (ptrace(PTRACE_POKEUSER, pid, (void *)DEBUGREG(6), 0) < 0)
        die("POKEUSER DR6");
    if (!(r.eflags & EFLAGS_RF)) {
        r.eflags |= EFLAGS_RF;
        if (ptrace(PTRACE_SETREGS, pid, 0, &r) < 0)
            die("SETREGS hw");
    }
    return 1;
}

/* Start TARGET stopped at its exec stop, with `options` set. */
static pid_t spawn(char **argv, long options)
{
    int status;
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
        die("exec stop");
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(options | PTRACE_O_EXITKILL)) < 0)
        die("SETOPTIONS");
    return pid;
}

/* Run until every tracee is gone, counting the events of the workload.
 * `request` is PTRACE_CONT, or PTRACE_SYSCALL for the syscall workload. */
static long run_events(const char *workload, int request, long long *elapsed)
{
    int is_bp = strncmp(workload, "bp_", 3) == 0;
    int is_hw = !strcmp(workload, "hw_bp");
    int want_event = !strncmp(workload, "fork", 4) ? PTRACE_EVENT_FORK
                   : !strcmp(workload, "vfork") ? PTRACE_EVENT_VFORK
                   : !strcmp(workload, "thread") ? PTRACE_EVENT_CLONE
                   : !strcmp(workload, "exec") ? PTRACE_EVENT_EXEC : -1;
    long count = 0;
    if (scale_kind) {
        /* scale: the target's own KIND of event; its PROCS - 1 idle children
           are forks too, not counted as events of the fork kind. */
        is_bp = !strcmp(scale_kind, "bp");
        want_event = !strcmp(scale_kind, "fork") ? PTRACE_EVENT_FORK
                   : !strcmp(scale_kind, "thread") ? PTRACE_EVENT_CLONE : -1;
        if (want_event == PTRACE_EVENT_FORK)
            count = -(scale_procs - 1);
    }
    int in_syscall = 0;
    struct user_regs_struct r;
    long long t0 = now_ns();
    if (ptrace(request, tracee, 0, 0) < 0)
        die("first resume");
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == ECHILD)
                break;          /* the target and all its children are gone */
            if (errno == EINTR)
                continue;
            die("waitpid");
        }
        if (!WIFSTOPPED(status))
            continue;           /* a thread or process ended */
        int sig = WSTOPSIG(status), event = status >> 16, deliver = 0;
        if (sig == (SIGTRAP | 0x80)) {
            /* Syscall stop (TRACESYSGOOD): a real handler looks at the number. */
            if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
                die("GETREGS syscall");
            if (r.orig_rax == SYS_getppid) {
                in_syscall = !in_syscall;
                count += !in_syscall;   /* one event = entry + exit */
            }
        } else if (sig == SIGTRAP && event) {
            count += event == want_event;
        } else if (sig == SIGTRAP && is_hw) {
            count += hw_bp_hit(pid);
        } else if (sig == SIGTRAP && is_bp) {
            if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
                die("GETREGS bp");
            if (r.rip - 1 == bp_addr) {
                count++;
                step_over(pid, &r);
            }
        } else if ((sig == SIGSTOP || sig == SIGTRAP) && let_children_go && pid != tracee) {
            /* fork_nofollow: a new child's first stop; let it go with one call. */
            if (ptrace(PTRACE_DETACH, pid, 0, 0) < 0 && errno != ESRCH)
                die("detach");
            continue;
        } else if (sig == SIGSTOP || sig == SIGTRAP) {
            /* First stop of an auto-attached thread/process: swallow it. */
        } else {
            deliver = sig;      /* e.g. SIGCHLD of the fork workload */
        }
        if (ptrace(request, pid, 0, (void *)(long)deliver) < 0 && errno != ESRCH)
            die("resume");
    }
    *elapsed = now_ns() - t0;
    return count;
}

/* Stop at BP_ADDR (stop_here) for the mem_* and regs workloads. */
static void run_to_breakpoint(void)
{
    int status;
    struct user_regs_struct r;
    insert_int3(tracee);
    if (ptrace(PTRACE_CONT, tracee, 0, 0) < 0)
        die("CONT");
    if (waitpid(tracee, &status, __WALL) != tracee || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
        die("stop_here not reached");
    if (ptrace(PTRACE_GETREGS, tracee, 0, &r) < 0 || r.rip - 1 != bp_addr)
        die("stopped elsewhere");
}

/* startup: N times, start TARGET, run it to its own entry point and kill it.
 * The exec stop of a dynamic program is in the dynamic loader; a debugger's
 * run() goes on to the program's entry (libdebug's
 * continue_to_binary_entrypoint, on by default), so this does too, with an
 * int3 at BP_ADDR = _start. */
static long run_startups(char **argv, long n, long long *elapsed)
{
    long count = 0;
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int status;
        tracee = spawn(argv, PTRACE_O_TRACESYSGOOD);
        run_to_breakpoint();    /* dies unless stopped at the entry */
        kill(tracee, SIGKILL);
        if (waitpid(tracee, &status, __WALL) != tracee || !WIFSIGNALED(status))
            die("waitpid kill");
        count++;
    }
    *elapsed = now_ns() - t0;
    return count;
}

static long read_mem(uintptr_t addr, void *buf, size_t size)
{
    struct iovec local = {buf, size}, remote = {(void *)addr, size};
    ssize_t got = process_vm_readv(tracee, &local, 1, &remote, 1, 0);
    if (got != (ssize_t)size)
        die("process_vm_readv");
    return got;
}

static long run_stopped(const char *workload, long n, uintptr_t data, long long *elapsed)
{
    long count = 0;
    long long t0;
    if (!strcmp(workload, "regs")) {
        struct user_regs_struct r;
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (ptrace(PTRACE_GETREGS, tracee, 0, &r) < 0)
                die("GETREGS");
            count += r.rip == bp_addr + 1;
            r.rax = i;
            if (ptrace(PTRACE_SETREGS, tracee, 0, &r) < 0)
                die("SETREGS");
        }
    } else if (!strcmp(workload, "mem_1b") || !strcmp(workload, "mem_8b")) {
        unsigned char bytes[8];
        size_t size = !strcmp(workload, "mem_1b") ? 1 : 8;
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
            long offset = (i * 64) % BIG;
            read_mem(data + offset, bytes, size);
            count += bytes[0] == (unsigned char)(offset * 7);
        }
    } else if (!strcmp(workload, "mem_write")) {
        /* One PTRACE_POKEDATA per 8-byte write: the cheapest way for one word. */
        t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (ptrace(PTRACE_POKEDATA, tracee, (void *)(data + (i * 64) % BIG), (void *)i) < 0)
                die("POKEDATA");
        long last;
        read_mem(data + ((n - 1) * 64) % BIG, &last, 8);
        count = last == n - 1 ? n : 0;
    } else {
        long size = !strcmp(workload, "mem_1m") ? 1L << 20 : BIG;
        unsigned char *buf = malloc(size);
        if (!buf)
            die("malloc");
        memset(buf, 0, size);  /* fault the pages in before the clock starts */
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
            long offset = (i << 20) % BIG % (BIG - size + 1);
            read_mem(data + offset, buf, size);
            count += buf[size - 1] == (unsigned char)((offset + size - 1) * 7);
        }
        free(buf);
    }
    *elapsed = now_ns() - t0;
    kill(tracee, SIGKILL);
    while (waitpid(-1, NULL, __WALL) > 0)
        ;
    return count;
}

/* ---- Two threads: bp_sync_2t and handoff.
 * A hand-off is a generation counter and a private futex on it: the giving
 * side bumps the counter and wakes the futex; the taking side sleeps in
 * FUTEX_WAIT until the counter differs from the last value it handled. The
 * kernel compares the counter before it sleeps (futex(2)), so a bump between
 * our load and the FUTEX_WAIT makes it return EAGAIN instead of losing the
 * wake-up. No spinning: a debugger library cannot afford to burn a CPU
 * while the program runs either. */
static atomic_int resume_gen;   /* script -> tracer: "resume the program" */
static atomic_int stop_gen;     /* tracer -> script: "it stopped" (or ended) */
/* Set by the tracer thread before it bumps stop_gen, read by the script
 * after it sees the bump. Atomic too: as plain ints, gcc -O2 read them once,
 * before the loop (it saw that the hand-off functions never write them). */
static atomic_int stop_was_hit, tracee_gone;
static char **target_argv;
static int sync_syscalls;       /* syscall_sync_2t: stops at syscalls, not at a breakpoint */

static void handoff_give(atomic_int *gen)
{
    atomic_fetch_add(gen, 1);
    if (syscall(SYS_futex, gen, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
        die("FUTEX_WAKE");
}

/* Sleep until *gen != seen (the value last handled); returns the new value. */
static int handoff_take(atomic_int *gen, int seen)
{
    int now;
    while ((now = atomic_load(gen)) == seen)
        if (syscall(SYS_futex, gen, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0) < 0
            && errno != EAGAIN && errno != EINTR)
            die("FUTEX_WAIT");
    return now;
}

/* The tracer thread of bp_sync_2t. It forks the target itself: with
 * PTRACE_TRACEME the tracer is the thread that forked (its real parent), and
 * only the tracer may make ptrace requests. Then, per request: resume, wait
 * for the stop, handle it as run_events does for bp_sync (GETREGS, our int3?
 * count it and step over it), report the stop. */
static void *tracer_thread(void *unused)
{
    struct user_regs_struct r;
    int handled = 0, deliver = 0;
    (void)unused;
    int in_syscall = 0;
    tracee = spawn(target_argv, PTRACE_O_TRACESYSGOOD);
    if (!sync_syscalls)
        insert_int3(tracee);
    handoff_give(&stop_gen);    /* stopped at its exec stop, breakpoint set */
    for (;;) {
        handled = handoff_take(&resume_gen, handled);
        if (ptrace(sync_syscalls ? PTRACE_SYSCALL : PTRACE_CONT, tracee, 0, (void *)(long)deliver) < 0)
            die("resume");
        int status, hit = 0;
        pid_t pid;
        while ((pid = waitpid(-1, &status, __WALL)) < 0)
            if (errno != EINTR)
                die("waitpid");
        deliver = 0;
        if (!WIFSTOPPED(status)) {
            tracee_gone = 1;    /* bp_loop has one thread: its end is the end */
            handoff_give(&stop_gen);
            return NULL;
        }
        int sig = WSTOPSIG(status);
        if (sig == (SIGTRAP | 0x80)) {
            /* syscall_sync_2t: as run_events does for syscall (one event =
               entry + exit, counted at the exit). */
            if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
                die("GETREGS syscall");
            if (r.orig_rax == SYS_getppid) {
                in_syscall = !in_syscall;
                hit = !in_syscall;
            }
        } else if (sig == SIGTRAP && !(status >> 16)) {
            if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
                die("GETREGS bp");
            if (r.rip - 1 == bp_addr) {
                hit = 1;
                step_over(pid, &r);
            }
        } else if (sig != SIGTRAP) {
            deliver = sig;      /* passed on with the next resume */
        }
        stop_was_hit = hit;
        handoff_give(&stop_gen);
    }
}

/* bp_sync_2t: this (main) thread is the script of bp_sync: N times cont()
 * (hand "resume" to the tracer thread) and wait() (take "stopped" back),
 * counting the hits; then cont() until the program has run to its end.
 * syscall_sync_2t: the same, stopping at each syscall's entry and exit
 * until N getppid() calls are done (2N stops). */
static long run_sync_two_threads(char **argv, long n, int syscalls, long long *elapsed)
{
    pthread_t thread;
    long count = 0;
    int seen = 0, err;
    target_argv = argv;
    sync_syscalls = syscalls;
    if ((err = pthread_create(&thread, NULL, tracer_thread, NULL)) != 0) {
        errno = err;
        die("pthread_create");
    }
    seen = handoff_take(&stop_gen, seen);
    long long t0 = now_ns();
    while (count < n && !tracee_gone) {
        handoff_give(&resume_gen);
        seen = handoff_take(&stop_gen, seen);
        count += stop_was_hit && !tracee_gone;
    }
    *elapsed = now_ns() - t0;
    while (!tracee_gone) {
        handoff_give(&resume_gen);
        seen = handoff_take(&stop_gen, seen);
    }
    pthread_join(thread, NULL);
    return count;
}

/* handoff: the partner thread answers every "ping" with a "pong". */
static void *pong_thread(void *arg)
{
    long n = *(long *)arg;
    int handled = 0;
    for (long i = 0; i < n; i++) {
        handled = handoff_take(&resume_gen, handled);
        handoff_give(&stop_gen);
    }
    return NULL;
}

static long run_handoffs(long n, long long *elapsed)
{
    pthread_t thread;
    long count = 0;
    int seen = 0, err;
    if ((err = pthread_create(&thread, NULL, pong_thread, &n)) != 0) {
        errno = err;
        die("pthread_create");
    }
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        handoff_give(&resume_gen);
        seen = handoff_take(&stop_gen, seen);
        count++;
    }
    *elapsed = now_ns() - t0;
    pthread_join(thread, NULL);
    return count;
}

int main(int argc, char **argv)
{
    int handoff = argc == 3 && !strcmp(argv[1], "handoff");
    if (argc < 6 && !handoff) {
        fprintf(stderr, "usage: c_tracer WORKLOAD N BP_ADDR DATA_ADDR TARGET [ARGS...]\n"
                        "       c_tracer handoff N\n");
        return 2;
    }
    const char *workload = argv[1];
    long n = strtol(argv[2], NULL, 10);
    bp_addr = handoff ? 0 : strtoul(argv[3], NULL, 16);
    uintptr_t data = handoff ? 0 : strtoul(argv[4], NULL, 16);
    force_step_over = getenv("C_TRACER_STEP_OVER") && !strcmp(getenv("C_TRACER_STEP_OVER"), "1");

    long options = PTRACE_O_TRACESYSGOOD;
    /* syscall_sync: with no script to hand each stop to, the one-thread
       floor is the syscall loop itself. */
    int request = !strncmp(workload, "syscall", 7) ? PTRACE_SYSCALL : PTRACE_CONT;
    if (!strcmp(workload, "scale")) {
        /* scale_loop N KIND PROCS: every process and thread followed. */
        if (argc < 9)
            die("scale: TARGET N KIND PROCS");
        scale_kind = argv[7];
        scale_procs = strtol(argv[8], NULL, 10);
        options |= PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE;
        if (!strcmp(scale_kind, "syscall"))
            request = PTRACE_SYSCALL;
    } else if (!strcmp(workload, "bp_many")) {
        options |= PTRACE_O_TRACECLONE;   /* bp_threads_1000: every thread followed */
    } else if (!strcmp(workload, "fork_nofollow")) {
        options |= PTRACE_O_TRACEFORK;
        let_children_go = 1;
    } else if (!strcmp(workload, "fork"))
        options |= PTRACE_O_TRACEFORK;
    else if (!strcmp(workload, "vfork"))
        options |= PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC;
    else if (!strcmp(workload, "thread"))
        options |= PTRACE_O_TRACECLONE;
    else if (!strcmp(workload, "exec"))
        options |= PTRACE_O_TRACEEXEC;

    long count;
    long long elapsed, cpu0 = cpu_ns();
    int stopped_workload = !strcmp(workload, "regs") || !strncmp(workload, "mem_", 4);
    if (handoff) {
        count = run_handoffs(n, &elapsed);
    } else if (!strcmp(workload, "startup")) {
        count = run_startups(argv + 5, n, &elapsed);
    } else if (!strcmp(workload, "bp_sync_2t") || !strcmp(workload, "syscall_sync_2t")) {
        count = run_sync_two_threads(argv + 5, n, !strcmp(workload, "syscall_sync_2t"), &elapsed);
    } else if (stopped_workload) {
        tracee = spawn(argv + 5, options);
        run_to_breakpoint();
        count = run_stopped(workload, n, data, &elapsed);
    } else {
        tracee = spawn(argv + 5, options);
        if (!strncmp(workload, "bp_", 3) || (scale_kind && !strcmp(scale_kind, "bp")))
            insert_int3(tracee);
        else if (!strcmp(workload, "hw_bp"))
            set_hw_breakpoint(tracee);
        cpu0 = cpu_ns();    /* idle: from the resume to the target's end */
        count = run_events(workload, request, &elapsed);
        if (!strcmp(workload, "idle"))
            count = 1;      /* it ran to its end; the runner checks its report */
    }
    printf("{\"count\": %ld, \"tracer_ns\": %lld, \"op_ns\": %.1f, \"cpu_ns\": %lld}\n", count,
           elapsed, n ? (double)elapsed / n : 0.0, cpu_ns() - cpu0);
    return 0;
}
