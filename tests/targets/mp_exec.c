// cflags: -no-pie
/* Non-PIE exec source: usage mp_exec PROGRAM [ARGS...]. Calls
 * first_marker(), then execv(PROGRAM, [PROGRAM, ARGS...]).
 * never_called() is never run: tests put a breakpoint on it, and since
 * mp_exec_target (also non-PIE) has a long run of executed nops at the same
 * address, a stale breakpoint written into the new image would be hit.
 * pad() only pushes never_called() further into that range. */
#include <stdio.h>
#include <unistd.h>

volatile long sink;

__attribute__((noinline)) void pad(void)
{
    __asm__ volatile(".rept 512\n\tnop\n\t.endr");
}

__attribute__((noinline)) void never_called(void) { sink = 42; }
__attribute__((noinline)) void first_marker(void) { sink++; }
__attribute__((noinline)) void f1(void) { sink += 1; }
__attribute__((noinline)) void f2(void) { sink += 2; }
__attribute__((noinline)) void f3(void) { sink += 3; }
__attribute__((noinline)) void f4(void) { sink += 4; }

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    first_marker();
    execv(argv[1], argv + 1);
    perror("execv");
    return 127;
}
