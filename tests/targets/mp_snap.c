// cflags: -pthread
/* Snapshot scope (SPEC 2.6): main starts 2 threads that block, forks a
 * child that blocks too, then calls snap_here(); the test snapshots the
 * process there. Afterwards everything is released and main exits 0. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static int release_fds[2];
volatile long sink;
__attribute__((noinline)) void snap_here(int child) { sink = child; }

static void *blocked(void *arg)
{
    char c;
    (void)arg;
    if (read(release_fds[0], &c, 1) < 0)
        return NULL;
    return NULL;
}

int main(void)
{
    pthread_t th[2];
    int st;
    if (pipe(release_fds) != 0)
        return 2;
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, blocked, NULL);
    int pid = fork();
    if (pid == 0) {
        char c;
        if (read(release_fds[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    snap_here(pid);
    if (write(release_fds[1], "xyz", 3) != 3)
        return 3;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 4;
    return WEXITSTATUS(st);
}
