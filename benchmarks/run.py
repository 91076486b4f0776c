"""Measure the cost per event of tether, a minimal C ptrace tracer and
libdebug 0.9, side by side in one run.

    python benchmarks/run.py [--quick] [--pinned|--unpinned|--both]
                             [--libdebug-python PATH] [--tether-python PATH]
                             [--reps N] [--only W1,W2] [--json out.json]

Where installed, `strace -f` and `gdb` run the workloads they can do too.
Every measurement is a fresh process. Repetitions alternate the tracers
(the order rotates each repetition) and the medians are reported. "pinned"
runs the whole command under `taskset -c 0`, tracer and tracee on one CPU;
"unpinned" lets the scheduler place them. See README.md for how to read the
table."""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, "targets")
BIN = os.path.join(HERE, "bin")

# Targets are built so that the C tracer can take addresses straight from nm
# (-no-pie) and so that hit() starts with `push %rbp` (-O0 with frame
# pointers, and -fcf-protection=none so there is no endbr64 in front).
TARGET_CFLAGS = ["-O0", "-g", "-fno-omit-frame-pointer", "-fcf-protection=none", "-no-pie"]


@dataclass(frozen=True)
class Workload:
    name: str
    target: str          # targets/<target>.c
    full: int            # events per measurement
    quick: int           # events per measurement with --quick
    event: str           # what one event is, for the table
    bp_symbol: str = ""  # where the breakpoint goes, if any
    timed_by_target: bool = True  # False: the tracer times itself (stopped process, start-ups)
    tools: tuple = ()    # other debuggers that run it too: "strace", "gdb"
    cpu: bool = False    # the figure is the tracer's CPU time over the whole run (idle)
    runs: str = ""       # the workload the tracers run, if not `name` (bp_naive runs bp_cb)
    c_env: tuple = ()    # extra environment of the C tracer, as (name, value) pairs
    # A row only the C tracer runs: its native and tether columns show the
    # runs of this workload (BORROWED), measured once.
    borrow_from: str = ""
    c_tracer: bool = True  # False: the C tracer has no way of doing it correctly
    libdebug: bool = True  # False: a tether feature libdebug does not have
    target_args: tuple = ()  # the target's arguments after N (scale_loop: KIND PROCS)
    wall: bool = False     # the figure is the wall-clock time of a whole command (cli_start)
    timeout_scale: int = 1  # its runs may take this many times the usual time-out
    # A `tether trace` row: the command's options (tether and base run
    # `python -m tether trace OPTIONS -o FILE -- TARGET N`; strace
    # `strace -f STRACE_OPTIONS -o FILE TARGET N`); timed by the target.
    trace_cli: tuple = ()
    strace_cli: tuple = ()

    @property
    def script(self) -> str:
        return self.runs or self.name


