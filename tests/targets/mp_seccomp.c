// cflags:
/* seccomp RET_TRACE (docs/edge-cases.md §31): a filter sends getpid to the tracer
 * (PTRACE_EVENT_SECCOMP). Without a tracer, or with one that did not ask
 * for PTRACE_O_TRACESECCOMP, such a system call fails with ENOSYS.
 * getpid is then called twice; exit 0 iff both return the real pid (read
 * from /proc/self/stat, which does not use getpid). */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long pid_from_proc(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    long pid = -1;
    if (!f || fscanf(f, "%ld", &pid) != 1)
        pid = -1;
    if (f)
        fclose(f);
    return pid;
}

int main(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    long real = pid_from_proc();

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return 2;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 3;
    long a = syscall(SYS_getpid);
    long b = syscall(SYS_getpid);
    return (a == real && b == real) ? 0 : 1;
}
