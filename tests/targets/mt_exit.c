// cflags: -pthread
/* The ways a multithreaded process (or one of its threads) ends. argv[1]:
 *  leader_exit  main calls pthread_exit() while two workers run; worker 2
 *               calls late_mark() after the leader is gone; exit status 0.
 *  group_exit   4 workers block; worker 3 calls exit_group(7).
 *  segv         8 workers; worker 5 dereferences NULL (SIGSEGV kills all).
 *  thread_kill  main sends SIGTERM to one worker with pthread_kill(); the
 *               default action of a fatal signal kills the whole process.
 *  early_exit   worker 1 returns at once; main joins it, then calls mark()
 *               while worker 2 still spins; then everything ends with 0.
 *  fork_leader_exit  a worker thread (not the leader) forks; in the child,
 *               the forking thread is the leader and does what leader_exit
 *               does; the parent waits for the child and exits with its
 *               status. (Options a tracer sets are inherited from the
 *               creating *thread*: the child's leader is made by a non-leader.) */
#include <sys/wait.h>
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile int go_on;      /* releases spinning workers */
volatile int tids[16];
volatile long sink;

__attribute__((noinline)) void mark(void) { sink++; }
__attribute__((noinline)) void late_mark(void) { sink++; }

static void *sleeper(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = (int)syscall(SYS_gettid);
    usleep(100000 * (i + 1));
    if (i == 1) {
        late_mark();
        printf("worker 2 done\n");
    }
    return NULL;
}

static void *blocker(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = (int)syscall(SYS_gettid);
    if (i == 3) {
        usleep(50000);
        syscall(SYS_exit_group, 7);
    }
    for (;;)
        pause();
    return NULL;
}

static void *crasher(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = (int)syscall(SYS_gettid);
    if (i == 5) {
        usleep(50000);
        *(volatile int *)0 = 1;
    }
    for (;;)
        pause();
    return NULL;
}

static void leader_exit(pthread_t *th)
{
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, sleeper, (void *)(long)i);
    pthread_exit(NULL);
}

static void *forker(void *arg)
{
    (void)arg;
    pid_t child = fork();
    if (child == 0) {
        pthread_t th[2];
        leader_exit(th);
    }
    int status = 0;
    waitpid(child, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
    return NULL;
}

static void *spinner(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = (int)syscall(SYS_gettid);
    if (i == 1)
        return NULL;
    while (!go_on)
        sink++;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "leader_exit";
    pthread_t th[16];

    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(mode, "leader_exit") == 0) {
        leader_exit(th);
    } else if (strcmp(mode, "fork_leader_exit") == 0) {
        pthread_create(&th[0], NULL, forker, NULL);
        for (;;)
            pause();
    } else if (strcmp(mode, "group_exit") == 0) {
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, blocker, (void *)(long)i);
        for (;;)
            pause();
    } else if (strcmp(mode, "segv") == 0) {
        for (int i = 0; i < 8; i++)
            pthread_create(&th[i], NULL, crasher, (void *)(long)i);
        for (;;)
            pause();
    } else if (strcmp(mode, "thread_kill") == 0) {
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, blocker, (void *)(long)(i + 8));
        usleep(50000);
        pthread_kill(th[1], SIGTERM);
        for (;;)
            pause();
    } else if (strcmp(mode, "early_exit") == 0) {
        for (int i = 1; i <= 2; i++)
            pthread_create(&th[i], NULL, spinner, (void *)(long)i);
        pthread_join(th[1], NULL);
        mark();
        go_on = 1;
        pthread_join(th[2], NULL);
        return 0;
    }
    return 2;
}