STRACE, GDB = ("strace",), ("gdb",)
BORROWED = ("native", "tether")   # the columns a borrow_from row takes from its source
WORKLOADS = [
    Workload("bp_cb", "bp_loop", 20000, 2000, "breakpoint hit, callback", "hit", tools=GDB),
    # The same run as bp_cb, against the C tracer stepping over the classic
    # way (lift the int3, single-step, put it back: two stops per hit).
    Workload("bp_naive", "bp_loop", 20000, 2000, "bp_cb vs C lifting + single-stepping", "hit",
             runs="bp_cb", c_env=(("C_TRACER_STEP_OVER", "1"),)),
    Workload("bp_sync", "bp_loop", 5000, 500, "breakpoint hit, cont+wait", "hit"),
    # bp_sync's floor for a design with a script thread and a tracer thread
    # (libdebug's API needs one): the C tracer doing bp_sync with a thread for
    # each, two hand-offs per hit. Next to tether's bp_sync runs.
    Workload("bp_sync_2t", "bp_loop", 5000, 500, "bp_sync vs C with a script thread", "hit",
             borrow_from="bp_sync"),
    # 8 threads on one breakpoint whose instruction (lock incq) no debugger
    # emulates: stepped over with the int3 lifted while the others are held.
    # The C tracer lifts the int3 with the other threads running, which
    # miscounts: it has no figure here.
    Workload("bp_threads", "bp_threads", 20000, 2000, "bp on a non-emulable insn, 8 threads",
             "bump", runs="bp_cb", c_tracer=False),
    Workload("hw_bp", "bp_loop", 20000, 2000, "hardware breakpoint hit, callback", "hit", tools=GDB),
    Workload("syscall", "syscall_loop", 20000, 2000, "getppid enter+exit, callbacks", tools=STRACE),
    Workload("syscall_sync", "syscall_loop", 5000, 500, "getppid enter+exit, cont+wait at each"),
    # syscall_sync's floor for a script thread and a tracer thread, as bp_sync_2t.
    Workload("syscall_sync_2t", "syscall_loop", 5000, 500, "syscall_sync vs C with a script thread",
             borrow_from="syscall_sync"),
    Workload("fork", "fork_loop", 1000, 100, "fork+exit+waitpid, child followed", tools=STRACE),
    # follow_children=False: each child let go of at its first stop (the C
    # tracer detaches it there); strace -f follows it, the cost to match.
    Workload("fork_nofollow", "fork_loop", 1000, 100, "fork+exit+waitpid, child let go",
             tools=STRACE),
    Workload("vfork", "vfork_loop", 300, 30, "vfork+exec+waitpid, child followed", tools=STRACE),
    Workload("thread", "thread_loop", 2000, 200, "pthread_create+join, followed", tools=STRACE),
    Workload("exec", "exec_loop", 300, 30, "execve of itself, followed", tools=STRACE),
    Workload("startup", "bp_loop", 200, 30, "new debugger, run to entry, kill", "_start", False),
    Workload("mem_1b", "stop_here", 20000, 2000, "1-byte memory read", "stop_here", False),
    Workload("mem_8b", "stop_here", 20000, 2000, "8-byte memory read", "stop_here", False),
    Workload("mem_1m", "stop_here", 64, 16, "1 MiB memory read", "stop_here", False),
    Workload("mem_16m", "stop_here", 8, 2, "16 MiB memory read", "stop_here", False),
    Workload("mem_write", "stop_here", 20000, 2000, "8-byte memory write", "stop_here", False),
    Workload("regs", "stop_here", 20000, 2000, "read rip + write rax", "stop_here", False),
    Workload("idle", "sleep_2s", 1, 1, "tracer CPU while the target sleeps 2 s", cpu=True),
    # Output attribution (run(attribute_output=True)), tether's own: the
    # same write loop with it off (no stop at all), on (every syscall stops:
    # no syscall_filter), and on with a syscall_filter (only the writes stop).
    Workload("write_plain", "write_loop", 20000, 2000, "write(1, 2 bytes), pipes, attribution off",
             c_tracer=False, libdebug=False),
    Workload("write_attr", "write_loop", 20000, 2000, "write(1, 2 bytes), attribute_output=True",
             c_tracer=False, libdebug=False),
    Workload("write_attr_bpf", "write_loop", 20000, 2000, "write_attr with a syscall_filter",
             c_tracer=False, libdebug=False),
    # 1,000 threads of one process, each hitting one breakpoint N/1000 times
    # (threads made before the clock starts). The C tracer follows them
    # (PTRACE_O_TRACECLONE) and handles each hit as in bp_cb.
    Workload("bp_threads_1000", "threads_bp", 20000, 2000, "bp hit, callback, 1000 threads",
             "hit", runs="bp_many", target_args=("1000",)),
    # Two full snapshots of a process with 1 GiB mapped and filled, and
    # their diff (one byte per MiB changed): one event. No C tracer figure.
    Workload("snapshot_1g", "big_map", 2, 1, "2 full snapshots of 1 GiB + diff", "stop_here",
             timed_by_target=False, runs="snapshot", c_tracer=False, timeout_scale=6),
    # The whole `tether trace -- /bin/true` command, start-up included: its
    # native is `python -c pass` (the interpreter's own start), its C tracer
    # `c_tracer idle` on /bin/true, strace `strace -f`. Issue 22's goal:
    # tether within 50 ms of native + C tracer.
    Workload("cli_start", "", 10, 5, "tether trace -- /bin/true, whole command", tools=STRACE,
             timed_by_target=False, wall=True),
    # The tracing filter (`tether trace`, issue 19): getppid in a loop traced
    # for execve only. With tether's seccomp-bpf filter no getppid stops;
    # without it every one does (entry and exit), as with plain strace -f.
    Workload("trace_filtered", "syscall_loop", 20000, 2000, "getppid, tether trace -e trace=execve",
             tools=STRACE, c_tracer=False, trace_cli=("-e", "trace=execve"),
             strace_cli=("--seccomp-bpf", "-e", "trace=execve")),
    Workload("trace_unfiltered", "syscall_loop", 20000, 2000, "the same, --no-seccomp-bpf",
             tools=STRACE, c_tracer=False, trace_cli=("-e", "trace=execve", "--no-seccomp-bpf"),
             strace_cli=("-e", "trace=execve")),
]
# Scale (issue 22): the cost of one event while PROCS processes live (the
# main one and PROCS - 1 followed children idle in pause()), per kind of event.
SCALE_SIZES = (1, 100, 1000, 3000)
SCALE_KINDS = {  # kind: (N, --quick N, what one event is, other tools)
    "bp": (20000, 2000, "breakpoint hit, callback", ()),
    "bp_sync": (5000, 500, "breakpoint hit, cont+wait", ()),
    "syscall": (20000, 2000, "getppid enter+exit, callback", STRACE),
    "fork": (1000, 100, "fork+exit+waitpid, followed", ()),
    "thread": (2000, 200, "pthread_create+join, followed", ()),
}
WORKLOADS += [
    Workload(f"scale_{kind}_{procs}", "scale_loop", full, quick, f"{what}, {procs} processes",
             "hit" if kind.startswith("bp") else "", tools=tools, runs="scale",
             target_args=("bp", str(procs), "sync") if kind == "bp_sync" else (kind, str(procs)))
    for kind, (full, quick, what, tools) in SCALE_KINDS.items() for procs in SCALE_SIZES]
