// cflags: -no-pie
/* nopie_hello: a dynamically linked, non-PIE program (fixed load address). */
#include <stdio.h>

__attribute__((noinline)) int nopie_func(int x)
{
    return x + 1;
}

int main(void)
{
    printf("nopie %d\n", nopie_func(41));
    fflush(stdout);
    return 0;
}
