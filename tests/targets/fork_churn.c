// cflags:
/* fork_churn: forks argv[1] (default 1000) short-lived children one after
 * another; each exits at once with code 0 (argv[2] = "exec": each execs
 * /bin/true instead), and the parent reaps it before the next fork. Exits 0
 * if every child exited 0, 1 otherwise. A forking server's life, quickly. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int do_exec = argc > 2 && strcmp(argv[2], "exec") == 0;
    int bad = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (do_exec)
                execl("/bin/true", "true", (char *)0);
            _exit(0);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad = 1;
    }
    return bad;
}
