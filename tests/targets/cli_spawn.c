// cflags:
/* Children made three ways, for the fork/vfork/clone labels of `tether trace`:
 * posix_spawn("/bin/echo", "spawned") (glibc: clone3 or clone with
 * CLONE_VM|CLONE_VFORK), vfork() + _exit(2), then fork() + _exit(3).
 * Exits 0 when all three children ended as planned. */
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
    int st, ok = 1;
    pid_t p;
    char *argv[] = {"/bin/echo", "spawned", NULL};
    if (posix_spawn(&p, argv[0], NULL, NULL, argv, environ) != 0)
        return 10;
    ok &= waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    p = vfork();
    if (p == 0)
        _exit(2);
    ok &= waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 2;
    p = fork();
    if (p == 0)
        _exit(3);
    ok &= waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 3;
    return ok ? 0 : 1;
}
