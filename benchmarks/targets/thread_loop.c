// cflags: -pthread
/* Workload thread: creates a thread and joins it, N times in a row. */
#include <pthread.h>
#include "bench_common.h"

static void *body(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        void *ret;
        if (pthread_create(&t, NULL, body, (void *)i) != 0)
            return 92;
        if (pthread_join(t, &ret) != 0 || ret != (void *)i)
            return 93;
    }
    report(now_ns() - t0, n);
    return 0;
}
