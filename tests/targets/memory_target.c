/* memory_target: known data for memory tests.
 *  - `greeting` (string) and `magic` (8 bytes) are printed after
 *    checkpoint(), so writes made at the breakpoint are observable;
 *  - `big_static` (16 MiB, .bss) and the 16 MiB heap block `big_heap` are
 *    filled with patterns a test can recompute (see fill below);
 *  - `needle` holds a unique string for find().
 * Call chain for backtraces: main -> outer_fn -> inner_fn -> checkpoint. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#define BIG (16u << 20)

char greeting[64] = "Hello tether memory";
uint64_t magic = 0x1122334455667788ULL;
char needle[] = "N33DLE-in-the-haystack-4242";
unsigned char big_static[BIG];
unsigned char *big_heap;

__attribute__((noinline)) void checkpoint(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void inner_fn(void)
{
    checkpoint();
}

__attribute__((noinline)) void outer_fn(void)
{
    inner_fn();
}

int main(void)
{
    big_heap = malloc(BIG);
    if (!big_heap)
        return 1;
    /* byte i of big_static = (i * 7 + (i >> 12)) & 0xff; of big_heap = (i ^ (i >> 8)) & 0xff */
    for (uint32_t i = 0; i < BIG; i++) {
        big_static[i] = (unsigned char)(i * 7 + (i >> 12));
        big_heap[i] = (unsigned char)(i ^ (i >> 8));
    }
    outer_fn();
    unsigned sum = 0;
    for (uint32_t i = 0; i < BIG; i += 4096)
        sum += big_static[i];
    printf("greeting=%s\n", greeting);
    printf("magic=%016llx\n", (unsigned long long)magic);
    printf("big0=%02x%02x%02x%02x\n", big_static[0], big_static[1], big_static[2], big_static[3]);
    printf("heap_last=%02x\n", big_heap[BIG - 1]);
    printf("sum=%u\n", sum);
    fflush(stdout);
    return 0;
}
