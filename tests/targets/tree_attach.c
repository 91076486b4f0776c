// cflags: -pthread
/* A running process tree for attach(pid, tree=True) (docs/edge-cases.md §25):
 *
 *   root      2 ticker threads
 *   ├─ a      2 ticker threads
 *   │  └─ a1  1 ticker thread
 *   ├─ b      stops itself with SIGSTOP at once (a job-control stop), then
 *   │         1 ticker thread once continued
 *   └─ f      a thread that forks all the time: each child calls blip() and
 *             exits 0; f reaps it and calls forked()
 *
 * Each long-lived process writes "ready <pid>\n" on stdout when its threads
 * run, blocks SIGUSR2, and reads stdin in its main thread until end of file;
 * then its threads stop, it reaps its children and exits 0 only if each of
 * them exited 0 and its signal mask is still the one it set (so the root
 * exits 0 only if the whole tree ran on unchanged). A process killed by a
 * stray int3 (SIGTRAP) or stopped for good makes the root fail or hang. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int done;
static volatile long ticks, blips, forks;
static volatile int failed;

__attribute__((noinline)) void tick(void) { ticks++; }
__attribute__((noinline)) void blip(void) { blips++; }
__attribute__((noinline)) void forked(void) { forks++; }

static void *ticker(void *arg)
{
    (void)arg;
    while (!done) {
        tick();
        usleep(1000);
    }
    return NULL;
}

static void *forker(void *arg)
{
    (void)arg;
    while (!done) {
        pid_t c = fork();
        if (c == 0) {
            blip();
            _exit(0);
        }
        if (c > 0) {
            int st;
            if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "tree_attach: child %d of %d: status %#x\n", (int)c,
                        (int)getpid(), st);
                failed = 1;
            }
            forked();
        }
        usleep(200);
    }
    return NULL;
}

static void say_ready(void)
{
    char line[32];
    int n = snprintf(line, sizeof line, "ready %d\n", (int)getpid());
    if (write(1, line, n) != n)
        failed = 1;
}

/* Run `n` threads of `fn` until stdin ends; reap the children; exit. */
static void serve(int n, void *(*fn)(void *))
{
    sigset_t want, now;
    sigemptyset(&want);
    sigaddset(&want, SIGUSR2);
    pthread_sigmask(SIG_SETMASK, &want, NULL);
    pthread_t t[4];
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, fn, NULL);
    say_ready();
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    done = 1;
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    int st;
    pid_t c;
    while ((c = wait(&st)) > 0)
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "tree_attach: child %d of %d: status %#x\n", (int)c,
                    (int)getpid(), st);
            failed = 1;
        }
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    int same = 1;
    for (int sig = 1; sig < 65; sig++)
        if (sigismember(&want, sig) != sigismember(&now, sig))
            same = 0;
    if (!same) {
        fprintf(stderr, "tree_attach: %d: signal mask changed\n", (int)getpid());
        failed = 1;
    }
    exit(failed ? 1 : 0);
}

int main(void)
{
    if (fork() == 0) {          /* a */
        if (fork() == 0)        /* a1 */
            serve(1, ticker);
        serve(2, ticker);
    }
    if (fork() == 0) {          /* b */
        raise(SIGSTOP);
        serve(1, ticker);
    }
    if (fork() == 0)            /* f */
        serve(1, forker);
    serve(2, ticker);
}
