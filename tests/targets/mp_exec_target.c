// cflags: -no-pie
/* Non-PIE exec destination. sled() comes first in .text and is 8 KiB of
 * nops that main runs, covering the addresses of mp_exec's functions.
 * Then it calls t1()..t4() once each, prints "target says hi" and its
 * arguments, and exits 12. */
#include <stdio.h>

volatile long sink;

__attribute__((noinline)) void sled(void)
{
    __asm__ volatile(".rept 8192\n\tnop\n\t.endr");
}

__attribute__((noinline)) void t1(void) { sink += 1; }
__attribute__((noinline)) void t2(void) { sink += 2; }
__attribute__((noinline)) void t3(void) { sink += 3; }
__attribute__((noinline)) void t4(void) { sink += 4; }
__attribute__((noinline)) void target_mark(void) { sink++; }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sled();
    t1();
    t2();
    t3();
    t4();
    target_mark();
    printf("target says hi");
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    return 12;
}
