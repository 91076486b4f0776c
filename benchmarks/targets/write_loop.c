/* Workloads write_plain, write_attr, write_attr_bpf: N write(1, "x\n", 2)
 * calls (the cost of output attribution per write, and what it costs when
 * off: tether then does not stop the writes at all). */
#include <unistd.h>
#include "bench_common.h"

int main(int argc, char **argv)
{
    long n = count_arg(argc, argv);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (write(1, "x\n", 2) != 2)
            return 92;
    report(now_ns() - t0, n);
    return 0;
}
