/*
 * spawn.c: starting a program under the tracer (spawn), and freeing the
 * child's stack once it has exec'd or died (free_stack). The child is a
 * clone(CLONE_VM) that waits for the tracer's PTRACE_SEIZE before it execs:
 * cheap to create, and no instruction of the program runs untraced (the
 * comment on spawn below says how and why).
 */
#include "native.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>

/* spawn(path, argv, envp, stdio, keep_fds, aslr, sigmask, sched, cpus, go_fd, errpipe_fd
 *       [, filter]) -> (pid, stack, stack_size)
 * envp: a sequence of "NAME=value" str/bytes, or None for our own environment.
 * stdio: (in, out, err), the fds to install as 0, 1, 2 (-1: keep ours).
 * keep_fds: None: every inheritable fd passes (subprocess's close_fds=False);
 *   else the sorted fds above 2 that pass, every other one is closed.
 * sigmask: the signal mask the program starts with (bit n-1: signal n).
 * sched: (policy, priority, nice) to set (policy -1: leave it).
 * cpus: the CPU affinity mask to set (empty: leave it).
 * filter: a seccomp-bpf program (bytes, see seccomp_filter.c) installed
 *   just before the execve, or None.
 * (runtime/launch.py decides these: what a subprocess child of the script's
 * thread would get.)
 *
 * Creates the child from the calling (tracer) thread, so it is this thread's
 * child. The child sets itself up (spawn_child), then blocks reading go_fd
 * until the tracer has PTRACE_SEIZEd it, and only then execs: the exec is
 * therefore reported as PTRACE_EVENT_EXEC and no instruction of the new
 * program runs untraced. A step that fails writes (step, errno) to
 * errpipe_fd and exits 127; a successful exec closes errpipe_fd (it is
 * close-on-exec), so the parent reads nothing.
 *
 * The child shares our memory (clone with CLONE_VM, as posix_spawn does):
 * fork() would copy the page tables of the whole Python process, which costs
 * more than the rest of starting a program. So the child runs on a stack of
 * its own, touches nothing but that stack and what was prepared for it, and
 * makes raw system calls only (a libc wrapper would write errno, which is the
 * tracer thread's: the child shares its TLS). The caller frees the stack with
 * free_stack() once the child has exec'd or died. It does not share our fd
 * table (no CLONE_FILES): what it does to its fds is its own. */
struct spawn_args {
    const char *path;
    char **argv, **envp;
    int stdio[3];
    const int *keep;          /* NULL: inheritable fds pass */
    int nkeep;
    int aslr;
    uint64_t sigmask;
    int policy, priority, nice;
    const unsigned char *cpus;
    size_t ncpus;
    int go_fd, errpipe_fd;
    const char *filter;       /* NULL: no seccomp filter */
    Py_ssize_t filter_len;
};

/* The steps a failure report names (the first int written to errpipe_fd). */
enum { STEP_EXEC, STEP_STDIO, STEP_FDS, STEP_FILTER };

#define SPAWN_STACK (64 * 1024)

static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;   /* -errno on failure */
}

/* The kernel's struct sigaction (rt_sigaction's, not libc's). */
struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* Block everything, then put every handler back to the default: a signal
   must not run one of the tracer's handlers in here (they would act on
   memory we share). Ignored signals stay ignored, as a fork keeps them. */
static void quiet_signals(void)
{
    uint64_t all = ~0ULL;
    raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0, 0);
    struct ksigaction act, dfl = {0};
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (raw6(SYS_rt_sigaction, sig, 0, (long)&act, 8, 0, 0) == 0
                && act.handler != SIG_DFL && act.handler != SIG_IGN)
            raw6(SYS_rt_sigaction, sig, (long)&dfl, 0, 8, 0, 0);
    }
}

/* aslr=False: add ADDR_NO_RANDOMIZE to the personality we have (setting it
   alone would drop the other flags the script runs with). */
static void set_personality(const struct spawn_args *a)
{
    if (a->aslr)
        return;
    long cur = raw6(SYS_personality, 0xffffffff, 0, 0, 0, 0, 0);
    if (cur >= 0)
        raw6(SYS_personality, cur | ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0);
}

