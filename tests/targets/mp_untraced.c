// cflags:
/* clone(CLONE_UNTRACED|SIGCHLD) (docs/edge-cases.md §28): the kernel reports no
 * ptrace event for this child. It prints its pid ("untraced child N"),
 * sleeps 300 ms, calls untraced_mark() and exits 6. The parent exits
 * 40 + the child's status. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_UNTRACED
#define CLONE_UNTRACED 0x00800000
#endif

volatile long sink;
__attribute__((noinline)) void untraced_mark(void) { sink++; }

int main(void)
{
    int st;
    setvbuf(stdout, NULL, _IONBF, 0);
    /* Raw clone with no new stack behaves like fork. */
    long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0)
        return 90;
    if (pid == 0) {
        usleep(300000);
        untraced_mark();
        _exit(6);
    }
    printf("untraced child %ld\n", pid);
    if (waitpid((int)pid, &st, 0) != pid)
        return 91;
    if (WIFEXITED(st))
        return 40 + WEXITSTATUS(st);
    return 60 + WTERMSIG(st);
}
