/* For Debugger.gdb() (migration to gdb and back, docs/edge-cases.md §37):
 * for each line read on stdin, work(n) adds n to `counter` and the
 * program prints "<work's result> <counter>". A SIGCONT handler counts
 * SIGCONTs (the program must not see tether's own). With an argument, it
 * forks first and the child does the same on the same stdin while the
 * parent waits for it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

long counter;
volatile sig_atomic_t conts;

__attribute__((noinline)) long work(long n)
{
    counter += n;
    return counter;
}

static void on_cont(int sig)
{
    (void)sig;
    conts++;
}

int main(int argc, char **argv)
{
    (void)argv;
    signal(SIGCONT, on_cont);
    if (argc > 1) {
        pid_t c = fork();
        if (c > 0) {
            int st;
            waitpid(c, &st, 0);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
        }
    }
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        long r = work(atol(line));
        printf("%ld %ld %d\n", r, counter, (int)conts);
        fflush(stdout);
    }
    return 0;
}
