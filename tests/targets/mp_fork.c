// cflags:
/* One fork. usage: mp_fork [child_exit_code=3] [child_mode=normal]
 * The child calls child_start(), work(1), then per mode:
 *   normal  _exit(code)            segv   dereferences NULL
 *   sleep   sleeps 30 s, then exits (for kill tests)
 * The parent calls parent_after_fork(pid), work(2), then waits for the
 * child and exits 40 + its exit code, or 60 + the signal that killed it
 * (so 43 = the child exited 3; 65 = SIGTRAP; 69 = SIGKILL; 71 = SIGSEGV).
 * do_fork() wraps fork() so tests can next()/finish() over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long sink;

__attribute__((noinline)) int work(int n)
{
    int s = 0;
    for (int i = 0; i < 1000; i++)
        s += i * n;
    sink = s;
    return s;
}

__attribute__((noinline)) void parent_after_fork(int pid) { sink = pid; }
__attribute__((noinline)) void child_start(void) { sink = 1; }

__attribute__((noinline)) int do_fork(void)
{
    int pid = fork();
    return pid;
}

int main(int argc, char **argv)
{
    int code = argc > 1 ? atoi(argv[1]) : 3;
    const char *mode = argc > 2 ? argv[2] : "normal";
    int st;

    setvbuf(stdout, NULL, _IONBF, 0);
    int pid = do_fork();
    if (pid < 0)
        return 90;
    if (pid == 0) {
        child_start();
        work(1);
        if (strcmp(mode, "segv") == 0)
            *(volatile int *)0 = 1;
        if (strcmp(mode, "sleep") == 0)
            sleep(30);
        printf("child exiting %d\n", code);
        _exit(code);
    }
    parent_after_fork(pid);
    work(2);
    if (waitpid(pid, &st, 0) != pid)
        return 91;
    printf("parent saw status %#x\n", st);
    if (WIFEXITED(st))
        return 40 + WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 60 + WTERMSIG(st);
    return 92;
}
