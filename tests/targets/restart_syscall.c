/* restart_syscall: a read() interrupted by a signal whose handler makes
 * the data available.
 * argv[1] == "restart": the SIGALRM handler is installed with SA_RESTART, so
 *   the kernel restarts the read and it returns 1 ("read1=1").
 * otherwise: no SA_RESTART, the read fails with EINTR ("read1=-1 EINTR")
 *   and a second read returns 1 ("read2=1").
 * The timer fires 200 ms after "blocking" is printed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int fds[2];

static void on_alarm(int sig)
{
    (void)sig;
    write(fds[1], "x", 1);
}

int main(int argc, char **argv)
{
    int restart = argc > 1 && strcmp(argv[1], "restart") == 0;
    char c;
    if (pipe(fds) != 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval timer = {{0, 0}, {0, 200000}};
    printf("blocking\n");
    fflush(stdout);
    setitimer(ITIMER_REAL, &timer, NULL);
    ssize_t n = read(fds[0], &c, 1);
    int err = errno;
    printf("read1=%zd%s\n", n, n < 0 && err == EINTR ? " EINTR" : "");
    if (n < 0) {
        n = read(fds[0], &c, 1);
        printf("read2=%zd\n", n);
    }
    fflush(stdout);
    return 0;
}
