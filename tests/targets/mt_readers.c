// cflags: -pthread
/* Per-thread system call state (docs/edge-cases.md §9 and §10): two reader threads
 * each block in read() on their own pipe; a third thread calls getpid() in
 * a loop until the readers are done. main releases the pipes in reverse
 * order (reader 1 first). Exit 0 iff each read() returned 1 (no EINTR). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static int pipes[2][2];
volatile int reader_tid[2];
volatile long read_ret[2] = {-100, -100};
volatile int readers_done;

static void *reader(void *arg)
{
    int i = (int)(long)arg;
    char c;
    reader_tid[i] = (int)syscall(SYS_gettid);
    ssize_t n = read(pipes[i][0], &c, 1);
    read_ret[i] = n < 0 ? -errno : n;
    __atomic_add_fetch(&readers_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *pidder(void *arg)
{
    (void)arg;
    while (readers_done < 2) {
        syscall(SYS_getpid);
        usleep(500);
    }
    return NULL;
}

int main(void)
{
    pthread_t r[2], p;
    for (int i = 0; i < 2; i++)
        if (pipe(pipes[i]) != 0)
            return 2;
    for (int i = 0; i < 2; i++)
        pthread_create(&r[i], NULL, reader, (void *)(long)i);
    pthread_create(&p, NULL, pidder, NULL);
    usleep(200000); /* both readers are blocked in read() by now */
    if (write(pipes[1][1], "b", 1) != 1)
        return 3;
    usleep(100000);
    if (write(pipes[0][1], "a", 1) != 1)
        return 3;
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    pthread_join(p, NULL);
    return (read_ret[0] == 1 && read_ret[1] == 1) ? 0 : 1;
}
