/* loop_calls: calls counted() N times (argv[1], default 100000) and prints the
 * number of calls it made and their sum, so a test can compare a breakpoint
 * callback's count with what the program itself counted. */
#include <stdio.h>
#include <stdlib.h>

volatile long counted_sum = 0;

__attribute__((noinline)) void counted(long i)
{
    counted_sum += i;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    for (long i = 0; i < n; i++)
        counted(i);
    printf("calls=%ld sum=%ld\n", n, counted_sum);
    fflush(stdout);
    return 0;
}
