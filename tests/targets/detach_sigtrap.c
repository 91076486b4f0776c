// cflags: -pthread
/* detach_sigtrap SECONDS: a worker thread prints "worker <tid>" and spins
 * until a SIGTRAP reaches it or SECONDS pass; the SIGTRAP handler notes
 * which thread got it and the signal's si_code. Then the program prints
 * "traps=<n> in_worker=<0|1> si_code=<code> r11=<hex>" (r11 where the
 * signal found the thread: a debugger may have set it) and exits 0. A
 * SIGTRAP sent to the worker (tgkill) while a debugger holds the program
 * and then lets it go must reach the handler, as it would untraced. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int traps, in_worker, code;
static volatile unsigned long r11;
static pid_t worker_tid;

static void on_trap(int sig, siginfo_t *info, void *uc_)
{
    (void)sig;
    ucontext_t *uc = uc_;
    r11 = uc->uc_mcontext.gregs[REG_R11];
    traps++;
    code = info->si_code;
    in_worker = gettid() == worker_tid;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double seconds;

__attribute__((noinline)) void spin_once(void)
{
    __asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = gettid();
    printf("worker %d\n", worker_tid);
    fflush(stdout);
    double end = now() + seconds;
    while (!traps && now() < end)
        spin_once();
    return NULL;
}

int main(int argc, char **argv)
{
    seconds = argc > 1 ? atof(argv[1]) : 10;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTRAP, &sa, NULL);
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    pthread_join(th, NULL);
    printf("traps=%d in_worker=%d si_code=%d r11=%#lx\n", traps, in_worker, code, r11);
    return 0;
}
