// cflags: -pthread
/* A reader thread blocks in read() while main hits mark().
 * mode "pipe" (default): the reader reads an internal pipe that main writes
 *   one byte to after mark(); exit 0 iff read() returned exactly that byte.
 * mode "stdin": the reader reads a line from stdin; exit 0 iff it is "hello".
 * Any EINTR seen by the program is a failure (exit 4): stopping the world
 * must not leak interrupted system calls into the program. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fds[2];
static int use_stdin;
volatile int reader_tid;
volatile int result = -1;
volatile long sink;

__attribute__((noinline)) void mark(void) { sink++; }

void *reader(void *arg)
{
    char buf[64] = {0};
    ssize_t n;
    (void)arg;
    reader_tid = (int)syscall(SYS_gettid);
    n = read(use_stdin ? 0 : fds[0], buf, sizeof buf - 1);
    if (n < 0 && errno == EINTR)
        result = 4;
    else if (use_stdin)
        result = (n == 6 && memcmp(buf, "hello\n", 6) == 0) ? 0 : 5;
    else
        result = (n == 1 && buf[0] == 'x') ? 0 : 6;
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th;
    use_stdin = argc > 1 && strcmp(argv[1], "stdin") == 0;
    if (pipe(fds) != 0)
        return 2;
    pthread_create(&th, NULL, reader, NULL);
    usleep(100000); /* let the reader block in read() */
    mark();
    if (!use_stdin && write(fds[1], "x", 1) != 1)
        return 3;
    pthread_join(th, NULL);
    return result;
}
