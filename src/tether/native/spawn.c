/*
 * spawn.c: starting a program under the tracer (spawn), and freeing the
 * child's stack once it has exec'd or died (free_stack). The child is a
 * clone(CLONE_VM) that waits for the tracer's PTRACE_SEIZE before it execs:
 * cheap to create, and no instruction of the program runs untraced (the
 * comment on spawn below says how and why).
 */
#include "native.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>

/* spawn(path, argv, envp, aslr, stdin_fd, stdout_fd, stderr_fd, go_fd, errpipe_fd[, filter])
 *   -> (pid, stack)
 * envp: a sequence of "NAME=value" str/bytes, or None for our own environment.
 * filter: a seccomp-bpf program (bytes, see seccomp_filter.c) installed
 * just before the execve, or None.
 * Creates the child from the calling (tracer) thread, so it is this thread's
 * child. The child applies the ASLR setting, installs the pipes, then blocks
 * reading go_fd until the tracer has PTRACE_SEIZEd it, and only then execs:
 * the exec is therefore reported as PTRACE_EVENT_EXEC and no instruction of
 * the new program runs untraced.
 *
 * The child shares our memory (clone with CLONE_VM, as posix_spawn does):
 * fork() would copy the page tables of the whole Python process, which costs
 * more than the rest of starting a program. So the child runs on a stack of
 * its own, touches nothing but that stack and what was prepared for it, and
 * makes raw system calls only (a libc wrapper would write errno, which is the
 * tracer thread's: the child shares its TLS). The caller frees the stack with
 * free_stack() once the child has exec'd or died. */
struct spawn_args {
    const char *path;
    char **argv, **envp;
    int aslr, in_fd, out_fd, err_fd, go_fd, errpipe_fd;
    const char *filter;
    Py_ssize_t filter_len;
};

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

static int spawn_child(void *arg)
{
    struct spawn_args *a = arg;
    /* Block everything, then put every handler back to the default: a
       signal must not run one of the tracer's handlers in here (they would
       act on memory we share). The program starts with an empty mask. */
    uint64_t all = ~0ULL, none = 0;
    raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0, 0);
    struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } act, dfl = {0};
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (raw6(SYS_rt_sigaction, sig, 0, (long)&act, 8, 0, 0) == 0
                && act.handler != SIG_DFL && act.handler != SIG_IGN)
            raw6(SYS_rt_sigaction, sig, (long)&dfl, 0, 8, 0, 0);
    }
    if (!a->aslr)
        raw6(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0);
    if (a->in_fd >= 0)
        raw6(SYS_dup2, a->in_fd, 0, 0, 0, 0, 0);
    if (a->out_fd >= 0)
        raw6(SYS_dup2, a->out_fd, 1, 0, 0, 0, 0);
    if (a->err_fd >= 0)
        raw6(SYS_dup2, a->err_fd, 2, 0, 0, 0, 0);
    char c;
    while (raw6(SYS_read, a->go_fd, (long)&c, 1, 0, 0, 0) == -EINTR)
        ;
    /* Every descriptor above 2 is closed by the exec (the error pipe too, which
       is how the parent learns the exec succeeded). close_range needs 5.11. */
    if (raw6(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */, 0, 0, 0) < 0)
        for (int fd = 3; fd < 4096; fd++)
            if (fd != a->errpipe_fd)
                raw6(SYS_close, fd, 0, 0, 0, 0, 0);
    raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
    long rc = a->filter_len ? install_seccomp_filter(a->filter, a->filter_len) : 0;
    if (rc == 0)
        rc = raw6(SYS_execve, (long)a->path, (long)a->argv, (long)a->envp, 0, 0, 0);
    int e = (int)-rc;
    raw6(SYS_write, a->errpipe_fd, (long)&e, sizeof e, 0, 0, 0);
    raw6(SYS_exit, 127, 0, 0, 0, 0, 0);
    return 127;
}