/* Install the stdio fds. A source that is itself 0, 1 or 2 (the script had
   closed its own) is first moved above 2: dup2 onto another slot could
   overwrite it, and dup2 onto itself would leave it close-on-exec. */
static long set_stdio(const struct spawn_args *a)
{
    int src[3];
    for (int i = 0; i < 3; i++) {
        src[i] = a->stdio[i];
        if (src[i] >= 0 && src[i] < 3) {
            long moved = raw6(SYS_fcntl, src[i], F_DUPFD_CLOEXEC, 3, 0, 0, 0);
            if (moved < 0)
                return moved;
            src[i] = (int)moved;
        }
    }
    for (int i = 0; i < 3; i++)
        if (src[i] >= 0) {
            long r = raw6(SYS_dup2, src[i], i, 0, 0, 0, 0);
            if (r < 0)
                return r;
        }
    return 0;
}

/* Make fds lo..hi close-on-exec. close_range needs Linux 5.11; before it,
   one fcntl per possible fd, up to the fd limit. */
static void cloexec_range(unsigned lo, unsigned hi)
{
    if (raw6(SYS_close_range, lo, hi, 4 /* CLOSE_RANGE_CLOEXEC */, 0, 0, 0) == 0)
        return;
    struct { uint64_t cur, max; } lim;
    uint64_t top = 1024;
    if (raw6(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&lim, 0, 0) == 0)
        top = lim.cur;
    for (uint64_t fd = lo; fd <= hi && fd < top; fd++)
        raw6(SYS_fcntl, (long)fd, F_SETFD, FD_CLOEXEC, 0, 0, 0);
}

/* keep_fds given: those fds pass (made inheritable, as subprocess's pass_fds
   does), every other fd above 2 is closed by the exec. Otherwise nothing to
   do: the inheritable fds pass and tether's own (all close-on-exec) don't. */
static long set_fds(const struct spawn_args *a)
{
    if (a->keep == NULL)
        return 0;
    unsigned lo = 3;
    for (int i = 0; i < a->nkeep; i++) {
        unsigned fd = (unsigned)a->keep[i];
        if (fd > lo)
            cloexec_range(lo, fd - 1);
        long r = raw6(SYS_fcntl, fd, F_SETFD, 0, 0, 0, 0);
        if (r < 0)
            return r;
        lo = fd + 1;
    }
    cloexec_range(lo, ~0U);
    return 0;
}

/* The scheduling of the script's thread, not the tracer thread's (which
   runs SCHED_BATCH: native/wait_loop.c). Best effort, as for any child:
   what the kernel refuses stays as inherited. */
static void set_scheduling(const struct spawn_args *a)
{
    if (a->policy >= 0) {
        struct sched_param param = {.sched_priority = a->priority};
        raw6(SYS_sched_setscheduler, 0, a->policy, (long)&param, 0, 0, 0);
    }
    raw6(SYS_setpriority, PRIO_PROCESS, 0, a->nice, 0, 0, 0);
    if (a->ncpus)
        raw6(SYS_sched_setaffinity, 0, (long)a->ncpus, (long)a->cpus, 0, 0, 0);
}

/* Python ignores SIGPIPE and SIGXFSZ at start-up; subprocess puts them back
   to the default in its children (restore_signals), and so do we. */
static void restore_python_dispositions(void)
{
    struct ksigaction dfl = {0};
    raw6(SYS_rt_sigaction, SIGPIPE, (long)&dfl, 0, 8, 0, 0);
    raw6(SYS_rt_sigaction, SIGXFSZ, (long)&dfl, 0, 8, 0, 0);
}

static void fail(const struct spawn_args *a, int step, long err)
{
    int report[2] = {step, (int)-err};
    raw6(SYS_write, a->errpipe_fd, (long)report, sizeof report, 0, 0, 0);
    raw6(SYS_exit, 127, 0, 0, 0, 0, 0);
}

/* The child's whole life: each step is one function above; a new step goes
   in this sequence. */
