// cflags: -m32 -pthread
/* i386_threads: a 32-bit program with four threads that each call
 * add32() 200 times and check every result: a breakpoint on add32 is
 * stepped over (a 32-bit task is single-stepped over it while the others
 * are held, never emulated as 64-bit code) thousands of times. Exits with
 * 0 when every thread summed right, 1 otherwise. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define CALLS 200

__attribute__((noinline)) uint32_t add32(uint32_t a, uint32_t b)
{
    return a + b;
}

static void *worker(void *arg)
{
    uint32_t base = (uint32_t)(uintptr_t)arg, sum = 0, want = 0;
    for (uint32_t i = 0; i < CALLS; i++) {
        sum = add32(sum, base + i);
        want += base + i;
    }
    return (void *)(uintptr_t)(sum == want);
}

int main(void)
{
    pthread_t threads[THREADS];
    int ok = 1;
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)(1000 * (i + 1)));
    for (int i = 0; i < THREADS; i++) {
        void *result;
        pthread_join(threads[i], &result);
        ok &= (int)(uintptr_t)result;
    }
    printf("threads ok %d\n", ok);
    return ok ? 0 : 1;
}
