// cflags: -pthread
/* two_blocking_threads: two threads each block in read() on their own pipe
 * at the same time; after 300 ms the main thread releases them in reverse
 * order (pipe B, then 100 ms later pipe A). Each thread prints what its
 * read returned. No other thread calls read(). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int pipe_a[2], pipe_b[2];

static void *reader(void *arg)
{
    int *p = arg;
    char c;
    ssize_t n = read(p[0], &c, 1);
    printf("%s got %zd\n", p == pipe_a ? "A" : "B", n);
    fflush(stdout);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    if (pipe(pipe_a) || pipe(pipe_b))
        return 1;
    pthread_create(&a, NULL, reader, pipe_a);
    pthread_create(&b, NULL, reader, pipe_b);
    usleep(300000);
    write(pipe_b[1], "b", 1);
    usleep(100000);
    write(pipe_a[1], "a", 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("joined\n");
    fflush(stdout);
    return 0;
}