static int spawn_child(void *arg)
{
    struct spawn_args *a = arg;
    long r;
    quiet_signals();
    set_personality(a);
    if ((r = set_stdio(a)) < 0)
        fail(a, STEP_STDIO, r);
    char c;
    while (raw6(SYS_read, a->go_fd, (long)&c, 1, 0, 0, 0) == -EINTR)
        ;
    if ((r = set_fds(a)) < 0)
        fail(a, STEP_FDS, r);
    set_scheduling(a);
    restore_python_dispositions();
    raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&a->sigmask, 0, 8, 0, 0);
    if (a->filter_len && (r = install_seccomp_filter(a->filter, a->filter_len)) < 0)
        fail(a, STEP_FILTER, r);
    r = raw6(SYS_execve, (long)a->path, (long)a->argv, (long)a->envp, 0, 0, 0);
    fail(a, STEP_EXEC, r);
    return 127;
}

/* The bytes strings of a sequence of str/bytes, appended to `keep` (which
   holds them alive); their pointers go in `out`. */
static int encode_all(PyObject *seq, Py_ssize_t n, char **out, PyObject *keep)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_GetItem(seq, i);
        if (!item)
            return -1;
        PyObject *b = PyUnicode_Check(item) ? PyUnicode_EncodeFSDefault(item) : (Py_INCREF(item), item);
        Py_DECREF(item);
        if (!b || !PyBytes_Check(b)) {
            Py_XDECREF(b);
            PyErr_SetString(PyExc_TypeError, "argv and env entries must be str or bytes");
            return -1;
        }
        int rc = PyList_Append(keep, b);
        Py_DECREF(b);
        if (rc < 0)
            return -1;
        out[i] = PyBytes_AS_STRING(b);
    }
    return 0;
}

