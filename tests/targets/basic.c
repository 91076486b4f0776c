/* basic: a small program with a known call chain main -> f -> g, used by the
 * core, memory, stepping and breakpoint tests.
 * It prints its argv and one environment variable so tests can check that
 * argv/env reach the program, and exits with code 7 so the exit code is
 * observable. */
#include <stdio.h>
#include <stdlib.h>

volatile long g_calls = 0;   /* incremented by g(): lets tests see g ran */

__attribute__((noinline)) long g(long x)
{
    g_calls++;
    return x * 2 + 1;
}

__attribute__((noinline)) long f(long n)
{
    long total = 0;
    for (long i = 0; i < n; i++)
        total += g(i);           /* one call site, executed n times */
    return total;
}

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    const char *v = getenv("TETHER_TEST_VAR");
    printf("env=%s\n", v ? v : "(unset)");
    long r = f(3);               /* g(0)+g(1)+g(2) = 1+3+5 = 9 */
    printf("f=%ld\n", r);
    puts("done");
    fflush(stdout);
    return 7;
}
