/* bp_after_syscall: raw system calls, each followed by `test rax, rax` (an
 * instruction tether emulates when it resumes a thread on a breakpoint) at a
 * global label, so a test can put a breakpoint right after the syscall.
 *   getpid N: N raw getpid calls; prints "getpid ok" if every one saw a
 *             positive result through the flags of that test.
 *   read:     prints "ready", blocks in a raw read of stdin (restartable when
 *             a debugger interrupts it), prints "read=<result>" (1 expected).
 *   fork:     a raw fork; the child prints "child ok", the parent waits for
 *             it and prints "parent ok" (each judged by the same test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Returns the syscall's result, or -9999 when the flags of the `test` after
 * it said negative (a result seen as an error). */
#define RAW_SYSCALL(label, nr, a0, a1, a2, out)                              \
    __asm__ volatile("syscall\n\t"                                           \
                     ".globl " label "\n" label ":\n\t"                      \
                     "test %%rax, %%rax\n\t"                                 \
                     "jns 1f\n\t"                                            \
                     "mov $-9999, %%rax\n"                                   \
                     "1:"                                                    \
                     : "=a"(out)                                             \
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2)                    \
                     : "rcx", "r11", "memory", "cc")

__attribute__((noinline)) static long raw_getpid(void)
{
    long r;
    RAW_SYSCALL("after_getpid", 39L, 0L, 0L, 0L, r);
    return r;
}

__attribute__((noinline)) static long raw_read(char *buf)
{
    long r;
    RAW_SYSCALL("after_read", 0L, 0L, (long)buf, 1L, r);
    return r;
}

__attribute__((noinline)) static long raw_fork(void)
{
    long r;
    RAW_SYSCALL("after_fork", 57L, 0L, 0L, 0L, r);
    return r;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "getpid";
    if (!strcmp(mode, "getpid")) {
        long n = argc > 2 ? atol(argv[2]) : 3, good = 0;
        long me = getpid();
        for (long i = 0; i < n; i++)
            good += raw_getpid() == me;
        printf(good == n ? "getpid ok\n" : "getpid bad %ld/%ld\n", good, n);
    } else if (!strcmp(mode, "read")) {
        char c = 0;
        printf("ready\n");
        fflush(stdout);
        long r = raw_read(&c);
        printf("read=%ld %c\n", r, c);
    } else if (!strcmp(mode, "fork")) {
        long pid = raw_fork();
        if (pid == 0) {
            printf("child ok\n");
            fflush(stdout);
            _exit(0);
        }
        int status = 0;
        waitpid((pid_t)pid, &status, 0);
        printf(pid > 0 && WIFEXITED(status) ? "parent ok\n" : "parent bad %ld\n", pid);
    }
    fflush(stdout);
    return 0;
}
