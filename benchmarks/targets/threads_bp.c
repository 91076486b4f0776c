// cflags: -pthread
/* Workload bp_threads_1000: THREADS threads (argv[2], default 1000) in one
 * process, each calling hit() N / THREADS times (N = argv[1]); the tracers
 * put a breakpoint on hit(). The threads are made first and wait at a
 * barrier; the clock runs from the barrier to the last join, so thread
 * creation is outside it. hit starts with `push %rbp` (see bp_loop.c). */
#include <pthread.h>
#include <stdlib.h>
#include "bench_common.h"

volatile long sink;
static long per_thread;
static pthread_barrier_t start;

__attribute__((noinline)) void hit(long i)
{
    __atomic_add_fetch(&sink, i, __ATOMIC_RELAXED);
}

static void *body(void *arg)
{
    pthread_barrier_wait(&start);
    for (long i = 0; i < per_thread; i++)
        hit(i);
    return arg;
}

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    long threads = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    if (threads < 1 || threads > 10000 || n % threads != 0)
        return 91;
    per_thread = n / threads;
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    if (!t || pthread_barrier_init(&start, NULL, (unsigned)threads + 1) != 0)
        return 92;
    for (long i = 0; i < threads; i++)
        if (pthread_create(&t[i], &attr, body, NULL) != 0)
            return 93;
    pthread_barrier_wait(&start);
    long long t0 = now_ns();
    for (long i = 0; i < threads; i++)
        if (pthread_join(t[i], NULL) != 0)
            return 94;
    report(now_ns() - t0, n);
    return 0;
}
