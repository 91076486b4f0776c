// cflags: -pthread
/* 4 threads fork 25 children each, at the same time (docs/edge-cases.md §1, second
 * variant). Child j of thread t exits with code t*25 + j (0..99), so every
 * child has a distinct code. Exit 0 iff every status is right. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define PER 25

static volatile int bad;

static void *forker(void *arg)
{
    int t = (int)(long)arg;
    int pids[PER];
    for (int j = 0; j < PER; j++) {
        pids[j] = fork();
        if (pids[j] == 0)
            _exit(t * PER + j);
        if (pids[j] < 0)
            __atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
    }
    for (int j = 0; j < PER; j++) {
        int st;
        if (pids[j] <= 0)
            continue;
        if (waitpid(pids[j], &st, 0) != pids[j] || !WIFEXITED(st) || WEXITSTATUS(st) != t * PER + j)
            __atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

int main(void)
{
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, forker, (void *)(long)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    return bad ? 1 : 0;
}
