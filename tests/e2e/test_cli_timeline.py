"""`tether trace --timeline FILE` (Chrome JSON trace event format, for the
Perfetto UI and chrome://tracing), checked by a strict reading of the format:
the phases used and their fields, every flow's two ends, and slices properly
nested on every track (the viewers drop slices that overlap partially).
Also the other display flags of the same issue on real programs: job-control
stops, -t/-tt/-ttt, -T, exec lines, and a syscall left blocked by another
thread's exec."""
import collections
import json
import re
import time

import pytest

from test_cli import events_of, json_events, tether

PHASES = {"M", "X", "i", "s", "f"}


def check_trace_document(doc):
    """The checks a viewer's importer makes, strictly; returns the events."""
    assert set(doc) >= {"traceEvents"} and isinstance(doc["traceEvents"], list)
    assert doc.get("displayTimeUnit", "ms") in ("ms", "ns")
    events = doc["traceEvents"]
    flows = collections.defaultdict(list)
    tracks = collections.defaultdict(list)
    for e in events:
        assert e["ph"] in PHASES, e
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
        assert isinstance(e["name"], str) and e["name"], e
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "thread_name", "process_sort_index",
                                 "thread_sort_index"), e
            assert isinstance(e["args"], dict)
            continue
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert isinstance(e["dur"], (int, float)) and e["dur"] > 0, e
            tracks[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["name"]))
        elif e["ph"] == "i":
            assert e["s"] in ("t", "p", "g"), e
        else:
            assert isinstance(e["id"], int), e
            if e["ph"] == "f":
                assert e.get("bp") == "e", e
            flows[e["id"]].append(e)
    for ends in flows.values():
        assert sorted(x["ph"] for x in ends) == ["f", "s"], ends
        start, end = sorted(ends, key=lambda x: x["ph"] != "s")
        assert start["ts"] <= end["ts"] and (start["pid"], start["tid"]) != (end["pid"], end["tid"])
    for track, slices in tracks.items():
        stack = []
        for begin, end, name in sorted(slices, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1][1] <= begin:
                stack.pop()
            assert not stack or end <= stack[-1][1], (track, name, stack[-1])
            stack.append((begin, end, name))
    return events


def test_timeline_of_a_process_tree(target, tmp_path):
    timeline = tmp_path / "run.json"
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "--timeline", str(timeline), "-b", "counted",
               "-e", "trace=write,clone,clone3,wait4,exit_group", "-o", str(out), "--",
               target("cli_tree"), "0")
    assert r.returncode == 0, r.stderr
    events = check_trace_document(json.loads(timeline.read_text()))
    trace = json_events(out)
    pids = {e["pid"] for e in trace}
    named = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert named == pids                                  # one track group per process
    threads = {(e["pid"], e["tid"]) for e in trace if e["kind"] == "thread"}
    lives = {(e["pid"], e["tid"]) for e in events if e["ph"] == "X" and e["cat"] == "thread"}
    assert threads and threads == lives                   # and one track per thread
    process_lives = [e for e in events if e["ph"] == "X" and e["cat"] == "process"]
    assert {e["pid"] for e in process_lives} == pids
    assert {e["args"]["end"] for e in process_lives} >= {"exited 0", "exited 5", "exited 7",
                                                          "killed by SIGTERM"}
    calls = [e for e in events if e["ph"] == "X" and e["cat"] == "syscall"]
    assert len(calls) == sum(1 for e in trace if e["kind"] == "syscall")
    instants = collections.Counter((e["cat"], e["name"]) for e in events if e["ph"] == "i")
    assert instants[("breakpoint", "counted")] == 8
    assert instants[("exec", "exec")] == 1
    assert instants[("signal", "signal SIGUSR1")] == 1
    arrows = [e for e in events if e["ph"] == "s"]
    forks = [e for e in trace if e["kind"] in ("fork", "vfork", "clone")]
    assert sorted(a["pid"] for a in arrows) == sorted(f["pid"] for f in forks)


def test_timeline_written_even_when_the_program_is_killed(target, tmp_path):
    timeline = tmp_path / "run.json"
    r = tether("trace", "--timeline", str(timeline), "-o", str(tmp_path / "t.txt"), "--",
               target("cli_tree"), "sigterm")
    assert r.returncode == 128 + 15
    check_trace_document(json.loads(timeline.read_text()))


@pytest.mark.parametrize("mode", ["selfstop", "parentstop"])
def test_job_control_stops_are_shown(target, tmp_path, mode):
    out = tmp_path / "t.jsonl"
    r = tether("trace", "--json", "-o", str(out), "--", target("mp_jobctl"), mode)
    assert r.returncode == 0, r.stdout + r.stderr
    trace = json_events(out)
    (child,) = [e["details"]["child"] for e in trace if e["kind"] == "fork"]
    stops = [e for e in trace if e["kind"] == "stopped"]
    assert [(e["pid"], e["details"]["signal"]) for e in stops] == [(child, "SIGSTOP")]
    assert any(e["kind"] == "signal" and e["pid"] == child and e["details"]["signal"] == "SIGCONT"
               for e in trace)


def test_timestamps_and_times_in_syscalls(target, tmp_path):
    for flag, pattern in (("-t", r"\d\d:\d\d:\d\d"), ("-tt", r"\d\d:\d\d:\d\d\.\d{6}"),
                          ("-ttt", r"\d{10}\.\d{6}")):
        out = tmp_path / f"t{flag}.txt"
        before = time.time()
        r = tether("trace", flag, "-T", "-e", "trace=write", "-o", str(out), "--",
                   target("cli_tree"), "0")
        assert r.returncode == 0
        event_lines = [ln for ln in out.read_text().splitlines() if re.match(pattern + " ", ln)]
        assert event_lines and len(event_lines) >= 10
        writes = [ln for ln in event_lines if " write(" in ln]
        assert writes and all(re.search(r" = \d+ <\d+\.\d{6}>$", ln) for ln in writes)
        if flag == "-ttt":
            stamp = float(event_lines[0].split()[0])
            assert before - 5 < stamp < time.time() + 5


def test_exec_lines_show_argv(target, tmp_path):
    out = tmp_path / "t.txt"
    r = tether("trace", "-o", str(out), "--", "sh", "-c", f"exec {target('cli_tree')} 0 extra")
    assert r.returncode == 0
    assert any(e[3] == f"exec {target('cli_tree')} 0 extra" for e in events_of(out.read_text()))


@pytest.mark.parametrize("seccomp", ["--seccomp-bpf", "--no-seccomp-bpf"])
def test_a_syscall_blocked_in_a_thread_is_shown_when_another_thread_execs(target, tmp_path,
                                                                           seccomp):
    """mp_thread_exec one: main and two threads are blocked in pause() when
    the third execs: their pause() never returns ('= ?', strace's
    <unfinished ...>); the exec'ing thread's execve returns 0."""
    out = tmp_path / "t.jsonl"
    r = tether("trace", "--json", seccomp, "-e", "trace=pause,execve", "-o", str(out), "--",
               target("mp_thread_exec"), "one", "/bin/true")
    assert r.returncode == 0, r.stderr
    calls = [e["details"] for e in json_events(out) if e["kind"] == "syscall"]
    pauses = [c for c in calls if c["name"] == "pause"]
    assert len(pauses) == 3 and all(c["text"] == "pause() = ?" for c in pauses)
    execs = [c for c in calls if c["name"] == "execve"]
    assert [c["return"] for c in execs] == [0, 0]       # the program's, then the thread's
    assert execs[1]["text"].startswith('execve("/bin/true", ["/bin/true"], ')
