/* Workloads mem_* and regs: fills a 16 MiB buffer (so every page is
 * present), then calls stop_here(), where the tracers stop it and read its
 * memory and registers. Untraced it just exits. */
#include <string.h>
#include "bench_common.h"

#define BIG (16 << 20)
char big[BIG];

__attribute__((noinline)) void stop_here(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    for (long i = 0; i < BIG; i++)
        big[i] = (char)(i * 7);
    stop_here();
    return 0;
}
