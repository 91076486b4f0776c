/* Workloads bp_cb and bp_sync: calls hit() N times; the tracers put a
 * software breakpoint on hit. hit starts with `push %rbp` (built -O0 with
 * frame pointers and without CET, so no endbr64 in front). */
#include "bench_common.h"

volatile long sink;

__attribute__((noinline)) void hit(long i)
{
    sink += i;
}

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        hit(i);
    report(now_ns() - t0, n);
    return 0;
}