PyObject *py_spawn(PyObject *self, PyObject *args)
{
    struct spawn_args a;
    PyObject *argv_obj, *env_obj;
    a.filter = NULL;
    a.filter_len = 0;
    if (!PyArg_ParseTuple(args, "sOOpiiiii|z#", &a.path, &argv_obj, &env_obj, &a.aslr, &a.in_fd,
                          &a.out_fd, &a.err_fd, &a.go_fd, &a.errpipe_fd, &a.filter,
                          &a.filter_len))
        return NULL;
    if (a.filter_len > 4096 * 8) {
        PyErr_SetString(PyExc_ValueError, "spawn: seccomp filter too long");
        return NULL;
    }
    /* env None: this process's own environment (what os.environ's changes
       are written through to, with putenv), without building a Python list
       of it at every start. */
    int own_env = env_obj == Py_None;
    Py_ssize_t argc = PySequence_Size(argv_obj), envc = 0;
    if (own_env)
        while (environ[envc])
            envc++;
    else
        envc = PySequence_Size(env_obj);
    if (argc < 0 || envc < 0)
        return NULL;
    a.argv = PyMem_Calloc(argc + 1, sizeof(char *));
    a.envp = PyMem_Calloc(envc + 1, sizeof(char *));
    PyObject *keep = PyList_New(0);
    PyObject *result = NULL;
    if (!a.argv || !a.envp || !keep)
        goto done;
    if (own_env)
        memcpy(a.envp, environ, envc * sizeof(char *));
    for (Py_ssize_t i = 0; i < argc + (own_env ? 0 : envc); i++) {
        PyObject *item = i < argc ? PySequence_GetItem(argv_obj, i) : PySequence_GetItem(env_obj, i - argc);
        if (!item)
            goto done;
        PyObject *b = PyUnicode_Check(item) ? PyUnicode_EncodeFSDefault(item) : (Py_INCREF(item), item);
        Py_DECREF(item);
        if (!b || !PyBytes_Check(b)) {
            Py_XDECREF(b);
            PyErr_SetString(PyExc_TypeError, "argv and env entries must be str or bytes");
            goto done;
        }
        PyList_Append(keep, b);
        Py_DECREF(b);
        if (i < argc)
            a.argv[i] = PyBytes_AS_STRING(b);
        else
            a.envp[i - argc] = PyBytes_AS_STRING(b);
    }
    /* Everything the child reads (this block, the pointer arrays, the
       strings) is copied to the top of its stack mapping: freeing the
       mapping frees it all, and the Python objects can go at once. */
    size_t strbytes = 0;
    for (Py_ssize_t i = 0; i < argc; i++)
        strbytes += strlen(a.argv[i]) + 1;
    for (Py_ssize_t i = 0; i < envc; i++)
        strbytes += strlen(a.envp[i]) + 1;
    size_t argbytes = (sizeof a + (argc + 1 + envc + 1) * sizeof(char *) + strbytes + 8
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
    child_args->argv = (char **)(top + sizeof a);
    child_args->envp = child_args->argv + argc + 1;
    char *str = (char *)(child_args->envp + envc + 1);
    for (Py_ssize_t i = 0; i < argc + envc; i++) {
        const char *src = i < argc ? a.argv[i] : a.envp[i - argc];
        size_t n = strlen(src) + 1;
        memcpy(str, src, n);
        if (i < argc)
            child_args->argv[i] = str;
        else
            child_args->envp[i - argc] = str;
        str += n;
    }
    child_args->argv[argc] = NULL;
    child_args->envp[envc] = NULL;
    if (a.filter_len) {   /* after the strings, 8-byte aligned */
        char *code = (char *)(((uintptr_t)str + 7) & ~(uintptr_t)7);
        memcpy(code, a.filter, a.filter_len);
        child_args->filter = code;
    }
    size_t pathlen = strlen(a.path) + 1;
    if (pathlen > SPAWN_STACK / 4) {
        munmap(stack, mapsize);
        PyErr_SetString(PyExc_ValueError, "spawn: path too long");
        goto done;
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
    PyMem_Free(a.argv);
    PyMem_Free(a.envp);
    Py_XDECREF(keep);
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
