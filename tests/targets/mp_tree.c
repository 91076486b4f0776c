// cflags:
/* A small long-lived tree: root forks child A, A forks grandchild G, then
 * root forks child B. Every process calls tick() every 10 ms forever, so
 * tests can kill/detach/terminate the whole tree. The root calls
 * tree_ready() once both of its children exist. */
#include <unistd.h>

volatile long ticks;
volatile long sink;

__attribute__((noinline)) void tick(void) { ticks++; }
__attribute__((noinline)) void tree_ready(void) { sink++; }

static void loop_forever(void)
{
    for (;;) {
        tick();
        usleep(10000);
    }
}

int main(void)
{
    if (fork() == 0) {         /* A */
        if (fork() == 0)       /* G */
            loop_forever();
        loop_forever();
    }
    if (fork() == 0)           /* B */
        loop_forever();
    tree_ready();
    loop_forever();
}
