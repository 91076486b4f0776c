/* A thread made the legacy way: glibc's clone() with CLONE_THREAD and
 * SIGCHLD as its exit signal. The kernel picks the ptrace event from the
 * exit signal, not from CLONE_THREAD, so this thread is announced by
 * PTRACE_EVENT_FORK (docs/edge-cases.md §6): a tracer that trusts the event
 * kind takes it for a new process. The thread sets a flag and ends; main
 * waits for the flag and exits 0 (7 if it never comes). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int done;

__attribute__((noinline)) int thread_fn(void *arg)
{
    (void)arg;
    done = 1;
    syscall(SYS_exit, 0);  /* this thread only */
    return 0;
}

int main(void)
{
    size_t size = 64 * 1024;
    char *stack = malloc(size);
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD
                | CLONE_SYSVSEM | SIGCHLD;
    if (clone(thread_fn, stack + size, flags, NULL) == -1) {
        perror("clone");
        return 2;
    }
    for (int i = 0; i < 5000 && !done; i++)
        usleep(1000);
    printf("%s\n", done ? "done" : "timeout");
    return done ? 0 : 7;
}
