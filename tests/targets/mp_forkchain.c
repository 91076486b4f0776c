// cflags:
/* A chain of processes: usage mp_forkchain [depth=2].
 * Level L calls work(L); if L < depth it forks level L+1 and exits with the
 * child's exit code + 1; the last level exits 20. So the root exits
 * 20 + depth and level L exits 20 + depth - L. Any abnormal child status
 * gives 100. */
#include <stdlib.h>
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

int main(int argc, char **argv)
{
    int depth = argc > 1 ? atoi(argv[1]) : 2;
    for (int level = 0;; level++) {
        work(level);
        if (level >= depth)
            _exit(20);
        int pid = fork();
        if (pid < 0)
            _exit(101);
        if (pid == 0)
            continue; /* the child goes one level deeper */
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
            _exit(100);
        _exit(WEXITSTATUS(st) + 1);
    }
}
