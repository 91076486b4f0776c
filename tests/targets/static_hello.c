// cflags: -static
/* static_hello: a statically linked (non-PIE) program, to check the entry
 * point and symbols of binaries without a loader. */
#include <stdio.h>

__attribute__((noinline)) int static_func(int x)
{
    return x + 1;
}

int main(void)
{
    printf("static %d\n", static_func(41));
    fflush(stdout);
    return 0;
}
