/* syscalls_mix: a fixed sequence of raw system calls whose effects are
 * printed, so syscall handlers and hijacks are observable:
 *   1. write(1, "ABCDEFGHIJ\n", 11)          (the "marker" write)
 *   2. getpid()   -> printed as "pid=<n>"
 *   3. getppid()  -> printed as "ppid=<n>"
 *   4. mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
 *      (six arguments) -> "mmap=ok" or "mmap=failed"
 *   5. getuid()   -> "uid=<n>"
 * Every line is written with a raw write(2); the program exits with 0. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *text)
{
    syscall(SYS_write, 1, text, strlen(text));
}

int main(void)
{
    char line[64];
    syscall(SYS_write, 1, "ABCDEFGHIJ\n", 11);
    long pid = syscall(SYS_getpid);
    snprintf(line, sizeof line, "pid=%ld\n", pid);
    say(line);
    long ppid = syscall(SYS_getppid);
    snprintf(line, sizeof line, "ppid=%ld\n", ppid);
    say(line);
    long m = syscall(SYS_mmap, 0L, 4096L, (long)(PROT_READ | PROT_WRITE), (long)(MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
    say(m == -1 || (unsigned long)m > -4096UL ? "mmap=failed\n" : "mmap=ok\n");
    long uid = syscall(SYS_getuid);
    snprintf(line, sizeof line, "uid=%ld\n", uid);
    say(line);
    say("end\n");
    return 0;
}
