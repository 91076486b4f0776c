"""The tether side of the benchmark: one workload per process.

    /work/venv/bin/python benchmarks/tether_bench.py WORKLOAD N TARGET BP_ADDR DATA_ADDR

The workloads are in bench_workloads.py (libdebug's API, which tether
follows); here is only what is tether's own: followed children are resumed
from an on_fork lifecycle callback, on the tracer thread, as soon as each is
born."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tether import debugger  # noqa: E402

import bench_workloads  # noqa: E402


class TetherAdapter(bench_workloads.Adapter):
    debugger = staticmethod(debugger)
    memory_options = {}   # tether reads memory in bulk whatever fast_memory says

    def follow_forks(self, d) -> None:
        d.on_fork(lambda parent, child: child.cont())
        d.cont()
        d.wait()


def _writes(adapter, n, target, attribute, **options):
    """The write loop with its stdout on tether's pty, read to its end while
    it runs; counted by the bytes (off) or by the records of its pid (on)."""
    d = adapter.debugger([target, str(n)], aslr=False, **options)
    io = d.run(attribute_output=attribute)
    t0 = time.perf_counter_ns()
    d.cont()
    received = 0
    while True:
        try:
            received += len(io.recv(1 << 16, timeout=10))
        except EOFError:   # (PipeClosedError): every write end closed
            break
    d.wait()
    elapsed = time.perf_counter_ns() - t0
    if attribute:
        records = io.output_records(pid=d.pid, stream="stdout")
        count = len(records) if all(r.data == b"x\n" for r in records) else 0
    else:
        count = received // 2
    return bench_workloads._finish(d, {"count": count, "tracer_ns": elapsed})


bench_workloads.WORKLOADS.update({
    "write_plain": lambda a, n, target, *_: _writes(a, n, target, False),
    "write_attr": lambda a, n, target, *_: _writes(a, n, target, True),
    "write_attr_bpf": lambda a, n, target, *_: _writes(a, n, target, True,
                                                       syscall_filter=["getppid"]),
})


if __name__ == "__main__":
    bench_workloads.main(TetherAdapter())
