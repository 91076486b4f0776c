"""attach(pid, tree=True) and detach(tree=True): a running tree taken over
whole, race-free, and given back unchanged (docs/edge-cases.md §25)."""
import collections
import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from procutil import proc_state, task_tids, tracer_of, tree, wait_for, ppid_of
from tether import debugger


def live_descendants(pid, zombies=False):
    """pids of the processes below `pid` in /proc that are not zombies
    (with `zombies`, those too)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = ppid_of(int(entry))
            if parent is not None and (zombies or proc_state(int(entry)) not in (None, "Z", "X")):
                parents[int(entry)] = parent
    found, frontier = set(), [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in found:
                found.add(child)
                frontier.append(child)
    return found


@pytest.fixture
def tree_program(target):
    """The tree_attach target running untraced: (Popen, {name: pid})."""
    started = []

    def _start():
        p = subprocess.Popen([target("tree_attach")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        started.append(p)
        ready = {int(p.stdout.readline().split()[1]) for _ in range(4)}
        a1 = next(pid for pid in ready if ppid_of(pid) != p.pid and pid != p.pid)
        a = ppid_of(a1)
        f = (ready - {p.pid, a, a1}).pop()
        wait_for(lambda: any(proc_state(c) == "T" and ppid_of(c) == p.pid
                             for c in live_descendants(p.pid)), what="b's job-control stop")
        b = next(c for c in live_descendants(p.pid) if proc_state(c) == "T" and ppid_of(c) == p.pid)
        return p, {"root": p.pid, "a": a, "a1": a1, "b": b, "f": f}

    yield _start
    for p in started:
        if p.poll() is None:
            # Frozen first (f forks all the time), then killed.
            below, seen = set(), None
            while below != seen:
                seen, below = below, live_descendants(p.pid, zombies=True)
                for pid in below:
                    _signal(pid, signal.SIGSTOP)
                wait_for(lambda: all(proc_state(pid) in (None, "T", "Z", "X") for pid in below),
                         what="the tree to stop")
            for pid in below:
                _signal(pid, signal.SIGKILL)
            p.kill()
            p.wait(timeout=5)
            for pid in below:  # (orphans of the root: ours to reap, tests/conftest.py)
                wait_for(lambda: _reaped(pid), what=f"{pid} to be reaped")


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _reaped(pid):
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def check_taken_over(d, root_pid):
    """Every live process of the tree is traced by exactly one Debugger,
    placed under its parent's, with every one of its threads."""
    dbgs = tree(d)
    pids = [x.pid for x in dbgs]
    assert len(pids) == len(set(pids)), "a process has two Debuggers"
    live = {x.pid: x for x in dbgs if not x.dead}
    assert set(live) == live_descendants(root_pid) | {root_pid}
    tracer = d.control.tracer.thread.native_id
    for pid, x in live.items():
        assert tracer_of(pid) == tracer
        assert {t.tid for t in x.threads if not t.dead} == task_tids(pid)
        for c in x.children:
            if not c.dead:
                assert ppid_of(c.pid) == pid
    return live


def test_attach_tree_takes_every_process_once_and_detach_gives_it_back(tree_program, target):
    p, pids = tree_program()
    hits = collections.defaultdict(set)

    def count(name):
        return lambda t, bp: hits[name].add(t.pid)

    for cycle in range(3):
        d = debugger(target("tree_attach"))
        d.attach(p.pid, tree=True)
        try:
            live = check_taken_over(d, p.pid)
            for name in ("root", "a", "a1", "b", "f"):
                assert pids[name] in live
            assert live[pids["b"]].children == [] and live[pids["a"]].children[0].pid == pids["a1"]
            if cycle == 0:
                # Breakpoints work in every process; f's new children get f's.
                for x in live.values():
                    x.inherit_stopping_events = True
                    x.on_fork(lambda parent, child: child.cont())
                    x.breakpoint("tick", file="binary", callback=count("tick"))
                    x.breakpoint("forked", file="binary", callback=count("forked"))
                    x.breakpoint("blip", file="binary", callback=count("blip"))
            b = live.pop(pids["b"])
            assert b.job_stopped and not b.running  # seen in the job-control stop it is in
            for x in live.values():
                x.cont()
            if cycle == 0:
                wait_for(lambda: {pids["root"], pids["a"], pids["a1"]} <= hits["tick"]
                         and pids["f"] in hits["forked"] and hits["blip"],
                         timeout=20, what="breakpoint hits in every process")
                assert all(ppid_of(pid) in (pids["f"], None) for pid in frozenset(hits["blip"]))
                assert pids["b"] not in hits["tick"]  # (it is in its job-control stop)
        finally:
            d.interrupt()
            d.detach(tree=True)
        # Given back: untraced, running (b still in its job-control stop).
        for pid in live_descendants(p.pid) | {p.pid}:
            assert tracer_of(pid) in (0, None)  # (None: a short-lived child of f, gone)
        # (a detached thread of a stopped group runs a moment on its way back to
        # its group-stop: "R" until then, never "S" unless it was continued)
        wait_for(lambda: proc_state(pids["b"]) == "T", what="b back in its job-control stop")
        assert all(proc_state(pids[n]) in ("S", "R") for n in ("root", "a", "a1", "f"))
    os.kill(pids["b"], signal.SIGCONT)
    p.stdin.close()
    assert p.wait(timeout=20) == 0  # every process exited 0, its signal mask unchanged


