/* antidebug: the classic check "am I traced?": PTRACE_TRACEME fails when a
 * debugger is already attached. Prints "traceme=<return value>". */
#include <stdio.h>
#include <sys/ptrace.h>

int main(void)
{
    long r = ptrace(PTRACE_TRACEME, 0, 0, 0);
    printf("traceme=%ld\n", r);
    fflush(stdout);
    return 0;
}
