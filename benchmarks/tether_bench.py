"""The tether side of the benchmark: one workload per process.

    /work/venv/bin/python benchmarks/tether_bench.py WORKLOAD N TARGET BP_ADDR DATA_ADDR

The workloads are in bench_workloads.py (libdebug's API, which tether
follows); here is only what is tether's own: followed children are resumed
from an on_fork lifecycle callback, on the tracer thread, as soon as each is
born."""
import os
import sys

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


if __name__ == "__main__":
    bench_workloads.main(TetherAdapter())
