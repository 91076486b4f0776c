/* spin: busy-loops calling tick() for argv[1] seconds (0 or absent: forever),
 * then prints "finished <ticks>" and, if argv[2] is given, creates that file
 * containing "done". Used for interrupt(), timeout=, attach/detach and
 * kill_on_exit tests. Prints "ready" first so an attacher knows it started. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long ticks = 0;

__attribute__((noinline)) void tick(void)
{
    ticks++;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0;
    printf("ready\n");
    fflush(stdout);
    double start = now();
    for (;;) {
        for (int i = 0; i < 100000; i++)
            tick();
        if (seconds > 0 && now() - start >= seconds)
            break;
    }
    printf("finished %lu\n", ticks);
    fflush(stdout);
    if (argc > 2) {
        FILE *f = fopen(argv[2], "w");
        if (f) {
            fputs("done\n", f);
            fclose(f);
        }
    }
    return 0;
}
