// cflags:
/* Job control must look the same with and without a debugger
 * (docs/edge-cases.md §17, §18, §19). argv[1]:
 *  selfstop    the child raise(SIGSTOP)s; the parent's waitpid(WUNTRACED)
 *              must report exactly one stop, by SIGSTOP; the parent sends
 *              SIGCONT and the child exits 0.              -> exit 0
 *  tstp        the child has a SIGTSTP handler and raise(SIGTSTP)s: the
 *              handler runs, nobody stops.                 -> exit 0
 *  parentstop  the parent SIGSTOPs its ticking child, checks with
 *              waitpid(WUNTRACED) and a shared tick counter that it really
 *              stopped, SIGCONTs it (waitpid(WCONTINUED)), checks that it
 *              ticks again, then SIGTERMs it.              -> exit 0
 *  nostop      the child sleeps 300 ms and exits 0; the parent reports
 *              every stop/continue waitpid(WUNTRACED|WCONTINUED) sees:
 *              there must be none.                         -> exit 0
 *  hold        no child: SIGUSR1 handler counts; main calls hold_here(),
 *              then sleeps 100 ms.                 -> exit 10 + handler runs
 * Other exit codes name the step that failed. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile long sink;
static volatile sig_atomic_t got;
static void on_sig(int s) { (void)s; got++; }

__attribute__((noinline)) void hold_here(void) { sink++; }

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Wait for `pid` until it exits; count the stops and continues seen on the
 * way, resuming every stop so nothing deadlocks. */
static int wait_counting(int pid, int *stops, int *conts, int *first_stop_sig)
{
    int st;
    for (;;) {
        if (waitpid(pid, &st, WUNTRACED | WCONTINUED) != pid)
            return -1;
        if (WIFSTOPPED(st)) {
            printf("stopped sig=%d\n", WSTOPSIG(st));
            if ((*stops)++ == 0)
                *first_stop_sig = WSTOPSIG(st);
            kill(pid, SIGCONT);
        } else if (WIFCONTINUED(st)) {
            printf("continued\n");
            (*conts)++;
        } else {
            printf("ended status=%#x\n", st);
            return st;
        }
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "selfstop";
    int stops = 0, conts = 0, sig = 0, st, pid;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(mode, "hold") == 0) {
        signal(SIGUSR1, on_sig);
        hold_here();
        usleep(100000);
        return 10 + got;
    }
    if (strcmp(mode, "selfstop") == 0 || strcmp(mode, "tstp") == 0 || strcmp(mode, "nostop") == 0) {
        int tstp = strcmp(mode, "tstp") == 0;
        if (tstp)
            signal(SIGTSTP, on_sig); /* inherited by the child */
        pid = fork();
        if (pid == 0) {
            if (strcmp(mode, "selfstop") == 0)
                raise(SIGSTOP);
            else if (tstp)
                raise(SIGTSTP);
            else
                usleep(300000);
            _exit(tstp && got != 1 ? 1 : 0);
        }
        st = wait_counting(pid, &stops, &conts, &sig);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 3;
        if (strcmp(mode, "selfstop") == 0)
            return (stops == 1 && sig == SIGSTOP) ? 0 : 4;
        return stops == 0 && conts == 0 ? 0 : 5;
    }
    if (strcmp(mode, "parentstop") == 0) {
        volatile long *ticks = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (ticks == MAP_FAILED)
            return 2;
        pid = fork();
        if (pid == 0)
            for (;;) {
                (*ticks)++;
                usleep(1000);
            }
        while (*ticks < 5)
            usleep(1000);
        kill(pid, SIGSTOP);
        if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
            return 6;
        long before = *ticks;
        usleep(100000);
        if (*ticks != before)
            return 7; /* "stopped" but still running */
        kill(pid, SIGCONT);
        if (waitpid(pid, &st, WCONTINUED) != pid || !WIFCONTINUED(st))
            return 8;
        long deadline = now_ms() + 5000;
        while (*ticks < before + 5 && now_ms() < deadline)
            usleep(1000);
        if (*ticks < before + 5)
            return 9; /* continued but not running */
        kill(pid, SIGTERM);
        if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
            return 10;
        return 0;
    }
    return 2;
}
