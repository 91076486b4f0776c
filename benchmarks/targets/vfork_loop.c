/* Workload vfork: vfork()s N children one after the other; each execs this
 * program again in "child" mode, which exits at once, and the parent reaps it
 * before the next vfork (what posix_spawn and system() do underneath). */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench_common.h"

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "child"))
        return 0;
    long n = count_arg(argc, argv);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = vfork();
        if (pid < 0)
            return 92;
        if (pid == 0) {
            char *child[] = {argv[0], "child", NULL};
            execv("/proc/self/exe", child);
            _exit(94);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 93;
    }
    report(now_ns() - t0, n);
    return 0;
}