# "base": tether as installed for another interpreter (--baseline-python),
# e.g. a checkout of the commit before a change: before/after in one run.
TRACERS = ["native", "c", "base", "tether", "libdebug", "strace", "gdb"]
TRACER_TITLES = {"native": "native", "c": "C tracer", "base": "tether base", "tether": "tether",
                 "libdebug": "libdebug",
                 "strace": "strace", "gdb": "gdb"}
TOOLS = ("strace", "gdb")
# gdb takes some 20-40x the C tracer's time per breakpoint hit: it runs a fifth
# of the events (the figure is per event, so it stays comparable).
GDB_SHARE = 5
# SPEC 6: every cost within 1.5x of the C tracer; >= 3x cheaper than libdebug
# for breakpoint hits and syscall stops.
SPEC_VS_C = 1.5
SPEC_VS_LIBDEBUG = 3.0
SPEC_VS_LIBDEBUG_WORKLOADS = ("bp_cb", "bp_sync", "syscall")


# ---------------------------------------------------------------- building
def _cflags_of(source: str) -> list:
    """A target may ask for extra flags on its first line: `// cflags: -pthread`."""
    with open(source) as f:
        first = f.readline()
    return first[len("// cflags:"):].split() if first.startswith("// cflags:") else []


def _build(source: str, output: str, flags: list, depends=()) -> None:
    newest = max(os.stat(p).st_mtime for p in (source, *depends))
    if os.path.exists(output) and os.stat(output).st_mtime >= newest:
        return
    cmd = ["gcc", *flags, "-o", output, source, *_cflags_of(source)]
    subprocess.run(cmd, check=True)


def build() -> None:
    os.makedirs(BIN, exist_ok=True)
    header = os.path.join(TARGETS, "bench_common.h")
    for target in sorted({w.target for w in WORKLOADS if w.target}):
        _build(os.path.join(TARGETS, target + ".c"), os.path.join(BIN, target), TARGET_CFLAGS, [header])
    _build(os.path.join(HERE, "c_tracer.c"), os.path.join(BIN, "c_tracer"), ["-O2", "-Wall", "-pthread"])


