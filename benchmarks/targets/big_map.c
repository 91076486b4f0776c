/* Workload snapshot_1g: maps 1 GiB of anonymous memory and fills every
 * page, calls stop_here(), changes one byte in every MiB, and calls
 * stop_here() again. The tracer takes a full snapshot at each stop and
 * diffs the two (timing itself). Untraced it just exits. */
#include <sys/mman.h>
#include <string.h>
#include "bench_common.h"

#define SIZE (1L << 30)
#define MIB (1L << 20)

__attribute__((noinline)) void stop_here(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 92;
    for (long off = 0; off < SIZE; off += 4096)
        memset(p + off, (int)(off >> 12), 4096);
    stop_here();
    for (long off = 0; off < SIZE; off += MIB)
        p[off + 17] ^= 0x5a;
    stop_here();
    return 0;
}
