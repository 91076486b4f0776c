// cflags:
/* Processes made with clone() where the ptrace event kind misleads
 * (docs/edge-cases.md §6). argv[1]:
 *  noexit  clone(fn, stack, 0): no CLONE_THREAD and exit signal 0, which
 *          the kernel reports as PTRACE_EVENT_CLONE although it is a new
 *          process. fn calls counted() three times and exits with a
 *          checksum; the parent waits with __WALL and exits with the same
 *          checksum (an abnormal status gives 100).
 *  vm      clone(fn, stack, CLONE_VM|SIGCHLD): a new process sharing the
 *          parent's memory, reported as PTRACE_EVENT_FORK. The child calls
 *          child_counted() three times; after it exits the parent calls
 *          parent_counted() three times. Exit 0 iff the child exited 17
 *          and the parent's own sum is 17 too.
 * The checksum: counted(k) returns k*k+1; fn returns the sum for k=1..3
 * (2+5+10 = 17). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (256 * 1024)
volatile long sink;

__attribute__((noinline)) int counted(int k) { return k * k + 1; }
__attribute__((noinline)) int child_counted(int k) { return k * k + 1; }
__attribute__((noinline)) int parent_counted(int k) { return k * k + 1; }

static int fn_noexit(void *arg)
{
    (void)arg;
    int s = 0;
    for (int k = 1; k <= 3; k++)
        s += counted(k);
    return s;
}

static int fn_vm(void *arg)
{
    (void)arg;
    int s = 0;
    for (int k = 1; k <= 3; k++)
        s += child_counted(k);
    return s;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "noexit";
    char *stack = malloc(STACK_SIZE);
    int st, pid;

    if (!stack)
        return 2;
    if (strcmp(mode, "noexit") == 0) {
        pid = clone(fn_noexit, stack + STACK_SIZE, 0, NULL);
        if (pid < 0)
            return 90;
        /* No exit signal: only __WALL (or __WCLONE) waits for it. */
        if (waitpid(pid, &st, __WALL) != pid || !WIFEXITED(st))
            return 100;
        return WEXITSTATUS(st);
    }
    if (strcmp(mode, "vm") == 0) {
        pid = clone(fn_vm, stack + STACK_SIZE, CLONE_VM | SIGCHLD, NULL);
        if (pid < 0)
            return 90;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
            return 100;
        int s = 0;
        for (int k = 1; k <= 3; k++)
            s += parent_counted(k);
        if (s != 17)
            return 101;
        return WEXITSTATUS(st) == 17 ? 0 : 102;
    }
    return 2;
}
