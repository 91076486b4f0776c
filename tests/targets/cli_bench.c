// cflags: -O2
/* Syscall-heavy, for `tether trace -e trace=all` against `strace -f`: forks once, then
 * parent and child each make N (argv[1], default 20000) getppid() and N
 * write(fd, "0123456789", 10) calls to /dev/null. Exits 0. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        return 1;
    pid_t child = fork();
    for (int i = 0; i < n; i++) {
        getppid();
        if (write(fd, "0123456789", 10) != 10)
            return 1;
    }
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    return 0;
}
