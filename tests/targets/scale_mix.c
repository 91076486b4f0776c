// cflags:
/* scale_mix HOT COLD: forks a child that calls cold() COLD times, sleeping
 * 200 us between calls, while the parent calls hot() HOT times in a tight
 * loop; the parent then reaps the child. Exits 0 iff the child exited 0.
 * A tracer with breakpoints on both sees one thread report event after
 * event while another process reports now and then (docs/edge-cases.md §39). */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile long sink;
__attribute__((noinline)) void hot(long i) { sink += i; }
__attribute__((noinline)) void cold(long i) { sink -= i; }

int main(int argc, char **argv)
{
    long n_hot = argc > 1 ? atol(argv[1]) : 20000;
    long n_cold = argc > 2 ? atol(argv[2]) : 200;
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        struct timespec pause = {0, 200000};
        for (long i = 0; i < n_cold; i++) {
            cold(i);
            nanosleep(&pause, NULL);
        }
        _exit(0);
    }
    for (long i = 0; i < n_hot; i++)
        hot(i);
    int st;
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    return 0;
}
