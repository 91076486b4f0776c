// cflags: -pthread
/* mt_displaced: functions whose first instruction tether's emulator refuses
 * (so a breakpoint there is run out of line, in the displaced-step slot at
 * the entry point), called by 8 threads. Modes (argv[1]):
 *   threads N   each thread calls every function N times; prints the results
 *   fork N      the same, while the main thread forks children that check
 *               that the entry point's bytes are the program's own
 *   signal N    each thread copies 8 MiB with one `rep movsb` N times while
 *               the main thread sends them SIGUSR1; the handler checks that
 *               it never finds the thread's pc in the entry point's bytes
 *   ud2 N       each thread runs a ud2 N times; the SIGILL handler checks
 *               that the faulting pc is the ud2's own address, and skips it
 * Every mode prints its results, which the tests compare with an untraced
 * run, and whether the entry point's bytes are the program's own (while
 * breakpoints are set they are tether's slot, as the int3s are tether's:
 * after a detach they must be back). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define THREADS 8
#define BIG (8 << 20)

extern char _start[];
static unsigned char start_bytes[16];
static long calls;
static const char *mode;

volatile long counter;
const int table[4] __attribute__((aligned(16))) = {1, 2, 3, 4};
const long rsi_source = 0x1122334455667788;

long bump(void);                 /* lock incq counter(%rip) */
void load4(int *out);            /* movdqu table(%rip), %xmm0 */
long via_rsi(void);              /* mov rsi_source(%rip), %rsi */
void copy(void *dst, const void *src, long n);   /* its rep movsb: copy_rep */
long cpu_vendor(void);           /* cpuid */
void trap_ud2(void);             /* ud2 */
void hop(void);                  /* jmp: not run out of line (the lock path) */
__asm__(".text\n"
        ".globl hop\n.type hop, @function\n"
        "hop:\n"
        "    jmp 1f\n"
        "1:  lock incq counter(%rip)\n"
        "    ret\n"
        ".globl bump\n.type bump, @function\n"
        "bump:\n"
        "    lock incq counter(%rip)\n"
        "    ret\n"
        ".globl load4\n.type load4, @function\n"
        "load4:\n"
        "    movdqu table(%rip), %xmm0\n"
        "    movdqu %xmm0, (%rdi)\n"
        "    ret\n"
        ".globl via_rsi\n.type via_rsi, @function\n"
        "via_rsi:\n"
        "    push %rsi\n"
        "    push %rdi\n"
        "    mov $7, %rdi\n"
        ".globl via_rsi_load\n"
        "via_rsi_load:\n"
        "    mov rsi_source(%rip), %rsi\n"   /* rsi named: rdi holds the address */
        "    lea (%rsi,%rdi), %rax\n"
        "    pop %rdi\n"
        "    pop %rsi\n"
        "    ret\n"
        ".globl copy\n.type copy, @function\n"
        "copy:\n"
        "    mov %rdx, %rcx\n"
        ".globl copy_rep\n"
        "copy_rep:\n"
        "    rep movsb\n"
        "    ret\n"
        ".globl cpu_vendor\n.type cpu_vendor, @function\n"
        "cpu_vendor:\n"
        "    push %rbx\n"
        "    xor %eax, %eax\n"
        ".globl cpu_vendor_cpuid\n"
        "cpu_vendor_cpuid:\n"
        "    cpuid\n"
        "    mov %ebx, %eax\n"
        "    pop %rbx\n"
        "    ret\n"
        ".globl trap_ud2\n.type trap_ud2, @function\n"
        "trap_ud2:\n"
        "    ud2\n"
        "    ret\n");

extern char trap_ud2_label[] __asm__("trap_ud2");
static volatile long bad_pc, sigusr1_seen, sigill_seen;

static int in_slot(unsigned long pc)
{
    return pc >= (unsigned long)_start && pc < (unsigned long)_start + 16;
}

static void on_usr1(int sig, siginfo_t *info, void *uc_)
{
    (void)sig; (void)info;
    ucontext_t *uc = uc_;
    if (in_slot(uc->uc_mcontext.gregs[REG_RIP]))
        __atomic_add_fetch(&bad_pc, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&sigusr1_seen, 1, __ATOMIC_RELAXED);
}

static void on_ill(int sig, siginfo_t *info, void *uc_)
{
    (void)sig;
    ucontext_t *uc = uc_;
    unsigned long pc = uc->uc_mcontext.gregs[REG_RIP];
    if (pc != (unsigned long)trap_ud2_label || info->si_addr != (void *)trap_ud2_label)
        __atomic_add_fetch(&bad_pc, 1, __ATOMIC_RELAXED);
    uc->uc_mcontext.gregs[REG_RIP] = pc + 2;   /* skip the ud2 */
    __atomic_add_fetch(&sigill_seen, 1, __ATOMIC_RELAXED);
}

static long sums[THREADS];
static long bad_results;

static void *worker(void *arg)
{
    long id = (long)arg, sum = 0;
    if (!strcmp(mode, "signal")) {
        char *a = malloc(BIG), *b = malloc(BIG);
        for (long i = 0; i < calls; i++) {
            memset(a, (int)(i + id), BIG);
            copy(b, a, BIG);
            if (b[0] != a[0] || b[BIG - 1] != a[BIG - 1] || b[BIG / 2] != a[BIG / 2])
                __atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
        }
        free(a);
        free(b);
        return NULL;
    }
    if (!strcmp(mode, "ud2")) {
        for (long i = 0; i < calls; i++)
            trap_ud2();
        return NULL;
    }
    long vendor = cpu_vendor();
    for (long i = 0; i < calls; i++) {
        int four[4];
        char src[64], dst[64];
        bump();
        hop();
        load4(four);
        sum += four[0] + four[1] + four[2] + four[3];
        if (via_rsi() != rsi_source + 7)
            __atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
        memset(src, (int)i, sizeof src);
        copy(dst, src, sizeof dst);
        if (memcmp(src, dst, sizeof dst))
            __atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
        if (cpu_vendor() != vendor)
            __atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
    }
    sums[id] = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "threads";
    calls = argc > 2 ? atol(argv[2]) : 100;
    memcpy(start_bytes, _start, 16);
    struct sigaction sa = {0};
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sa.sa_sigaction = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_sigaction = on_ill;
    sigaction(SIGILL, &sa, NULL);
    bump();   /* one hit before the threads (and the forks) */
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    long children = 0, bad_children = 0, signals = 0;
    if (!strcmp(mode, "fork")) {
        for (int k = 0; k < 20; k++) {
            pid_t pid = fork();
            if (pid == 0)
                _exit(memcmp(start_bytes, _start, 16) != 0);
            int status;
            waitpid(pid, &status, 0);
            children++;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                bad_children++;
        }
    } else if (!strcmp(mode, "signal")) {
        /* Until the workers are done: SIGUSR1 to each, again and again. */
        for (int round = 0; round < 400; round++) {
            for (int i = 0; i < THREADS; i++)
                if (pthread_kill(th[i], 0) == 0 && pthread_kill(th[i], SIGUSR1) == 0)
                    signals++;
            usleep(500);
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    long total = 0;
    for (int i = 0; i < THREADS; i++)
        total += sums[i];
    printf("counter=%ld sum=%ld bad_results=%ld\n", counter, total, bad_results);
    printf("children=%ld bad_children=%ld bad_pc=%ld sigill=%ld\n", children, bad_children,
           bad_pc, sigill_seen);
    printf("start_intact=%d\n", memcmp(start_bytes, _start, 16) == 0);
    fflush(stdout);
    return bad_results || bad_children || bad_pc;
}
