/* A program whose static functions only a separate debug file names (the
   tests strip it and split its symbols off with objcopy), and whose
   comparator is called from inside libc's qsort (a backtrace through libc's
   internal functions). */
#include <stdio.h>
#include <stdlib.h>

static volatile int calls;

static int __attribute__((noinline)) compare_ints(const void *a, const void *b)
{
    calls++;
    return *(const int *)a - *(const int *)b;
}

static void __attribute__((noinline)) sort_some(void)
{
    int v[] = {3, 1, 2};
    qsort(v, 3, sizeof v[0], compare_ints);
    printf("%d %d %d\n", v[0], v[1], v[2]);
}

int main(void)
{
    sort_some();
    return calls > 0 ? 0 : 1;
}
