// cflags: -pthread
/* Workloads scale_*: the cost of one event while many other processes live.
 *
 *     scale_loop N KIND PROCS
 *
 * First forks PROCS - 1 children that sit in pause() (the tracers follow
 * them: idle tracees), then times N events of KIND in the main process:
 *   bp       N calls of hit() (the tracers put a breakpoint on it)
 *   syscall  N getppid() system calls
 *   fork     N times fork + _exit + waitpid
 *   thread   N times pthread_create + join
 * then kills and reaps the idle children. The clock covers the N events only. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench_common.h"

volatile long sink;

__attribute__((noinline)) void hit(long i)
{
    sink += i;
}

static void *body(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    const char *kind = argc > 2 ? argv[2] : "bp";
    long procs = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    if (procs < 1 || procs > 100000)
        return 91;
    pid_t *idle = calloc((size_t)procs, sizeof *idle);
    if (!idle)
        return 94;
    for (long i = 0; i < procs - 1; i++) {
        idle[i] = fork();
        if (idle[i] < 0)
            return 92;
        if (idle[i] == 0) {
            for (;;)
                pause();
        }
    }
    long long t0 = now_ns();
    if (!strcmp(kind, "bp")) {
        for (long i = 0; i < n; i++)
            hit(i);
    } else if (!strcmp(kind, "syscall")) {
        for (long i = 0; i < n; i++)
            syscall(SYS_getppid);
    } else if (!strcmp(kind, "fork")) {
        for (long i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid < 0)
                return 92;
            if (pid == 0)
                _exit(0);
            int status;
            if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 93;
        }
    } else if (!strcmp(kind, "thread")) {
        for (long i = 0; i < n; i++) {
            pthread_t t;
            void *ret;
            if (pthread_create(&t, NULL, body, (void *)i) != 0)
                return 92;
            if (pthread_join(t, &ret) != 0 || ret != (void *)i)
                return 93;
        }
    } else {
        return 95;
    }
    long long elapsed = now_ns() - t0;
    for (long i = 0; i < procs - 1; i++)
        kill(idle[i], SIGKILL);
    for (long i = 0; i < procs - 1; i++)
        if (waitpid(idle[i], NULL, 0) != idle[i])
            return 96;
    report(elapsed, n);
    return 0;
}
