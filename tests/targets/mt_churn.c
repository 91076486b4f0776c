// cflags: -pthread
/* Creates and destroys argv[1] threads (default 1000), in batches of 8
 * running at the same time. Each thread calls tick(i) exactly once.
 * Exit 0 iff every thread ran (tests count tick() hits exactly). */
#include <pthread.h>
#include <stdlib.h>

#define BATCH 8

volatile long ticks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void tick(int i)
{
    pthread_mutex_lock(&lock);
    ticks++;
    pthread_mutex_unlock(&lock);
    (void)i;
}

static void *worker(void *arg)
{
    tick((int)(long)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? atoi(argv[1]) : 1000;
    pthread_t th[BATCH];

    for (int done = 0; done < total; done += BATCH) {
        int n = total - done < BATCH ? total - done : BATCH;
        for (int j = 0; j < n; j++)
            if (pthread_create(&th[j], NULL, worker, (void *)(long)(done + j)) != 0)
                return 3;
        for (int j = 0; j < n; j++)
            pthread_join(th[j], NULL);
    }
    return ticks == total ? 0 : 1;
}
