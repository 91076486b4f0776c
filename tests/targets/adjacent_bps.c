/* Breakpoints on consecutive instructions (issue 23).
 * loop(): ITER iterations of labelled instructions that tether's step-over
 * emulator does not emulate (add, xor, lea), so stepping over one lands the
 * thread on the next breakpoint's address by a single step.
 * straight(): a function without branches, called CALLS times: a breakpoint
 * on each of its instructions is hit CALLS times.
 * Prints the sum so the work can't be optimised away. */
#include <stdio.h>
#include <stdlib.h>

#define ITER 1000
#define CALLS 7

__attribute__((noinline)) long loop(long n)
{
    long acc = 0;
    for (long i = 0; i < n; i++) {
        __asm__ volatile(
            ".globl adj_first\n"
            "adj_first: addq $1, %0\n"
            ".globl adj_second\n"
            "adj_second: xorq $2, %0\n"
            ".globl adj_third\n"
            "adj_third: leaq 3(%0), %0\n"
            : "+r"(acc));
    }
    return acc;
}

__attribute__((noinline)) long straight(long x)
{
    long y = x * 3;
    y ^= 0x55;
    y += x >> 2;
    y = y * y + 7;
    return y - x;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : ITER;
    long total = loop(n);
    for (int i = 0; i < CALLS; i++)
        total += straight(i);
    printf("%ld\n", total);
    return 0;
}
