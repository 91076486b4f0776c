/* tether's bundled demo (`tether demo`): a small process tree with a bit of
 * everything `tether trace` shows.
 *
 *   demo                       the root process
 *   |- 2 threads               each calls work() and then exits
 *   |- child                   forks a grandchild, waits for it, exits 3
 *   |  `- grandchild           execs this program again with "echo"
 *   |                          (or /bin/echo if that fails) and exits 0
 *   `- victim                  raises SIGUSR1 (handled), then is killed by
 *                              SIGTERM from the root
 *
 * The root exits 0 when every child ended as planned, 1 otherwise. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long sink;
static volatile sig_atomic_t got_usr1;

/* Called by every thread and process: a function to count with -b work. */
__attribute__((noinline)) void work(int n)
{
    for (int i = 0; i < n; i++)
        sink += i;
}

static void *thread_main(void *arg)
{
    work((int)(long)arg);
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static int exec_echo(const char *self)
{
    char *again[] = {(char *)self, "echo", "hello from the grandchild", NULL};
    execv(self, again);
    char *fallback[] = {"/bin/echo", "hello from the grandchild", NULL};
    execv(fallback[0], fallback);
    return 127;  /* both failed */
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "echo") == 0) {
        /* The exec'd grandchild: print the rest of the arguments. */
        work(1);
        for (int i = 2; i < argc; i++)
            printf("%s%s", argv[i], i + 1 < argc ? " " : "\n");
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("demo: pid %d starting\n", (int)getpid());

    pthread_t threads[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, thread_main, (void *)(i + 10));
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);

    /* A child that forks a grandchild, which execs. */
    pid_t child = fork();
    if (child == 0) {
        work(2);
        pid_t grandchild = fork();
        if (grandchild == 0)
            _exit(exec_echo(argv[0]));
        int st;
        waitpid(grandchild, &st, 0);
        _exit(3);
    }

    /* A child that gets a signal it handles, then one that kills it. */
    int ready[2];
    if (pipe(ready) != 0)
        return 1;
    pid_t victim = fork();
    if (victim == 0) {
        close(ready[0]);
        signal(SIGUSR1, on_usr1);
        raise(SIGUSR1);
        if (write(ready[1], "k", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    char byte;
    if (read(ready[0], &byte, 1) == 1)
        kill(victim, SIGTERM);

    int st_child, st_victim, ok = 1;
    waitpid(child, &st_child, 0);
    waitpid(victim, &st_victim, 0);
    ok &= WIFEXITED(st_child) && WEXITSTATUS(st_child) == 3;
    ok &= WIFSIGNALED(st_victim) && WTERMSIG(st_victim) == SIGTERM;
    printf("demo: child exited %d, victim killed by signal %d\n",
           WIFEXITED(st_child) ? WEXITSTATUS(st_child) : -1,
           WIFSIGNALED(st_victim) ? WTERMSIG(st_victim) : -1);
    return ok ? 0 : 1;
}
