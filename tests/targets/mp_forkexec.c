// cflags:
/* usage: mp_forkexec PROGRAM [ARGS...]. The child execs PROGRAM as its very
 * first action after fork (docs/edge-cases.md §14); the parent exits 40 + the
 * child's exit status (60 + signal if it was killed). */
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int st;
    if (argc < 2)
        return 2;
    int pid = fork();
    if (pid == 0) {
        execv(argv[1], argv + 1);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 91;
    if (WIFEXITED(st))
        return 40 + WEXITSTATUS(st);
    return 60 + WTERMSIG(st);
}
