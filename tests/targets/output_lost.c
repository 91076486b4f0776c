// cflags: -pthread
/* A writer killed inside its write (tests/e2e/test_output_attribution.py):
 * the parent forks a child, then a thread of its writes BIG bytes of 'P' to
 * stdout in one write(2), which blocks once the pty is full (the test reads
 * nothing yet). 200 ms later the main thread ends the process (exit_group
 * kills the thread inside its write). The child waits for the parent's end
 * (end of file on a pipe whose write end only the parent held), then writes
 * "child after\n" and exits 0. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG (1 << 20)

static void *big_write(void *arg)
{
    (void)arg;
    char *buf = malloc(BIG);
    memset(buf, 'P', BIG);
    write(1, buf, BIG);
    return NULL;
}

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 90;
    pid_t pid = fork();
    if (pid < 0)
        return 91;
    if (pid == 0) {
        char c;
        close(p[1]);
        while (read(p[0], &c, 1) > 0)
            ;
        static const char msg[] = "child after\n";
        _exit(write(1, msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 92);
    }
    close(p[0]);
    pthread_t t;
    if (pthread_create(&t, NULL, big_write, NULL) != 0)
        return 93;
    usleep(200 * 1000);
    _exit(0);
}
