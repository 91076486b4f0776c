/* Shared by the benchmark targets: a monotonic clock and the one line each
 * target reports. Every target times only its own event loop, so the figure
 * is the same whether it runs untraced or under any tracer: a ptrace stop
 * blocks the tracee, so whatever a tracer spends on an event shows up here. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
    struct timespec ts;
    /* vDSO: no system call, so no stop under PTRACE_SYSCALL either. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Appends "loop_ns=<ns> events=<n>" to $BENCH_OUT (or prints it to stdout):
 * a file, because the tracers redirect or share the target's stdout. */
static void report(long long loop_ns, long events)
{
    const char *path = getenv("BENCH_OUT");
    FILE *f = path ? fopen(path, "a") : stdout;
    if (!f)
        exit(90);
    fprintf(f, "loop_ns=%lld events=%ld\n", loop_ns, events);
    if (path)
        fclose(f);
    else
        fflush(f);
}

static long count_arg(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    if (n < 0)
        exit(91);
    return n;
}
#endif
