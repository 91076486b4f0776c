// cflags:
/* Orphans (docs/edge-cases.md §26): root forks a middle process and exits 0 at once
 * without waiting; the middle forks a grandchild and exits 2 at once; the
 * grandchild sleeps 200 ms, calls gc_mark() and exits 5. Both the middle and
 * the grandchild outlive their parent. */
#include <unistd.h>

volatile long sink;
__attribute__((noinline)) void gc_mark(void) { sink++; }

int main(void)
{
    if (fork() == 0) {
        if (fork() == 0) {
            usleep(200000);
            gc_mark();
            _exit(5);
        }
        _exit(2);
    }
    return 0;
}
