// cflags: -pthread
/* exec from a thread that is not the leader (docs/edge-cases.md §12, §13).
 * usage: mp_thread_exec MODE PROGRAM [ARGS...]
 *  one   3 threads besides main; thread 2 execs PROGRAM while the others
 *        (and main) are blocked. The kernel kills the other threads, and
 *        the execing thread takes over the leader's pid.
 *  both  two threads meet at a barrier and both exec PROGRAM at once.
 * Exit 127 if an exec fails. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char **prog_argv;
static int mode_both;
static pthread_barrier_t barrier;

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    if (mode_both) {
        pthread_barrier_wait(&barrier);
        execv(prog_argv[0], prog_argv);
        _exit(127);
    }
    if (i == 2) {
        usleep(50000);
        execv(prog_argv[0], prog_argv);
        _exit(127);
    }
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[3];
    if (argc < 3)
        return 2;
    mode_both = strcmp(argv[1], "both") == 0;
    prog_argv = argv + 2;
    pthread_barrier_init(&barrier, NULL, 2);
    int n = mode_both ? 2 : 3;
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, worker, (void *)(long)(i + 1));
    for (;;)
        pause();
}
