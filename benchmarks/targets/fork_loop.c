/* Workload fork: forks N children one after the other; each exits at once
 * and the parent reaps it before forking the next. */
#include <sys/wait.h>
#include <unistd.h>
#include "bench_common.h"

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 92;
        if (pid == 0)
            _exit(0);
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 93;
    }
    report(now_ns() - t0, n);
    return 0;
}
