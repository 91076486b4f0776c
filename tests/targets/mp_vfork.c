// cflags:
/* vfork and the library calls built on it (docs/edge-cases.md §4, §5). argv[1]:
 *  exec    vfork(); the child execs /bin/true           -> exit 40 + status
 *  exit    vfork(); the child calls _exit(3)              -> exit 43
 *  callfn  vfork(); the child calls child_fn() (which runs in the parent's
 *          memory, so it sees the parent's breakpoints) then execs
 *          /bin/true                                      -> exit 40
 *  spawn   posix_spawn("/bin/echo", "spawned")            -> exit 0 iff status 0
 *  system  system("true")                                 -> exit 0 iff status 0
 *  popen   popen("echo hi", "r"), reads "hi"              -> exit 0 iff all fine
 * After each child is created the parent calls parent_after(). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
volatile long sink;

__attribute__((noinline)) void parent_after(int pid) { sink = pid; }
__attribute__((noinline)) int child_fn(int x)
{
    int s = 0;
    for (int i = 0; i < 100; i++)
        s += i ^ x;
    return s;
}

static int status_code(int st)
{
    if (WIFEXITED(st))
        return 40 + WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 60 + WTERMSIG(st);
    return 92;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "exec";
    int st, pid;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(mode, "exec") == 0 || strcmp(mode, "exit") == 0 || strcmp(mode, "callfn") == 0) {
        pid = vfork();
        if (pid == 0) {
            if (strcmp(mode, "exit") == 0)
                _exit(3);
            if (strcmp(mode, "callfn") == 0)
                sink = child_fn(7);
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        if (pid < 0)
            return 90;
        parent_after(pid);
        if (waitpid(pid, &st, 0) != pid)
            return 91;
        return status_code(st);
    }
    if (strcmp(mode, "spawn") == 0) {
        char *args[] = {"echo", "spawned", NULL};
        if (posix_spawn(&pid, "/bin/echo", NULL, NULL, args, environ) != 0)
            return 90;
        parent_after(pid);
        if (waitpid(pid, &st, 0) != pid)
            return 91;
        return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : status_code(st);
    }
    if (strcmp(mode, "system") == 0) {
        st = system("true");
        parent_after(0);
        return (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : 93;
    }
    if (strcmp(mode, "popen") == 0) {
        char line[64] = {0};
        FILE *f = popen("echo hi", "r");
        if (!f)
            return 90;
        parent_after(0);
        if (!fgets(line, sizeof line, f))
            return 94;
        st = pclose(f);
        if (strcmp(line, "hi\n") != 0)
            return 95;
        return (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : 96;
    }
    return 2;
}
