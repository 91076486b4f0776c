"""The benchmark workloads, written once against libdebug 0.9's public API,
which tether follows. tether_bench.py and libdebug_bench.py import this
module and plug in what differs (the debugger module, how followed children
are resumed, memory options).

One workload per process (the runner starts a fresh one per measurement):

    python tether_bench.py WORKLOAD N TARGET BP_ADDR DATA_ADDR [TARGET_ARGS...]

prints one JSON line {"count": events seen, "tracer_ns": ..., "op_ns": ...,
"exit_code": ...}, plus "cpu_ns" for idle. For the event workloads the
runner takes the cost per event from the target's own clock (see
targets/bench_common.h); tracer_ns is the tracer's view of the same stretch,
kept for cross-checking.

Standard library only: this file runs under whichever interpreter has the
debugger under test installed."""
import json
import resource
import sys
import time

BIG = 16 << 20          # size of the target's buffer `big` (targets/stop_here.c)
MIB = 1 << 20


class Adapter:
    """What differs between the debuggers under test."""

    debugger = None                 # the module's debugger() factory
    memory_options: dict = {}       # extra debugger() arguments for mem_*

    def follow_forks(self, d) -> None:
        """Make d's followed children run (they start stopped) while d runs
        to its end, then return."""
        raise NotImplementedError

    def dispose(self, d) -> None:
        """Release what a killed Debugger still holds (startup makes many)."""


def _start(adapter, argv, **options):
    d = adapter.debugger(argv, aslr=False, **options)
    d.run(redirect_pipes=False)
    return d


def _finish(d, result) -> dict:
    # Only a process that ended has an exit code (libdebug warns otherwise).
    result["exit_code"] = d.exit_code if d.dead else None
    try:
        d.kill()
    except Exception:
        pass  # already dead: nothing to clean up
    return result


def bp_cb(adapter, n, target, bp_addr, data_addr, *target_args):
    """Software breakpoint with a callback: counted by the callback."""
    d = _start(adapter, [target, str(n), *target_args])
    seen = [0]

    def on_hit(thread, bp):
        seen[0] += 1

    d.breakpoint(bp_addr, callback=on_hit, file="absolute")
    t0 = time.perf_counter_ns()
    d.cont()
    d.wait()
    elapsed = time.perf_counter_ns() - t0
    return _finish(d, {"count": seen[0], "tracer_ns": elapsed})


def hw_bp(adapter, n, target, bp_addr, data_addr):
    """Hardware breakpoint (a debug register) with a callback."""
    d = _start(adapter, [target, str(n)])
    seen = [0]

    def on_hit(thread, bp):
        seen[0] += 1

    d.breakpoint(bp_addr, hardware=True, callback=on_hit, file="absolute")
    t0 = time.perf_counter_ns()
    d.cont()
    d.wait()
    elapsed = time.perf_counter_ns() - t0
    return _finish(d, {"count": seen[0], "tracer_ns": elapsed})


def bp_sync(adapter, n, target, bp_addr, data_addr):
    """Synchronous breakpoint: the script gets control at every hit."""
    d = _start(adapter, [target, str(n)])
    bp = d.breakpoint(bp_addr, file="absolute")
    t0 = time.perf_counter_ns()
    for _ in range(n):
        d.cont()
        d.wait()
    elapsed = time.perf_counter_ns() - t0
    count = bp.hit_count
    d.cont()   # let it run to its end and report
    d.wait()
    return _finish(d, {"count": count, "tracer_ns": elapsed})


def syscall(adapter, n, target, bp_addr, data_addr):
    """getppid entry and exit, each with a callback: one event per call."""
    d = _start(adapter, [target, str(n)])
    enters, exits = [0], [0]

    def on_enter(thread, handler):
        enters[0] += 1

    def on_exit(thread, handler):
        exits[0] += 1

    d.handle_syscall("getppid", on_enter=on_enter, on_exit=on_exit)
    t0 = time.perf_counter_ns()
    d.cont()
    d.wait()
    elapsed = time.perf_counter_ns() - t0
    # Both halves must have been seen n times.
    return _finish(d, {"count": min(enters[0], exits[0]), "tracer_ns": elapsed})


