// cflags: -pthread
/* compat: small behaviours libdebug scripts rely on, chosen by argv[1].
 * Every mode first prints "ready" and ends by calling work(21) (which calls
 * leaf()) and printing "bye", then exits with status 3.
 *   plain    nothing more
 *   segv     prints "falling", then fault() writes through a NULL pointer
 *   threads  three threads each call leaf(i) and return; main joins them
 *   spin     calls getpid() and leaf(1) forever
 *   signals  raises SIGUSR1 then SIGUSR2 (no handlers: each kills by default)
 *   syscalls calls getpid() and getppid() three times each */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile long total;

__attribute__((noinline)) void fault(void) { *(volatile int *)0 = 1; }
__attribute__((noinline)) void leaf(long x) { total += x; }
__attribute__((noinline)) long work(long x) { leaf(x); return 2 * x; }

static void *thread_body(void *arg) { leaf((long)arg); return NULL; }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "plain";
    printf("ready\n");
    fflush(stdout);
    if (!strcmp(mode, "segv")) {
        printf("falling\n");
        fflush(stdout);
        fault();
    } else if (!strcmp(mode, "threads")) {
        pthread_t t[3];
        for (long i = 0; i < 3; i++)
            pthread_create(&t[i], NULL, thread_body, (void *)i);
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
    } else if (!strcmp(mode, "spin")) {
        for (;;) {
            getpid();
            leaf(1);
        }
    } else if (!strcmp(mode, "signals")) {
        raise(SIGUSR1);
        raise(SIGUSR2);
    } else if (!strcmp(mode, "syscalls")) {
        for (int i = 0; i < 3; i++) {
            getpid();
            getppid();
        }
    }
    work(21);
    printf("bye\n");
    fflush(stdout);
    return 3;
}
