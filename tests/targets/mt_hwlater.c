// cflags: -pthread
/* main calls armed() before any thread exists; then argv[1] threads (default
 * 1) each write shared_var once and call hw_func() once. Tests put a hardware
 * watchpoint on shared_var and a hardware breakpoint on hw_func while
 * stopped in armed(): x86 zeroes the debug registers of a new task, so the
 * debugger must copy them to each new thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile int shared_var;
volatile int tids[64];
volatile long sink;

__attribute__((noinline)) void armed(void) { sink++; }
__attribute__((noinline)) void hw_func(int i) { sink += i; }

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = (int)syscall(SYS_gettid);
    shared_var = i + 1;
    hw_func(i);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    pthread_t th[64];
    if (n < 1 || n > 64)
        return 2;
    armed();
    /* One at a time, so the watchpoint hits cannot coalesce. */
    for (int i = 0; i < n; i++) {
        pthread_create(&th[i], NULL, worker, (void *)(long)i);
        pthread_join(th[i], NULL);
    }
    return shared_var == n ? 0 : 1;
}