def syscall_sync(adapter, n, target, bp_addr, data_addr):
    """A syscall handled without callbacks: the script gets control at its
    entry and at its exit (a cont(); wait() each), so one event (a whole
    getppid call) is two stops handed to the script."""
    d = _start(adapter, [target, str(n)])
    handler = d.handle_syscall("getppid")
    t0 = time.perf_counter_ns()
    for _ in range(2 * n):
        d.cont()
        d.wait()
    elapsed = time.perf_counter_ns() - t0
    count = handler.hit_count
    d.cont()   # let it run to its end and report
    d.wait()
    return _finish(d, {"count": count, "tracer_ns": elapsed})


def fork(adapter, n, target, bp_addr, data_addr):
    """Every child followed (a Debugger each), resumed as soon as it is born."""
    d = _start(adapter, [target, str(n)], follow_children=True)
    t0 = time.perf_counter_ns()
    adapter.follow_forks(d)
    elapsed = time.perf_counter_ns() - t0
    return _finish(d, {"count": len(d.children), "tracer_ns": elapsed})


def fork_nofollow(adapter, n, target, bp_addr, data_addr):
    """follow_children=False: every child let go of (the count is the
    target's own: it checks every child's exit, trusted when it exited 0)."""
    d = _start(adapter, [target, str(n)], follow_children=False)
    t0 = time.perf_counter_ns()
    d.cont()
    d.wait()
    elapsed = time.perf_counter_ns() - t0
    return _finish(d, {"count": n if d.exit_code == 0 and not d.children else 0,
                       "tracer_ns": elapsed})


def vfork(adapter, n, target, bp_addr, data_addr):
    """vfork + exec, every child followed and resumed as soon as it is born."""
    return fork(adapter, n, target, bp_addr, data_addr)


def _run_to_end(adapter, n, target):
    """For thread and exec, which need nothing but the following itself:
    the count is the target's own (it checks every join / exec), trusted only
    when it exited 0."""
    d = _start(adapter, [target, str(n)])
    t0 = time.perf_counter_ns()
    d.cont()
    d.wait()
    elapsed = time.perf_counter_ns() - t0
    return _finish(d, {"count": n if d.exit_code == 0 else 0, "tracer_ns": elapsed})


def thread(adapter, n, target, bp_addr, data_addr):
    return _run_to_end(adapter, n, target)


def exec_(adapter, n, target, bp_addr, data_addr):
    return _run_to_end(adapter, n, target)


def startup(adapter, n, target, bp_addr, data_addr):
    """n times: a new Debugger, run() to the program's entry point (the
    default continue_to_binary_entrypoint=True), kill(). bp_addr is the entry
    (_start); a start counts when the program stopped there."""
    good = 0
    t0 = time.perf_counter_ns()
    for _ in range(n):
        d = adapter.debugger([target], aslr=False)
        d.run(redirect_pipes=False)
        at_entry = d.regs.rip == bp_addr
        pid = d.pid
        d.kill()
        adapter.dispose(d)
        good += at_entry and _dead(pid)
    elapsed = time.perf_counter_ns() - t0
    return {"count": good, "tracer_ns": elapsed}


def _dead(pid) -> bool:
    """After kill(): the process is gone, or at least a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _cpu_ns() -> int:
    """This process's CPU time so far, user + system, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


def idle(adapter, n, target, bp_addr, data_addr):
    """The target sleeps; what CPU does the tracer burn meanwhile? Measured
    from cont() to the target's end (it should be next to nothing)."""
    d = _start(adapter, [target])
    cpu0, t0 = _cpu_ns(), time.perf_counter_ns()
    d.cont()
    d.wait()
    cpu, elapsed = _cpu_ns() - cpu0, time.perf_counter_ns() - t0
    return _finish(d, {"count": 1 if d.exit_code == 0 else 0, "tracer_ns": elapsed, "cpu_ns": cpu})


