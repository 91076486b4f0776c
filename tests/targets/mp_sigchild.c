// cflags:
/* A signal sent to a new child before it ever ran (docs/edge-cases.md §2): the
 * SIGUSR1 handler is installed before fork (so the child inherits it) and
 * the parent sends SIGUSR1 right after fork returns. The child waits (at
 * most 5 s) for the handler, exits 0 if it ran exactly once, 1 if it never
 * ran. The parent exits 40 + the child's status. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_usr1(int s) { (void)s; got++; }

int main(void)
{
    int st;
    signal(SIGUSR1, on_usr1);
    int pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 5000 && !got; i++)
            usleep(1000);
        _exit(got == 1 ? 0 : 1);
    }
    if (pid < 0)
        return 90;
    kill(pid, SIGUSR1);
    if (waitpid(pid, &st, 0) != pid)
        return 91;
    if (WIFEXITED(st))
        return 40 + WEXITSTATUS(st);
    return 60 + WTERMSIG(st);
}
