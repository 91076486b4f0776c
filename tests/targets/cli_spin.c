// cflags: -pthread
/* Runs until killed, for attaching: a second thread sleeps in a loop, the
 * main thread calls tick() and writes "t" to /dev/null every 10 ms. Prints
 * "ready\n" once both run. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

volatile long sink;

__attribute__((noinline)) void tick(void) { sink++; }

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        usleep(50000);
    return NULL;
}

int main(void)
{
    pthread_t th;
    int fd = open("/dev/null", O_WRONLY);
    pthread_create(&th, NULL, sleeper, NULL);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        tick();
        if (write(fd, "t", 1) != 1)
            return 1;
        usleep(10000);
    }
}
