"""`tether trace -e trace=execve` on a build, against `strace -f --seccomp-bpf`
and the build without a tracer (issue 19: the seccomp-bpf filter).

The build: N small C files (default 40) compiled one by one by make (-j1)
and linked: every gcc runs cc1, as and collect2/ld, so the tree makes a few
hundred execs and tens of thousands of other syscalls, of which only the
execs are asked for. Each tracer writes its lines to a file. Runs are
interleaved (untraced, strace, tether, tether without the filter, ...) and
the median of each is reported.

    python benchmarks/trace_build.py [--files 40] [--reps 5] [--json out.json]
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SOURCE = """\
#include <stdio.h>
int unit_{i}(int x) {{ int s = 0; for (int k = 0; k < x; k++) s += k * {i}; return s; }}
"""


def make_tree(root: str, files: int) -> None:
    for i in range(files):
        with open(os.path.join(root, f"u{i}.c"), "w") as f:
            f.write(SOURCE.format(i=i))
    with open(os.path.join(root, "main.c"), "w") as f:
        f.write("int unit_0(int);\nint main(void) { return unit_0(3) == 3 ? 0 : 1; }\n")
    objs = " ".join(f"u{i}.o" for i in range(files))
    with open(os.path.join(root, "Makefile"), "w") as f:
        f.write(f"prog: main.o {objs}\n\tgcc -o $@ $^\n%.o: %.c\n\tgcc -O1 -c -o $@ $<\n"
                "clean:\n\trm -f *.o prog\n")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd, cwd) -> tuple:
    """(wall seconds, CPU seconds of the tracer and everything it ran)."""
    subprocess.run(["make", "-s", "clean"], cwd=cwd, check=True)
    cpu = _cpu()
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed with status {r.returncode}")
    return elapsed, _cpu() - cpu


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=40)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args()
    build = ["make", "-s", "-j1", "prog"]
    with tempfile.TemporaryDirectory(prefix="tether-build-bench-") as root:
        make_tree(root, args.files)
        out = os.path.join(root, "trace.out")
        tether = [sys.executable, "-m", "tether", "trace", "--no-progress", "-o", out]
        runs = {
            "untraced": build,
            "strace -f --seccomp-bpf -e trace=execve": ["strace", "-f", "--seccomp-bpf", "-qq",
                                                        "-e", "trace=execve", "-o", out, *build],
            "tether trace -e trace=execve": [*tether, "-e", "trace=execve", "--", *build],
            "tether trace -e trace=execve --no-seccomp-bpf": [*tether, "-e", "trace=execve",
                                                              "--no-seccomp-bpf", "--", *build],
        }
        if shutil.which("strace") is None:
            del runs["strace -f --seccomp-bpf -e trace=execve"]
        times = {name: [] for name in runs}
        timed(build, root)   # warm the page cache
        for _ in range(args.reps):
            for name, cmd in runs.items():
                times[name].append(timed(cmd, root))
        with open(out) as f:
            execs = sum(1 for line in f if "execve(" in line)
    medians = {name: statistics.median(w for w, _ in v) for name, v in times.items()}
    cpu = {name: statistics.median(c for _, c in v) for name, v in times.items()}
    print(f"build of {args.files} C files, {execs} execve lines, median of {args.reps} runs "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    strace_name = "strace -f --seccomp-bpf -e trace=execve"
    for label, table in (("wall", medians), ("CPU", cpu)):
        base = table["untraced"]
        print(f" {label} time:")
        for name, m in table.items():
            extra = f"{m / base:5.2f}x untraced"
            if strace_name in table and name.startswith("tether"):
                extra += f", {m / table[strace_name]:5.2f}x strace"
            print(f"  {name:48} {m:7.3f} s  {extra}")
    if args.json:
        with open(args.json, "x") as f:
            json.dump({"files": args.files, "execs": execs, "runs": times, "wall": medians,
                       "cpu": cpu}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
