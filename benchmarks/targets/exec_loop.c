/* Workload exec: `exec_loop N` execs itself N times, counting down
 * (`exec_loop N-1 T0`); the start time T0 rides along in argv so the last
 * image can report the time of the whole chain. */
#include <stdio.h>
#include <unistd.h>
#include "bench_common.h"

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    long long t0 = argc > 2 ? strtoll(argv[2], NULL, 10) : now_ns();
    long total = argc > 3 ? strtol(argv[3], NULL, 10) : n;
    if (n == 0) {
        report(now_ns() - t0, total);
        return 0;
    }
    char left[32], start[32], all[32];
    snprintf(left, sizeof left, "%ld", n - 1);
    snprintf(start, sizeof start, "%lld", t0);
    snprintf(all, sizeof all, "%ld", total);
    char *next[] = {argv[0], left, start, all, NULL};
    execv("/proc/self/exe", next);
    return 92;
}