PyObject *py_spawn(PyObject *self, PyObject *args)
{
    struct spawn_args a;
    PyObject *argv_obj, *env_obj, *keep_obj;
    const char *cpus;
    Py_ssize_t ncpus;
    unsigned long long sigmask;
    memset(&a, 0, sizeof a);
    if (!PyArg_ParseTuple(args, "sOO(iii)OpK(iii)y#ii|z#", &a.path, &argv_obj, &env_obj,
                          &a.stdio[0], &a.stdio[1], &a.stdio[2], &keep_obj, &a.aslr, &sigmask,
                          &a.policy, &a.priority, &a.nice, &cpus, &ncpus, &a.go_fd, &a.errpipe_fd,
                          &a.filter, &a.filter_len))
        return NULL;
    if (a.filter_len > 4096 * 8) {   /* BPF_MAXINSNS instructions of 8 bytes */
        PyErr_SetString(PyExc_ValueError, "spawn: seccomp filter too long");
        return NULL;
    }
    a.sigmask = sigmask;
    /* env None: this process's own environment (what os.environ's changes
       are written through to, with putenv), without building a Python list
       of it at every start. */
    int own_env = env_obj == Py_None;
    Py_ssize_t argc = PySequence_Size(argv_obj), envc = 0, nkeep = 0;
    if (own_env)
        while (environ[envc])
            envc++;
    else
        envc = PySequence_Size(env_obj);
    if (keep_obj != Py_None)
        nkeep = PySequence_Size(keep_obj);
    if (argc < 0 || envc < 0 || nkeep < 0)
        return NULL;
    if (nkeep > INT_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "spawn: too many fds to keep");
        return NULL;
    }
    char **argv = PyMem_Calloc(argc + 1, sizeof(char *));
    char **envp = PyMem_Calloc(envc + 1, sizeof(char *));
    int *keep = PyMem_Calloc(nkeep + 1, sizeof(int));
    PyObject *strings = PyList_New(0);
    PyObject *result = NULL;
    if (!argv || !envp || !keep || !strings)
        goto done;
    if (own_env)
        memcpy(envp, environ, envc * sizeof(char *));
    else if (encode_all(env_obj, envc, envp, strings) < 0)
        goto done;
    if (encode_all(argv_obj, argc, argv, strings) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < nkeep; i++) {
        PyObject *item = PySequence_GetItem(keep_obj, i);
        if (!item)
            goto done;
        long fd = PyLong_AsLong(item);
        Py_DECREF(item);
        if (fd == -1 && PyErr_Occurred())
            goto done;
        if (fd < 3 || fd > INT_MAX || (i > 0 && fd <= keep[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "spawn: keep_fds must be increasing fds above 2");
            goto done;
        }
        keep[i] = (int)fd;
    }
    size_t pathlen = strlen(a.path) + 1;
    if (pathlen > SPAWN_STACK / 4) {
        PyErr_SetString(PyExc_ValueError, "spawn: path too long");
        goto done;
    }
    /* Everything the child reads (the arguments, the pointer arrays, the fds
       to keep, the CPU mask, the strings) is copied to the top of its stack
       mapping: freeing the mapping frees it all, and the Python objects can
       go at once. */
    size_t strbytes = 0;
    for (Py_ssize_t i = 0; i < argc; i++)
        strbytes += strlen(argv[i]) + 1;
    for (Py_ssize_t i = 0; i < envc; i++)
        strbytes += strlen(envp[i]) + 1;
    size_t ptrbytes = (argc + 1 + envc + 1) * sizeof(char *);
    size_t argbytes = (sizeof a + ptrbytes + nkeep * sizeof(int) + ncpus + strbytes + 8
                       + a.filter_len + 15) & ~(size_t)15;
    size_t mapsize = (SPAWN_STACK + argbytes + 4095) & ~(size_t)4095;
    char *stack = mmap(NULL, mapsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        os_error();
        goto done;
    }
    char *top = stack + mapsize - argbytes;   /* 16-byte aligned: the child's stack grows down from here */
    struct spawn_args *child_args = (struct spawn_args *)top;
    *child_args = a;
    char *cursor = top + sizeof a;
    child_args->argv = (char **)cursor;
    child_args->envp = child_args->argv + argc + 1;
    cursor += ptrbytes;
    if (keep_obj != Py_None) {
        memcpy(cursor, keep, nkeep * sizeof(int));
        child_args->keep = (const int *)cursor;
        child_args->nkeep = (int)nkeep;
        cursor += nkeep * sizeof(int);
    }
    memcpy(cursor, cpus, ncpus);
    child_args->cpus = (const unsigned char *)cursor;
    child_args->ncpus = (size_t)ncpus;
    cursor += ncpus;
    for (Py_ssize_t i = 0; i < argc + envc; i++) {
        const char *src = i < argc ? argv[i] : envp[i - argc];
        size_t n = strlen(src) + 1;
        memcpy(cursor, src, n);
        if (i < argc)
            child_args->argv[i] = cursor;
        else
            child_args->envp[i - argc] = cursor;
        cursor += n;
    }
    child_args->argv[argc] = NULL;
    child_args->envp[envc] = NULL;
    if (a.filter_len) {   /* after the strings, 8-byte aligned */
        char *code = (char *)(((uintptr_t)cursor + 7) & ~(uintptr_t)7);
        memcpy(code, a.filter, a.filter_len);
        child_args->filter = code;
    }
    /* The path goes at the bottom of the mapping, far below the stack in use. */
    memcpy(stack, a.path, pathlen);
    child_args->path = stack;
    pid_t pid = clone(spawn_child, top, CLONE_VM | SIGCHLD, child_args);
    if (pid == -1) {
        os_error();
        munmap(stack, mapsize);
        goto done;
    }
    result = Py_BuildValue("(iKn)", (int)pid, (unsigned long long)(uintptr_t)stack, (Py_ssize_t)mapsize);
done:
    PyMem_Free(argv);
    PyMem_Free(envp);
    PyMem_Free(keep);
    Py_XDECREF(strings);
    return result;
}

/* free_stack(address, size): after the spawned child exec'd or died. */
PyObject *py_free_stack(PyObject *self, PyObject *args)
{
    unsigned long long addr;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "Kn", &addr, &size))
        return NULL;
    if (munmap((void *)(uintptr_t)addr, (size_t)size) == -1)
        return os_error();
    Py_RETURN_NONE;
}
