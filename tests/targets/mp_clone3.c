// cflags:
/* A process made with the raw clone3 system call (docs/edge-cases.md §29):
 * flags 0, exit_signal SIGCHLD, no new stack, i.e. a fork by another name.
 * The child calls child_mark() and exits 5; the parent exits 40 + status. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

volatile long sink;
__attribute__((noinline)) void child_mark(void) { sink++; }
__attribute__((noinline)) void parent_after(int pid) { sink = pid; }

int main(void)
{
    struct clone_args args;
    int st;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0)
        return 90;
    if (pid == 0) {
        child_mark();
        _exit(5);
    }
    parent_after((int)pid);
    if (waitpid((int)pid, &st, 0) != pid)
        return 91;
    if (WIFEXITED(st))
        return 40 + WEXITSTATUS(st);
    return 60 + WTERMSIG(st);
}
