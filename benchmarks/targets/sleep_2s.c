/* Workload idle: sleeps 2 s in one nanosleep and exits; the tracers measure
 * their own CPU time meanwhile. It reports the time it slept (events=1). */
#include <time.h>
#include "bench_common.h"

int main(void)
{
    struct timespec two_seconds = {2, 0};
    long long t0 = now_ns();
    /* A signal could cut it short: sleep what is left (nanosleep(2)). */
    while (nanosleep(&two_seconds, &two_seconds) != 0)
        ;
    report(now_ns() - t0, 1);
    return 0;
}
