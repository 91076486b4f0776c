// cflags: -pthread
/* Runs until killed, for attach() tests: 4 long-lived threads call tick()
 * every millisecond, and a creator thread starts a short-lived thread that
 * calls blip() every 100 microseconds, so threads are born and die while a
 * debugger attaches (gdb test attach-many-short-lived-threads). */
#include <pthread.h>
#include <unistd.h>

volatile long ticks, blips;
volatile long sink;

__attribute__((noinline)) void tick(void) { ticks++; }
__attribute__((noinline)) void blip(void) { sink++; }

static void *ticker(void *arg)
{
    (void)arg;
    for (;;) {
        tick();
        usleep(1000);
    }
    return NULL;
}

static void *short_lived(void *arg)
{
    (void)arg;
    blip();
    __atomic_add_fetch(&blips, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void *creator(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_lived, NULL) == 0)
            pthread_detach(t);
        usleep(100);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    for (int i = 0; i < 4; i++)
        pthread_create(&t, NULL, ticker, NULL);
    pthread_create(&t, NULL, creator, NULL);
    for (;;)
        pause();
}