def test_attach_tree_refuses_settings_that_let_children_go(tree_program, target):
    p, _ = tree_program()
    d = debugger(target("tree_attach"), follow_children=False)
    with pytest.raises(ValueError, match="tree=True"):
        d.attach(p.pid, tree=True)
    with pytest.raises(TypeError, match="tree must be a bool"):
        d.attach(p.pid, tree="yes")   # (not "anything truthy")
    d.attach(p.pid)  # still usable; without the tree
    assert d.children == []
    with pytest.raises(TypeError, match="tree must be a bool"):
        d.detach(tree=1)
    d.detach()


def test_cli_trace_p_tree_attaches_to_every_process_and_ctrl_c_lets_them_go(tree_program, tmp_path):
    p, pids = tree_program()
    out = tmp_path / "events.jsonl"
    src = pathlib.Path(__file__).resolve().parents[2] / "src"
    env = dict(os.environ, PYTHONPATH=str(src) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t = subprocess.Popen([sys.executable, "-m", "tether", "trace", "-p", str(p.pid), "--tree",
                          "-b", "forked", "--json", "-o", str(out)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # f keeps calling forked(): once its hits show, the trace is under way.
        wait_for(lambda: out.exists() and '"breakpoint"' in out.read_text(), timeout=20,
                 what="a breakpoint hit in f")
        t.send_signal(signal.SIGINT)
        _, err = t.communicate(timeout=30)
    finally:
        if t.poll() is None:
            t.kill()
            t.wait()
    assert t.returncode == 0, err
    events = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    attached = [e["pid"] for e in events if e["kind"] == "attach"]
    assert len(attached) == len(set(attached))
    assert set(pids.values()) <= set(attached)
    assert {e["ppid"] for e in events if e["kind"] == "attach" and e["pid"] == pids["a1"]} \
        == {pids["a"]}
    assert any(e["kind"] == "breakpoint" and e["pid"] == pids["f"] for e in events)
    detached = {e["pid"] for e in events if e["kind"] == "detach"}
    assert set(pids.values()) <= detached
    for pid in live_descendants(p.pid) | {p.pid}:
        assert tracer_of(pid) in (0, None)
    # (a detached thread of a stopped group runs a moment on its way back to
    # its group-stop: "R" until then, never "S" unless it was continued)
    wait_for(lambda: proc_state(pids["b"]) == "T", what="b back in its job-control stop")
    os.kill(pids["b"], signal.SIGCONT)
    p.stdin.close()
    assert p.wait(timeout=20) == 0


SEIZER = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(0x4206, int(sys.argv[1]), 0, 0) != 0:   # PTRACE_SEIZE: a1 runs on, traced
    sys.exit(1)
print("seized", flush=True)
sys.stdin.read()   # until the test closes our stdin; our exit lets a1 go
"""


def test_a_child_traced_by_another_tracer_is_reported_and_left_alone(tree_program, target):
    p, pids = tree_program()
    other = subprocess.Popen([sys.executable, "-c", SEIZER, str(pids["a1"])],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "seized\n"
        d = debugger(target("tree_attach"))
        with pytest.warns(RuntimeWarning, match=f"child {pids['a1']} of process {pids['a']}"):
            d.attach(p.pid, tree=True)
        try:
            traced = {x.pid for x in tree(d)}
            assert pids["a1"] not in traced and {pids["root"], pids["a"], pids["f"]} <= traced
            assert tracer_of(pids["a1"]) == other.pid
        finally:
            d.detach(tree=True)
    finally:
        other.stdin.close()
        other.wait(timeout=10)
    os.kill(pids["b"], signal.SIGCONT)
    p.stdin.close()
    assert p.wait(timeout=20) == 0
