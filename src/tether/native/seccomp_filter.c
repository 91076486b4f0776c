/*
 * seccomp_filter.c: installing the seccomp-bpf filter that makes only the
 * chosen system calls stop a tracee (the program itself is built in Python:
 * tether/arch/amd64/seccomp_bpf.py). Called by the spawned child just
 * before its execve (spawn.c), so the filter is in place from the program's
 * first instruction and is inherited by everything it forks, vforks or
 * clones, and kept across execve (seccomp(2)).
 *
 * The child shares the tracer's memory (CLONE_VM) and TLS: raw system calls
 * only, no libc wrapper (it would write errno, which is the tracer's).
 */
#include "native.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

/* A system call with its unused argument registers zeroed (prctl checks
 * that the arguments it does not use are 0). */
static long raw3(long n, long a, long b, long c)
{
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = 0;
    register long r9 __asm__("r9") = 0;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                     "r"(r9) : "rcx", "r11", "memory");
    return ret;   /* -errno on failure */
}

/* Install the filter of `len` bytes (struct sock_filter[]) at `code`:
 * 0, or -errno. Without CAP_SYS_ADMIN the kernel requires no_new_privs
 * first (seccomp(2), EACCES), so it is set only then: as root the program
 * keeps its set-user-ID behaviour. */
HIDDEN long install_seccomp_filter(const void *code, long len)
{
    struct sock_fprog prog = {(unsigned short)(len / sizeof(struct sock_filter)),
                              (struct sock_filter *)code};
    long rc = raw3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog);
    if (rc == -EACCES) {
        rc = raw3(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0);
        if (rc == 0)
            rc = raw3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog);
    }
    return rc;
}
