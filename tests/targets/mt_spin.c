// cflags: -pthread
/* K spinner threads (argv[1], default 2) increment their own counter until
 * stop_flag is set. Once every spinner has started, main calls mark(),
 * sleeps 200 ms, calls mark2(), then stops and joins the spinners.
 * Tests use it to see whether other threads really stand still (all-stop,
 * scheduler locking): a stopped thread's counter does not move. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_SPIN 64

volatile long counters[MAX_SPIN];
volatile int stop_flag;
volatile long sink;

__attribute__((noinline)) void mark(void) { sink++; }
__attribute__((noinline)) void mark2(void) { sink++; }

void *spinner(void *arg)
{
    int i = (int)(long)arg;
    while (!stop_flag)
        counters[i]++;
    return NULL;
}

int main(int argc, char **argv)
{
    int k = argc > 1 ? atoi(argv[1]) : 2;
    pthread_t th[MAX_SPIN];

    if (k < 1 || k > MAX_SPIN)
        return 2;
    for (int i = 0; i < k; i++)
        pthread_create(&th[i], NULL, spinner, (void *)(long)i);
    /* Wait (bounded: 10 s) until every spinner has run at least once. */
    for (int tries = 0; tries < 10000; tries++) {
        int ready = 1;
        for (int i = 0; i < k; i++)
            if (counters[i] == 0)
                ready = 0;
        if (ready)
            break;
        usleep(1000);
    }
    mark();
    usleep(200000);
    mark2();
    stop_flag = 1;
    for (int i = 0; i < k; i++)
        pthread_join(th[i], NULL);
    return 0;
}
