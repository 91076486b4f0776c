// cflags: -m32
/* i386_prog: a 32-bit program (gcc -m32) for tests/e2e/test_i386.py.
 * usage: i386_prog [PROGRAM ARGS...]
 * Calls add32() five times in a loop and once more, writes with a raw
 * `int $0x80`, asks getppid() through libc (i386 glibc enters the kernel
 * through the vDSO's __kernel_vsyscall: sysenter), recurses in inner() (for
 * backtraces), reports each result, then execs PROGRAM when given (a
 * 32-bit process exec'ing a 64-bit one), else exits with 7. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

volatile uint32_t counter = 0x1234;

__attribute__((noinline)) uint32_t add32(uint32_t a, uint32_t b)
{
    return a + b;
}

__attribute__((noinline)) void report(uint32_t value)
{
    printf("report %#x\n", value);
    fflush(stdout);
}

__attribute__((noinline)) void inner(int depth)
{
    if (depth > 0)
        inner(depth - 1);
    else
        counter++;
}

static long raw_write(int fd, const char *buf, unsigned len)
{
    long ret;
    /* i386 write is syscall 4: number in eax, arguments in ebx, ecx, edx. */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(4), "b"(fd), "c"(buf), "d"(len) : "memory");
    return ret;
}

int main(int argc, char **argv)
{
    uint32_t sum = 0;
    for (int i = 0; i < 5; i++)
        sum += add32(i, 0x100);
    report(sum);
    report(add32(0x11111111, 0x22222222));
    long n = raw_write(1, "int80\n", 6);
    printf("raw_write %ld\n", n);
    printf("ppid ok %d\n", getppid() > 0);
    inner(3);
    report(counter);
    fflush(stdout);
    if (argc > 1) {
        execv(argv[1], argv + 1);
        return 127;
    }
    return 7;
}