def _stopped_at(adapter, target, bp_addr, **options):
    """The stop_here target, stopped at stop_here() with big filled."""
    d = _start(adapter, [target], **options)
    d.breakpoint(bp_addr, file="absolute")
    d.cont()
    d.wait()
    return d


def _small_reads(adapter, n, target, bp_addr, data_addr, size):
    """n reads of `size` bytes, each checked against the target's pattern."""
    d = _stopped_at(adapter, target, bp_addr, **adapter.memory_options)
    memory = d.memory
    good = 0
    t0 = time.perf_counter_ns()
    for i in range(n):
        offset = (i * 64) % BIG
        good += memory[data_addr + offset, size, "absolute"][0] == (offset * 7) & 0xFF
    elapsed = time.perf_counter_ns() - t0
    return _finish(d, {"count": good, "tracer_ns": elapsed})


def mem_1b(adapter, n, target, bp_addr, data_addr):
    return _small_reads(adapter, n, target, bp_addr, data_addr, 1)


def mem_8b(adapter, n, target, bp_addr, data_addr):
    return _small_reads(adapter, n, target, bp_addr, data_addr, 8)


def mem_write(adapter, n, target, bp_addr, data_addr):
    """n 8-byte writes (the values made before the clock starts)."""
    d = _stopped_at(adapter, target, bp_addr, **adapter.memory_options)
    memory = d.memory
    values = [i.to_bytes(8, "little") for i in range(n)]
    t0 = time.perf_counter_ns()
    for i in range(n):
        memory[data_addr + (i * 64) % BIG, 8, "absolute"] = values[i]
    elapsed = time.perf_counter_ns() - t0
    last = memory[data_addr + ((n - 1) * 64) % BIG, 8, "absolute"]
    return _finish(d, {"count": n if last == values[-1] else 0, "tracer_ns": elapsed})


def _mem_bulk(adapter, n, target, bp_addr, data_addr, size):
    d = _stopped_at(adapter, target, bp_addr, **adapter.memory_options)
    memory = d.memory
    good = 0
    # Two reads before the clock starts, as the C tracer touches its buffer
    # before its clock: the first big allocations of a process come from
    # fresh pages (malloc's mmap, then its first heap growth), faulted in one
    # by one; every later read reuses the memory.
    for _ in range(2):
        memory[data_addr, size, "absolute"]
    t0 = time.perf_counter_ns()
    for i in range(n):
        offset = (i * MIB) % BIG % (BIG - size + 1)
        data = memory[data_addr + offset, size, "absolute"]
        good += len(data) == size and data[-1] == ((offset + size - 1) * 7) & 0xFF
    elapsed = time.perf_counter_ns() - t0
    return _finish(d, {"count": good, "tracer_ns": elapsed})


def mem_1m(adapter, n, target, bp_addr, data_addr):
    return _mem_bulk(adapter, n, target, bp_addr, data_addr, MIB)


def mem_16m(adapter, n, target, bp_addr, data_addr):
    return _mem_bulk(adapter, n, target, bp_addr, data_addr, BIG)


def regs(adapter, n, target, bp_addr, data_addr):
    """Read rip, write rax: n round trips while stopped at stop_here."""
    d = _stopped_at(adapter, target, bp_addr)
    r = d.regs
    good = 0
    t0 = time.perf_counter_ns()
    for i in range(n):
        good += r.rip == bp_addr
        r.rax = i
    elapsed = time.perf_counter_ns() - t0
    if r.rax != n - 1:
        good = 0   # the last write did not stick
    return _finish(d, {"count": good, "tracer_ns": elapsed})


