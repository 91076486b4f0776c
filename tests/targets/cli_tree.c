// cflags: -pthread
/* A small process tree for the `tether trace` tests.
 * usage: cli_tree CODE       CODE: the root's exit code, or "sigterm" to be
 *                            killed by SIGTERM at the end
 *        cli_tree leaf       (the exec'd grandchild)
 *
 * root: 2 threads, each calls counted() once; then counted() 3 times; raises
 *       SIGUSR1 (handled); forks A and B, waits for both; writes "tree done\n"
 *       with write(2); exits CODE.
 *   A:  calls counted() 2 times, forks G, waits for it, exits 5.
 *     G: execs this program with "leaf": writes "leaf\n", calls counted()
 *        once, exits 7.
 *   B:  kills itself with SIGTERM.
 * So `-b counted` counts root 5, A 2, G 1 (after its exec), B 0. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long sink;
static volatile sig_atomic_t got_usr1;

__attribute__((noinline)) void counted(int i) { sink += i; }

static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

static void *thread_main(void *arg)
{
    counted((int)(long)arg);
    return NULL;
}

static void say(const char *text)
{
    if (write(1, text, strlen(text)) < 0)
        _exit(99);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "leaf") == 0) {
        say("leaf\n");
        counted(1);
        return 7;
    }
    pthread_t th[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, thread_main, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++)
        counted(i);
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);

    pid_t a = fork();
    if (a == 0) {
        counted(1);
        counted(2);
        pid_t g = fork();
        if (g == 0) {
            char *again[] = {argv[0], "leaf", NULL};
            execv(argv[0], again);
            _exit(127);
        }
        waitpid(g, NULL, 0);
        _exit(5);
    }
    waitpid(a, NULL, 0);  /* A's subtree first: a fixed order for the tests */
    pid_t b = fork();
    if (b == 0) {
        kill(getpid(), SIGTERM);
        _exit(1);
    }
    waitpid(b, NULL, 0);
    say("tree done\n");
    if (argc > 1 && strcmp(argv[1], "sigterm") == 0) {
        signal(SIGTERM, SIG_DFL);
        kill(getpid(), SIGTERM);
    }
    return argc > 1 ? atoi(argv[1]) : 0;
}
