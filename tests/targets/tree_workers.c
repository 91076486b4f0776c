// cflags: -pthread
/* tree_workers: a busy process tree. usage: tree_workers [procs=10]
 * [threads=4] [churn=0]
 * The first process forks procs-1 children; every process runs `threads`
 * threads that call bump() in a loop forever. bump()'s first instruction
 * (lock incq) is not one tether emulates, so a breakpoint there is stepped
 * over with the int3 lifted, under the step-over lock.
 * With churn=1 every process also, in its main thread, forks a short-lived
 * child that exits at once (reaped), creates and joins a short-lived
 * thread, and sends itself SIGUSR1 (handled: counted), in a loop.
 * Prints "ready <pid>" per process once its threads run. Never exits by
 * itself: tests kill it. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long counter;
volatile long usr1_seen;
void bump(void);
__asm__(".text\n"
        ".globl bump\n"
        ".type bump, @function\n"
        "bump:\n"
        "    lock incq counter(%rip)\n"
        "    ret\n");

static void *worker(void *arg)
{
    (void)arg;
    for (;;)
        bump();
    return NULL;
}

static void *short_lived(void *arg)
{
    bump();
    return arg;
}

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen++;
}

static void live(int threads, int churn)
{
    pthread_t th;
    for (int i = 0; i < threads; i++)
        pthread_create(&th, NULL, worker, NULL);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    if (!churn)
        for (;;)
            pause();
    signal(SIGUSR1, on_usr1);
    for (;;) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        if (pthread_create(&th, NULL, short_lived, NULL) == 0)
            pthread_join(th, NULL);
        kill(getpid(), SIGUSR1);
        usleep(2000);
    }
}

int main(int argc, char **argv)
{
    int procs = argc > 1 ? atoi(argv[1]) : 10;
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    int churn = argc > 3 ? atoi(argv[3]) : 0;
    for (int i = 1; i < procs; i++) {
        pid_t pid = fork();
        if (pid == 0)
            break;
    }
    live(threads, churn);
    return 0;
}
