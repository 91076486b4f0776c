// cflags:
/* Runs until killed, for attach tests (docs/edge-cases.md §3): every 10 ms the only
 * thread forks a child that execs /bin/true, then reaps it. `forks` counts
 * the forks done so far and `bad` the children that did not exit 0. */
#include <sys/wait.h>
#include <unistd.h>

volatile long forks, bad;

int main(void)
{
    for (;;) {
        int pid = fork();
        if (pid == 0) {
            execl("/bin/true", "true", (char *)0);
            _exit(127);
        }
        if (pid > 0) {
            int st;
            forks++;
            if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                bad++;
        }
        usleep(10000);
    }
}
