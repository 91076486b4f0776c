/* Workload syscall: N getppid() system calls (getppid is never cached by
 * glibc, and syscall() makes sure each one enters the kernel). */
#include <sys/syscall.h>
#include <unistd.h>
#include "bench_common.h"

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    report(now_ns() - t0, n);
    return 0;
}
