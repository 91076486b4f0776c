// cflags: -pthread
/* Workload bp_threads: 8 threads call bump() N/8 times each (N a multiple of
 * 8). bump()'s first instruction is `lock incq`, which no debugger emulates:
 * a breakpoint there is stepped over with its int3 lifted while the other
 * threads are held (libdebug), or run out of line with the int3 left armed
 * (tether: displaced stepping); no hit may be missed either way. Times the whole run, from the
 * threads' creation to the last join; exits 1 if the count is wrong. */
#include <pthread.h>
#include "bench_common.h"

#define THREADS 8

volatile long counter;
static long per_thread;
void bump(void);
__asm__(".text\n"
        ".globl bump\n"
        ".type bump, @function\n"
        "bump:\n"
        "    lock incq counter(%rip)\n"
        "    ret\n");

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < per_thread; i++)
        bump();
    return NULL;
}

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    pthread_t th[THREADS];
    per_thread = n / THREADS;
    long long t0 = now_ns();
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    report(now_ns() - t0, n);
    return counter == per_thread * THREADS ? 0 : 1;
}
