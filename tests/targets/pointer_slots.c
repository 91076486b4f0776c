// cflags:
/* pointer_slots: three ints on the stack, a heap block holding their addresses;
 * prints "<heap slot> <stack address>" for each, then calls done() (a place
 * for a breakpoint while the block still exists) and exits 0. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void done(void) { fflush(stdout); }

int main(void)
{
    int first = 1, second = 2, third = 3;
    int **slots = malloc(3 * sizeof *slots);
    if (slots == NULL)
        return 1;
    slots[0] = &first;
    slots[1] = &second;
    slots[2] = &third;
    for (int i = 0; i < 3; i++)
        printf("%p %p\n", (void *)&slots[i], (void *)slots[i]);
    done();
    free(slots);
    return 0;
}
