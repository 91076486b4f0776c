"""The libdebug 0.9 side of the benchmark: one workload per process, run
with the interpreter of a separate environment where libdebug is installed:

    /tmp/ldbench/bin/python benchmarks/libdebug_bench.py WORKLOAD N TARGET BP_ADDR DATA_ADDR

The workloads are in bench_workloads.py. What differs from tether:
- libdebug has no fork callback: the main thread polls d.children and
  cont()s each new child (a followed child starts stopped). The polling
  period (0.1 ms) is small next to libdebug's cost per fork.
- memory workloads use fast_memory=True (/proc/<pid>/mem), libdebug's
  fastest way; its default reads one word per PTRACE_PEEKDATA.
- startup: every libdebug Debugger has its own background thread, which
  outlives kill(); terminate() ends it (libdebug's documented way to free a
  Debugger), so N start-ups do not leave N threads behind."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    from libdebug import debugger
except ImportError as e:  # the runner checks for this exit code
    print(f"libdebug is not importable: {e}", file=sys.stderr)
    sys.exit(3)

import bench_workloads  # noqa: E402

POLL_SECONDS = 0.0001


class LibdebugAdapter(bench_workloads.Adapter):
    debugger = staticmethod(debugger)
    memory_options = {"fast_memory": True}

    def follow_forks(self, d) -> None:
        d.cont()
        resumed = 0
        while not d.dead:
            children = d.children
            while resumed < len(children):
                children[resumed].cont()
                resumed += 1
            time.sleep(POLL_SECONDS)
        d.wait()

    def dispose(self, d) -> None:
        d.terminate()


if __name__ == "__main__":
    bench_workloads.main(LibdebugAdapter())
