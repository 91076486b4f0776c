// cflags: -pthread
/* detach_hot SECONDS: two threads call tick() in a tight loop for SECONDS,
 * then the program prints "done <calls>" and exits 0. Detaching while a
 * breakpoint on tick() is being hit must leave it running correctly. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long calls;
__attribute__((noinline)) void tick(void) { __sync_fetch_and_add(&calls, 1); }

static double seconds;
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *loop(void *arg)
{
    (void)arg;
    double end = now() + seconds;
    while (now() < end)
        tick();
    return NULL;
}

int main(int argc, char **argv)
{
    seconds = argc > 1 ? atof(argv[1]) : 1.0;
    pthread_t t;
    pthread_create(&t, NULL, loop, NULL);
    loop(NULL);
    pthread_join(t, NULL);
    printf("done %ld\n", calls);
    return 0;
}
