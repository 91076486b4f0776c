// cflags: -pthread
/* N worker threads (argv[1], default 2). Each records its tid, calls
 * level1(i) -> mark(i) and makes one getppid system call. main joins them,
 * calls report() and exits 0 only if every worker returned its own value.
 * A SIGUSR1 handler records the tid it ran on (for thread.signal tests). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 256

volatile int tids[MAX_THREADS];   /* tid of worker i, read by the tests */
volatile int sig_tid;             /* tid the SIGUSR1 handler ran on */
volatile int sig_count;
volatile long sink;

static void on_usr1(int sig) { (void)sig; sig_tid = (int)syscall(SYS_gettid); sig_count++; }

__attribute__((noinline)) void mark(int i) { sink += i; }

__attribute__((noinline)) int level1(int i)
{
    mark(i);
    return i * i;
}

__attribute__((noinline)) void report(long sum) { sink = sum; }

void *worker(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = (int)syscall(SYS_gettid);
    syscall(SYS_getppid);
    return (void *)(long)level1(i);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    pthread_t th[MAX_THREADS];
    long sum = 0, expected = 0;

    if (n < 1 || n > MAX_THREADS)
        return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGUSR1, on_usr1);
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(long)i) != 0)
            return 3;
    for (int i = 0; i < n; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        sum += (long)ret;
        expected += (long)i * i;
    }
    report(sum);
    printf("sum=%ld\n", sum);
    return sum == expected ? 0 : 1;
}