def _rss_kb() -> int:
    """This process's resident memory now, in KiB (/proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (resource.getpagesize() // 1024)


def scale(adapter, n, target, bp_addr, data_addr, kind="bp", procs="1", sync=""):
    """targets/scale_loop.c: PROCS - 1 idle children (followed, resumed,
    sitting in pause()), then N events of KIND in the main process. Also
    reports the tracer's resident memory before the start, while every
    process lives (at the first event, or at the end of the set-up for fork
    and thread) and after every process has been reaped. With `sync`
    ("sync", kind bp): no callback, the script takes every hit with
    cont() + wait() (its idle children resumed by an on_fork callback)."""
    procs = int(procs)
    rss = {"rss_start_kb": _rss_kb()}
    d = _start(adapter, [target, str(n), kind, str(procs)], follow_children=True)
    seen = [0]

    def count(*_):
        if seen[0] == 0:
            rss["rss_live_kb"] = _rss_kb()
        seen[0] += 1

    if sync:
        bp = d.breakpoint(bp_addr, file="absolute")
        d.on_fork(lambda parent, child: child.cont())
        t0 = time.perf_counter_ns()
        for _ in range(n):
            d.cont()
            d.wait()
            count()
        elapsed = time.perf_counter_ns() - t0
        counted = bp.hit_count
        d.cont()   # let it run to its end and report
        d.wait()
        rss["rss_end_kb"] = _rss_kb()
        return _finish(d, {"count": counted, "tracer_ns": elapsed, **rss})
    if kind == "bp":
        d.breakpoint(bp_addr, callback=count, file="absolute")
    elif kind == "syscall":
        d.handle_syscall("getppid", on_exit=count)
    t0 = time.perf_counter_ns()
    adapter.follow_forks(d)
    elapsed = time.perf_counter_ns() - t0
    rss["rss_end_kb"] = _rss_kb()
    if kind in ("bp", "syscall"):
        counted = seen[0]
    elif kind == "fork":
        counted = len(d.children) - (procs - 1)
    else:
        counted = n if d.exit_code == 0 else 0
    return _finish(d, {"count": counted, "tracer_ns": elapsed, **rss})


def snapshot(adapter, n, target, bp_addr, data_addr):
    """targets/big_map.c (1 GiB mapped and filled): n times, a full snapshot
    at its first stop_here(), one at its second (one byte changed per MiB),
    and their diff; counted when the diff shows those 1024 changes."""
    good = 0
    elapsed = 0
    for _ in range(n):
        d = _start(adapter, [target])
        d.breakpoint(bp_addr, file="absolute")
        d.cont()
        d.wait()
        t0 = time.perf_counter_ns()
        before = d.create_snapshot(level="full")
        d.cont()
        d.wait()
        after = d.create_snapshot(level="full")
        diff = before.diff(after)
        changes = [ranges for m, ranges in diff.memory.items() if m.size == 1 << 30]
        elapsed += time.perf_counter_ns() - t0
        good += len(changes) == 1 and len(changes[0]) == 1024
        _finish(d, {})
        del before, after, diff, changes
    return {"count": good, "tracer_ns": elapsed}


WORKLOADS = {"scale": scale, "snapshot": snapshot, "bp_many": bp_cb, "bp_cb": bp_cb, "bp_sync": bp_sync,
             "hw_bp": hw_bp, "syscall": syscall, "syscall_sync": syscall_sync, "fork": fork,
             "fork_nofollow": fork_nofollow, "vfork": vfork, "thread": thread, "exec": exec_,
             "startup": startup, "idle": idle, "mem_1b": mem_1b, "mem_8b": mem_8b, "mem_1m": mem_1m,
             "mem_16m": mem_16m, "mem_write": mem_write, "regs": regs}


def main(adapter, argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 5 or argv[0] not in WORKLOADS:
        sys.exit("usage: WORKLOAD N TARGET BP_ADDR DATA_ADDR [TARGET_ARGS...], "
                 f"WORKLOAD one of {', '.join(WORKLOADS)}")
    workload, n, target = argv[0], int(argv[1]), argv[2]
    bp_addr, data_addr = int(argv[3], 16), int(argv[4], 16)
    result = WORKLOADS[workload](adapter, n, target, bp_addr, data_addr, *argv[5:])
    result["op_ns"] = result["tracer_ns"] / n if n else 0.0
    print(json.dumps(result), flush=True)
