/* signals: installs handlers for SIGUSR1 and SIGUSR2 that print
 * "handler SIGUSR1" / "handler SIGUSR2", then raises SIGUSR1, SIGUSR2,
 * SIGUSR1, calling between() after each, and prints "done".
 * Unhandled by a debugger, the output is:
 *   handler SIGUSR1 / handler SIGUSR2 / handler SIGUSR1 / done */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void say(const char *text)
{
    write(1, text, strlen(text));
}

static void handler(int sig)
{
    say(sig == SIGUSR1 ? "handler SIGUSR1\n" : sig == SIGUSR2 ? "handler SIGUSR2\n" : "handler other\n");
}

volatile int between_calls = 0;

__attribute__((noinline)) void between(void)
{
    between_calls++;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR1);
    between();
    raise(SIGUSR2);
    between();
    raise(SIGUSR1);
    between();
    say("done\n");
    return 0;
}
