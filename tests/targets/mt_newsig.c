// cflags: -pthread
/* 50 times: create a thread and at once send it SIGUSR1, most likely before
 * it ever ran. The handler must run in that very thread. Exit 0 iff it did
 * every time; 1 if a signal was lost (the thread waits at most 5 s);
 * 2 if it ran in another thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ROUNDS 50

volatile int handled_tid[ROUNDS];
volatile int thread_tid[ROUNDS];
static volatile int current;

static void on_usr1(int sig)
{
    (void)sig;
    handled_tid[current] = (int)syscall(SYS_gettid);
}

static void *worker(void *arg)
{
    int r = (int)(long)arg;
    thread_tid[r] = (int)syscall(SYS_gettid);
    for (int i = 0; i < 5000 && handled_tid[r] == 0; i++)
        usleep(1000);
    return NULL;
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_t th;
        current = r;
        pthread_create(&th, NULL, worker, (void *)(long)r);
        pthread_kill(th, SIGUSR1);
        pthread_join(th, NULL);
        if (handled_tid[r] == 0)
            return 1;
        if (handled_tid[r] != thread_tid[r])
            return 2;
    }
    return 0;
}
