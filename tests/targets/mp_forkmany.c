// cflags:
/* Forks argv[1] children (default 200) in a tight loop; child i calls
 * before_fork(i) in the parent first, then _exit(i % 256) at once.
 * The parent reaps them all and exits 0 iff every child's status matches
 * its index (docs/edge-cases.md §1); 1 otherwise. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXC 1024

volatile long sink;
__attribute__((noinline)) void before_fork(int i) { sink = i; }

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    int pids[MAXC];
    if (n < 1 || n > MAXC)
        return 2;
    for (int i = 0; i < n; i++) {
        before_fork(i);
        pids[i] = fork();
        if (pids[i] < 0)
            return 3;
        if (pids[i] == 0)
            _exit(i % 256);
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != i % 256)
            bad++;
    }
    return bad ? 1 : 0;
}