def symbol_address(binary: str, name: str) -> int:
    out = subprocess.run(["nm", binary], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise ValueError(f"symbol {name!r} not found in {binary}")


# ---------------------------------------------------------------- measuring
class Failure(Exception):
    pass


class TimedOut(Failure):
    """A hang: not retried in later repetitions (libdebug 0.9 on vfork)."""


def events_for(tracer: str, n: int) -> int:
    """Events per measurement for `tracer` (gdb runs a share, GDB_SHARE)."""
    return max(1, n // GDB_SHARE) if tracer == "gdb" else n


def _read_loop_ns(path: str, n: int) -> int:
    """The target's own report (targets/bench_common.h)."""
    try:
        with open(path) as f:
            lines = f.read().split()
    except FileNotFoundError:
        raise Failure("the target reported nothing") from None
    fields = dict(item.split("=", 1) for item in lines if "=" in item)
    if int(fields.get("events", -1)) != n:
        raise Failure(f"the target reported {fields.get('events')} events, expected {n}")
    return int(fields["loop_ns"])


# gdb's way to a breakpoint with a callback: `commands` that continue
# silently. `starti` first, since gdb sets a hardware breakpoint only in a
# live process; bp_cb does the same, so the two differ only in the kind.
GDB_SCRIPT = """set pagination off
set confirm off
set startup-with-shell off
starti
{kind} *0x{addr:x}
commands 1
silent
continue
end
continue
info breakpoints
"""


def counts_getppid(workload: Workload) -> bool:
    """Is one event one getppid() call (strace traces only those)?"""
    return workload.name == "syscall" or workload.target_args[:1] == ("syscall",)


def tool_command(tool: str, workload: Workload, n: int, target: str, bp_addr: int,
                 scratch: str) -> list:
    """The strace or gdb command line; `scratch` is a temporary file for
    strace's trace (counted afterwards) or gdb's script."""
    if tool == "strace" and workload.trace_cli:
        return ["strace", "-f", *workload.strace_cli, "-o", scratch, target, str(n)]
    if tool == "strace":
        if counts_getppid(workload):
            what = ["-e", "trace=getppid"]   # stops at every syscall, prints the getppid ones
        else:
            # Follow the children, trace no syscall: with --seccomp-bpf strace
            # then gets no syscall stops at all (only fork/clone/exec/exit),
            # the same job as the other tracers' (README.md).
            what = ["--seccomp-bpf", "-e", "trace=none"]
        return ["strace", "-f", *what, "-o", scratch, target, str(n), *workload.target_args]
    with open(scratch, "w") as f:
        f.write(GDB_SCRIPT.format(kind="hbreak" if workload.name == "hw_bp" else "break",
                                  addr=bp_addr))
    return ["gdb", "-batch", "-nx", "-x", scratch, "--args", target, str(n)]


def tool_count(tool: str, workload: Workload, n: int, stdout: str, scratch: str) -> int:
    """How many events strace's trace or gdb's hit count shows (a
    `tether trace` row: the target's own count is checked instead)."""
    if workload.trace_cli:
        return n
    if tool == "gdb":
        hits = re.search(r"already hit (\d+) time", stdout)
        return int(hits.group(1)) if hits and "exited normally" in stdout else -1
    with open(scratch) as f:
        trace = f.read()
    if counts_getppid(workload):
        return trace.count("getppid()")
    exits = trace.count("+++ exited with 0 +++")
    if workload.name == "exec":
        return n if exits == 1 else -1      # one process all along; the target counts execs
    return exits - 1                        # every child or thread, and the main process


def _run(cmd: list, env: dict, timeout: float) -> subprocess.CompletedProcess:
    """Run one measurement in a session of its own, and SIGKILL whatever is
    left in that session when it is over: a tracer that hangs or dies can
    leave its tracees behind, stopped (libdebug's vfork hang leaves a vfork
    parent and its stopped child, in a process group of their own, so the
    session is what still holds them)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_session(proc.pid)
        proc.communicate()
        raise TimedOut(f"timed out after {timeout} s") from None
    finally:
        _kill_session(proc.pid)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _kill_session(sid: int) -> None:
    """SIGKILL every process of session `sid` (none, usually)."""
    for _ in range(10):     # again, in case one forked meanwhile
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # fields after "(comm)": state ppid pgrp session ... (proc(5))
                    fields = f.read().rpartition(")")[2].split()
                if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
                    os.kill(int(entry), signal.SIGKILL)
                    found = True
            except (FileNotFoundError, ProcessLookupError):
                pass    # it ended meanwhile
        if not found:
            return
        time.sleep(0.01)


def measure_wall(tracer: str, n: int, pinned: bool, ctx: dict) -> float:
    """cli_start: the median wall-clock ns of `n` runs of the tracer's
    whole command on /bin/true (see its Workload)."""
    fd, scratch = tempfile.mkstemp(prefix="tether-bench-wall-")
    os.close(fd)
    python = ctx.get(f"{tracer}_python") or ctx["tether_python"]
    cmd = {"native": [ctx["tether_python"], "-c", "pass"],
           "c": [os.path.join(BIN, "c_tracer"), "idle", "1", "0", "0", "/bin/true"],
           "strace": ["strace", "-f", "-o", scratch, "/bin/true"]}.get(
        tracer, [python, "-m", "tether", "trace", "-o", scratch, "--", "/bin/true"])
    if pinned:
        cmd = ["taskset", "-c", "0", *cmd]
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # (see measure_one)
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter_ns()
            proc = _run(cmd, env, ctx["timeout"])
            times.append(time.perf_counter_ns() - t0)
            if proc.returncode != 0:
                raise Failure(f"exit status {proc.returncode}: {proc.stderr.strip()[-600:]}")
    finally:
        os.unlink(scratch)
    return statistics.median(times)


def measure_one(tracer: str, workload: Workload, n: int, pinned: bool, ctx: dict) -> float:
    """One fresh measurement -> ns per event (for a `cpu` workload: the
    tracer's CPU ns over the whole run; for a `wall` one, per command). Raises Failure."""
    if workload.wall:
        return measure_wall(tracer, n, pinned, ctx)
    target = os.path.join(BIN, workload.target)
    bp_addr = ctx["addresses"].get((workload.target, workload.bp_symbol), 0)
    data_addr = ctx["addresses"].get((workload.target, "big"), 0)
    addresses = [f"{bp_addr:x}", f"{data_addr:x}"]
    fd, scratch = tempfile.mkstemp(prefix="tether-bench-tool-")
    os.close(fd)
    extra = list(workload.target_args)
    if tracer == "native":
        cmd = [target, str(n), *extra]
    elif tracer == "c":
        cmd = [os.path.join(BIN, "c_tracer"), workload.script, str(n), *addresses, target, str(n), *extra]
    elif tracer in TOOLS:
        cmd = tool_command(tracer, workload, n, target, bp_addr, scratch)
    elif workload.trace_cli:
        cmd = [ctx[f"{tracer}_python"], "-m", "tether", "trace", *workload.trace_cli, "-o", scratch,
               "--", target, str(n)]
    else:
        script = os.path.join(HERE, f"{'tether' if tracer == 'base' else tracer}_bench.py")
        cmd = [ctx[f"{tracer}_python"], script, workload.script, str(n), target, *addresses, *extra]
    if pinned:
        cmd = ["taskset", "-c", "0", *cmd]
    fd, out_path = tempfile.mkstemp(prefix="tether-bench-")
    os.close(fd)
    os.unlink(out_path)  # the target creates it (appends)
    env = dict(os.environ, BENCH_OUT=out_path)
    # Python libraries run from cached bytecode as installed: with
    # PYTHONDONTWRITEBYTECODE set (some CI images set it), every run would
    # compile the library's modules again, and startup would time the compiler.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tracer == "c":
        env.update(workload.c_env)
    try:
        proc = _run(cmd, env, ctx["timeout"] * workload.timeout_scale)
        if proc.returncode != 0:
            raise Failure(f"exit status {proc.returncode}: {proc.stderr.strip()[-600:]}")
        if tracer == "native" or workload.trace_cli and tracer not in TOOLS:
            return _read_loop_ns(out_path, n) / n
        if tracer in TOOLS:
            seen = tool_count(tracer, workload, n, proc.stdout, scratch)
            if seen != n:
                raise Failure(f"{tracer} saw {seen} events, expected {n}")
            return _read_loop_ns(out_path, n) / n
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise Failure(f"no result printed; stderr: {proc.stderr.strip()[-600:]}")
        result = json.loads(lines[-1])
        ctx["reports"].setdefault((workload.name, tracer, pinned), []).append(result)
        if result["count"] != n:
            raise Failure(f"saw {result['count']} events, expected {n}")
        if workload.timed_by_target and result.get("exit_code") not in (0, None):
            raise Failure(f"the target exited with {result['exit_code']}")
        if workload.cpu:
            # The target must really have slept its 2 s (it reports the time).
            if _read_loop_ns(out_path, n) < 1.9e9:
                raise Failure("the target did not sleep 2 s")
            return result["cpu_ns"]
        if workload.timed_by_target:
            return _read_loop_ns(out_path, n) / n
        return result["tracer_ns"] / n
    finally:
        for path in (out_path, scratch):
            if os.path.exists(path):
                os.unlink(path)


def libdebug_usable(python: str | None) -> str:
    """'' if `python` can import libdebug, else why not."""
    if not python:
        return "no --libdebug-python given"
    if not shutil.which(python) and not os.path.exists(python):
        return f"{python} does not exist"
    probe = subprocess.run([python, "-c", "import libdebug"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"libdebug is not importable with {python}"
    return ""


# ---------------------------------------------------------------- reporting
def fmt_time(ns) -> str:
    if ns is None:
        return "-"
    if ns < 1_000:
        return f"{ns:.1f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.1f} us"
    return f"{ns / 1_000_000:.2f} ms"


def fmt_cpu(ns) -> str:
    return "-" if ns is None else f"{ns / 1e6:.2f} ms"


def runs_text(k: int) -> str:
    return f"{k} run" if k == 1 else f"{k} runs"


def fmt_ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}x"


def ratio(a, b):
    return a / b if a is not None and b else None


def added_ratio(runs: dict):
    """tether's added cost over the C tracer's, each the traced run minus the
    untraced run of the same repetition (median over repetitions). None
    unless the C tracer's added cost came out positive in every repetition:
    where the event itself costs far more than tracing it (exec), run-to-run
    noise swamps the difference."""
    native, c, tether = (runs.get(t, []) for t in ("native", "c", "tether"))
    c_added, tether_added = [], []
    for n_i, c_i, t_i in zip(native, c, tether):
        if None not in (n_i, c_i, t_i):
            c_added.append(c_i - n_i)
            tether_added.append(t_i - n_i)
    if not c_added or min(c_added) <= 0:
        return None
    return statistics.median(tether_added) / statistics.median(c_added)


def spec_verdict(workload: str, vs_c, ld_vs_t) -> str:
    if vs_c is None:
        return "-"
    verdict = "ok" if vs_c <= SPEC_VS_C else "MISS"
    if workload in SPEC_VS_LIBDEBUG_WORKLOADS and ld_vs_t is not None:
        verdict += " / " + ("ok" if ld_vs_t >= SPEC_VS_LIBDEBUG else "MISS")
    return verdict


def summarize(results: dict) -> dict:
    """{mode: {workload: {tracer: median ns or None}}} (failed runs are None)"""
    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None
    return {mode: {w: {t: median(v) for t, v in per_w.items()}
                   for w, per_w in per_mode.items()}
            for mode, per_mode in results.items()}


def runs_workload(tracer: str, w: Workload) -> bool:
    """Does `tracer` have a figure in workload w's row? native only where the
    target times itself; strace and gdb only where they can do the job; a
    borrow_from row has the C tracer's and the BORROWED ones."""
    if w.borrow_from:
        return tracer == "c" or tracer in BORROWED
    if w.trace_cli:     # the tether command: tether (and base), against strace
        return tracer in ("native", "base", "tether", "strace")
    if tracer == "native":
        return (w.timed_by_target and not w.cpu) or w.wall
    if tracer == "c":
        return w.c_tracer
    if tracer == "libdebug":
        return w.libdebug
    return tracer not in TOOLS or tracer in w.tools


def measured(tracer: str, w: Workload) -> bool:
    """Is `tracer` run for workload w? (A borrow_from row runs the C tracer only.)"""
    return runs_workload(tracer, w) and (not w.borrow_from or tracer == "c")


def with_borrowed(per_workload: dict) -> dict:
    """{workload: {tracer: ...}} with each borrow_from row given its source's
    BORROWED entries too, for the table (the JSON keeps what was measured)."""
    out = dict(per_workload)
    for w in WORKLOADS:
        if w.borrow_from and w.name in out:
            source = per_workload.get(w.borrow_from, {})
            out[w.name] = {**out[w.name], **{t: source[t] for t in BORROWED if t in source}}
    return out


def _cells(mode, w, medians, failures, tracers, fmt) -> list:
    m = medians[w.name]
    cells = []
    for t in tracers:
        if not runs_workload(t, w):
            cells.append("n/a" if t == "native" else "-")
            continue
        source = w.borrow_from if w.borrow_from and t in BORROWED else w.name
        failed = any(f["mode"] == mode and f["workload"] == source and f["tracer"] == t
                     for f in failures)
        cells.append(fmt(m.get(t)) + ("!" if failed else ""))
    return cells


def _print_rows(headers: list, rows: list, left: int) -> None:
    """Columns padded to their widest cell; the first `left` are text."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        print("  ".join(c.ljust(widths[i]) if i < left else c.rjust(widths[i])
                        for i, c in enumerate(r)))


def print_table(mode: str, workloads: list, medians: dict, runs: dict, ns: dict, reps: int,
                failures: list, tracers: list) -> None:
    where = "tracer and tracee on CPU 0 (taskset -c 0)" if mode == "pinned" else "placed by the scheduler"
    per_event = [w for w in workloads if not w.cpu]
    # strace and gdb columns only where a selected workload uses them.
    columns = [t for t in tracers if any(runs_workload(t, w) for w in per_event)]
    tools = [t for t in TOOLS if t in columns]
    if per_event:
        print(f"\n== {mode}: {where}; median of {runs_text(reps)}; time per event")
        headers = ["workload", "N", "event", *[TRACER_TITLES[t] for t in columns],
                   "tether/C", "tether/C added", *(["tether/base"] if "base" in columns else []),
                   "libdebug/tether", *[f"{t}/tether" for t in tools],
                   "spec"]
        rows = []
        for w in per_event:
            m = medians[w.name]
            vs_c = ratio(m.get("tether"), m.get("c"))
            ld_vs_t = ratio(m.get("libdebug"), m.get("tether"))
            n = str(ns[w.name])
            if "gdb" in tools and "gdb" in w.tools:
                n += f" (gdb {events_for('gdb', ns[w.name])})"
            rows.append([w.name, n, w.event, *_cells(mode, w, medians, failures, columns, fmt_time),
                         fmt_ratio(vs_c),
                         fmt_ratio(added_ratio(runs[w.name]) if w.timed_by_target else None),
                         *([fmt_ratio(ratio(m.get("tether"), m.get("base")))] if "base" in columns else []),
                         fmt_ratio(ld_vs_t), *[fmt_ratio(ratio(m.get(t), m.get("tether"))) for t in tools],
                         # a borrow_from row is a reference, not a SPEC target
                         "-" if w.borrow_from else spec_verdict(w.name, vs_c, ld_vs_t)])
        _print_rows(headers, rows, 3)
        print("spec: tether within 1.5x of C / (bp, syscall) libdebug >= 3x tether.  "
              "'!' = some runs failed (see below).")
        for w in per_event:
            m = medians[w.name]
            if w.wall and None not in (m.get("tether"), m.get("native"), m.get("c")):
                over = (m["tether"] - m["native"] - m["c"]) / 1e6
                print(f"{w.name}: tether - native (python -c pass) - C tracer = {over:.1f} ms "
                      f"(issue 22's goal: at most 50 ms)")
            if w.borrow_from:
                two, one = medians[w.name].get("c"), medians[w.borrow_from].get("c")
                print(f"{w.name}: C tracer with a script thread / {w.borrow_from}'s C tracer = "
                      f"{fmt_ratio(ratio(two, one))}; its native and tether are {w.borrow_from}'s, "
                      f"so its tether/C is tether over the two-thread C tracer.")
    # Not a time per event: the tracer's own CPU time over the whole run.
    cpu = [w for w in workloads if w.cpu]
    if cpu:
        shown = [t for t in tracers if any(runs_workload(t, w) for w in cpu)]
        print(f"\n-- {mode}: tracer CPU time (user + system) while the target sleeps 2 s; "
              f"ms CPU per 2 s, median of {runs_text(len(runs[cpu[0].name]['c']))}")
        rows = [[w.name, w.event, *_cells(mode, w, medians, failures, shown, fmt_cpu)] for w in cpu]
        _print_rows(["workload", "what", *[TRACER_TITLES[t] for t in shown]], rows, 2)


def print_scale(mode: str, workloads: list, medians: dict, reports: dict) -> None:
    """The scale rows again, one line per kind: time per event against the
    number of live processes, and how much the largest size costs over one
    process; then tether's resident memory per live process."""
    chosen = {w.name for w in workloads}
    kinds = [k for k in SCALE_KINDS if any(f"scale_{k}_{p}" in chosen for p in SCALE_SIZES)]
    if not kinds:
        return
    tracers = [t for t in ("native", "c", "base", "tether", "strace")
               if any(medians.get(f"scale_{k}_{p}", {}).get(t) for k in kinds for p in SCALE_SIZES)]
    print(f"\n-- {mode}: scale, time per event against the number of live processes "
          f"(the `last/first` column: the largest size over the smallest)")
    headers = ["kind", "tracer", *[f"{p} procs" for p in SCALE_SIZES], "last/first"]
    rows = []
    for k in kinds:
        for t in tracers:
            cells = [medians.get(f"scale_{k}_{p}", {}).get(t) for p in SCALE_SIZES]
            if not any(cells):
                continue
            shown = [c for c in cells if c]
            rows.append([k, TRACER_TITLES[t], *[fmt_time(c) for c in cells],
                         fmt_ratio(ratio(shown[-1], shown[0]) if len(shown) > 1 else None)])
    _print_rows(headers, rows, 2)
    # tether's memory: resident KiB at the start, while every process lives
    # (at the first event), and at the end (every process reaped).
    rows = []
    for w, t in [(w, t) for w in workloads for t in ("base", "tether")]:
        runs = reports.get((w.name, t, mode == "pinned"), [])
        live = [r for r in runs if "rss_live_kb" in r]
        if not w.name.startswith("scale_") or not runs:
            continue
        procs = int(w.target_args[1])
        start = statistics.median(r["rss_start_kb"] for r in runs)
        end = statistics.median(r["rss_end_kb"] for r in runs)
        live_kb = statistics.median(r["rss_live_kb"] for r in live) if live else None
        per = (live_kb - start) / (procs - 1) if live_kb is not None and procs > 1 else None
        rows.append([w.name, TRACER_TITLES[t], f"{start / 1024:.1f} MiB",
                     "-" if live_kb is None else f"{live_kb / 1024:.1f} MiB",
                     "-" if per is None else f"{per:.1f} KiB", f"{end / 1024:.1f} MiB"])
    if rows:
        print(f"\n-- {mode}: tether's resident memory (median): at the start, with every process "
              "alive (first event), per live process, at the end (all reaped)")
        _print_rows(["workload", "tracer", "start", "all alive", "per process", "end"], rows, 2)


def _first_line(cmd: list) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.strip().splitlines()[0] if out.strip() else ""


def machine_conditions(tether_python: str) -> list:
    """What the figures depend on, printed with them: the CPU, memory,
    kernel, interpreters and tools, and what else runs now."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            name, _, value = line.partition(":")
            mem[name] = int(value.split()[0])
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") as f:
            governor = f.read().strip()
    except OSError:
        governor = "not exposed (a VM?)"
    running = sum(1 for e in os.listdir("/proc") if e.isdigit())
    with open("/proc/loadavg") as f:
        runnable = f.read().split()[3]
    lines = [f"CPU: {model}, {os.cpu_count()} CPUs online, governor {governor}",
             f"memory: {mem.get('MemTotal', 0) // 1024} MiB, {mem.get('MemAvailable', 0) // 1024} MiB "
             f"available; processes: {running}, runnable/total threads now: {runnable}",
             f"kernel {os.uname().release}; tether's Python: "
             f"{_first_line([tether_python, '-VV']) or tether_python}"]
    tools = [v for v in (_first_line(["strace", "-V"]), _first_line(["gdb", "--version"]),
                         _first_line(["gcc", "--version"])) if v]
    if tools:
        lines.append("tools: " + "; ".join(tools))
    return lines


# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer events and runs (under 2 minutes)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--pinned", dest="modes", action="store_const", const=["pinned"])
    mode.add_argument("--unpinned", dest="modes", action="store_const", const=["unpinned"])
    mode.add_argument("--both", dest="modes", action="store_const", const=["pinned", "unpinned"])
    parser.add_argument("--libdebug-python", default=os.environ.get("LIBDEBUG_PYTHON"),
                        help="an interpreter that can import libdebug 0.9 (else libdebug is skipped)")
    parser.add_argument("--tether-python", default=sys.executable,
                        help="an interpreter that can import tether (default: this one)")
    parser.add_argument("--baseline-python",
                        help="an interpreter with another tether installed (say, the commit before "
                             "a change): run as a 'tether base' column next to tether")
    parser.add_argument("--reps", type=int, help="runs per measurement (default 5, 3 with --quick)")
    parser.add_argument("--only", help="comma-separated workloads to run (default: all)")
    parser.add_argument("--json", help="write every run and the medians to this file")
    args = parser.parse_args(argv)
    modes = args.modes or ["pinned", "unpinned"]
    reps = args.reps or (3 if args.quick else 5)
    if reps < 1:
        parser.error("--reps must be at least 1")
    workloads = WORKLOADS
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {w.name for w in WORKLOADS}
        if unknown:
            parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
        # A borrow_from row comes with its source and the source with it.
        for w in WORKLOADS:
            if w.borrow_from and {w.name, w.borrow_from} & set(wanted):
                wanted += [w.name, w.borrow_from]
        workloads = [w for w in WORKLOADS if w.name in wanted]
    if any(m == "pinned" for m in modes) and not shutil.which("taskset"):
        parser.error("taskset (util-linux) is needed for --pinned")

    build()
    addresses = {}
    for w in WORKLOADS:
        binary = os.path.join(BIN, w.target)
        for sym in filter(None, (w.bp_symbol, "big" if w.target == "stop_here" else "")):
            addresses[(w.target, sym)] = symbol_address(binary, sym)
    tracers = list(TRACERS)
    skipped = {}    # tracer -> why it is not run
    why_no_libdebug = libdebug_usable(args.libdebug_python)
    if why_no_libdebug:
        skipped["libdebug"] = why_no_libdebug
    if not args.baseline_python:
        skipped["base"] = "no --baseline-python given"
    for tool in TOOLS:   # strace and gdb: where installed
        if not shutil.which(tool):
            skipped[tool] = "not installed"
    for tracer, why in skipped.items():
        print(f"{tracer} skipped: {why}", file=sys.stderr)
        tracers.remove(tracer)
    # A hang is not retried (see TimedOut), so a short time-out costs little.
    ctx = {"addresses": addresses, "tether_python": args.tether_python,
           "base_python": args.baseline_python,
           "libdebug_python": args.libdebug_python, "timeout": 10 if args.quick else 120,
           "reports": {}}   # (workload, tracer, pinned) -> every JSON line the bench script printed
    ns = {w.name: (w.quick if args.quick else w.full) for w in WORKLOADS}

    results = {m: {w.name: {t: [] for t in tracers if measured(t, w)} for w in WORKLOADS}
               for m in modes}
    # Other work on the machine inflates every figure: say how busy it was.
    load_before = os.getloadavg()[0]
    failures = []
    hung = set()    # (tracer, workload) that timed out once: not run again
    started = time.monotonic()
    for rep in range(reps):
        order = tracers[rep % len(tracers):] + tracers[:rep % len(tracers)]
        for m in modes:
            print(f"[{time.monotonic() - started:6.1f}s] run {rep + 1}/{reps} {m}:", end="",
                  file=sys.stderr, flush=True)
            for w in workloads:
                # idle takes 2 s per tracer: --quick measures it in the first run only.
                if w.cpu and args.quick and rep > 0:
                    continue
                print(f" {w.name}", end="", file=sys.stderr, flush=True)
                for t in order:
                    if not measured(t, w):
                        continue
                    try:
                        if (t, w.name) in hung:
                            raise Failure("not run: it timed out in an earlier run")
                        value = measure_one(t, w, events_for(t, ns[w.name]), m == "pinned", ctx)
                    except Failure as e:
                        # tether, the one under test, is always retried: a
                        # rare hang should cost it one run, not the row.
                        if isinstance(e, TimedOut) and t not in ("tether", "base"):
                            hung.add((t, w.name))
                        failures.append({"mode": m, "workload": w.name, "tracer": t, "rep": rep,
                                         "error": str(e)})
                        value = None
                    # One slot per repetition, so that runs of one repetition pair up.
                    results[m][w.name][t].append(value)
            print(file=sys.stderr)
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()[0]

    medians = summarize(results)
    print(f"tether benchmark: {'quick' if args.quick else 'full'}, {reps} runs per figure, "
          f"{elapsed:.0f} s, {os.cpu_count()} CPUs, kernel {os.uname().release}, "
          f"load average {load_before:.1f} before / {load_after:.1f} after")
    conditions = machine_conditions(args.tether_python)
    for line in conditions:
        print(f"  {line}")
    for tracer, why in skipped.items():
        print(f"{tracer} skipped: {why}")
    for m in modes:
        print_table(m, workloads, with_borrowed(medians[m]), with_borrowed(results[m]), ns, reps,
                    failures, tracers)
    for m in modes:
        print_scale(m, workloads, medians[m], ctx["reports"])
    if failures:
        print("\nfailures:")
        seen = set()
        for f in failures:
            key = (f["mode"], f["workload"], f["tracer"], f["error"])
            if key not in seen:
                seen.add(key)
                print(f"  {f['mode']} {f['workload']} {f['tracer']} (run {f['rep'] + 1}): {f['error']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"quick": args.quick, "reps": reps, "events": ns, "gdb_share": GDB_SHARE,
                       "seconds": elapsed, "load_average": [load_before, load_after],
                       "tracers": tracers, "skipped": skipped,
                       "libdebug_skipped": why_no_libdebug or None,
                       "cpu_workloads": [w.name for w in WORKLOADS if w.cpu],  # CPU ns per run
                       # rows whose other columns in the table are another workload's runs
                       "borrowed": {w.name: {"from": w.borrow_from, "tracers": list(BORROWED)}
                                    for w in WORKLOADS if w.borrow_from},
                       "machine": conditions,
                       "runs_ns_per_event": results, "median_ns_per_event": medians,
                       "reports": [{"workload": w, "tracer": t, "pinned": p, "runs": r}
                                   for (w, t, p), r in ctx["reports"].items()],
                       "failures": failures}, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
