// cflags: -pthread
/* job_stop: stops itself with a stop signal, as a program under job control
 * does, then exits 3. usage: job_stop [threads=0] [signal=STOP|TSTP]
 * Starts `threads` threads that spin until main is continued, prints
 * "before", raise()s the signal (SIGSTOP or SIGTSTP, both without a handler:
 * the whole process stops), prints "after" once continued, joins and exits 3. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int go_on = 0;

static void *spin(void *arg)
{
    (void)arg;
    while (!go_on)
        ;
    return NULL;
}

__attribute__((noinline)) void stopped_here(void) { }

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 0;
    int sig = argc > 2 && strcmp(argv[2], "TSTP") == 0 ? SIGTSTP : SIGSTOP;
    pthread_t th[16];
    if (n > 16)
        n = 16;
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, spin, NULL);
    printf("before\n");
    fflush(stdout);
    raise(sig);
    stopped_here();
    go_on = 1;
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    printf("after\n");
    fflush(stdout);
    return 3;
}
