"""`tether` as users run it: a subprocess (`python -m tether ...`) on the C
targets tests/targets/cli_tree.c (threads, a fork+exec tree, signals, exit
codes) and cli_spin.c (runs until stopped, for -p and Ctrl-C).

The process tree of cli_tree (see its header): root R with 2 threads forks A
(exits 5), A forks G which execs cli_tree "leaf" (exits 7), then R forks B
(killed by SIGTERM); R writes "tree done\\n" and exits with its argument."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
TIMEOUT = 30
LINE = re.compile(r"^ *(?P<time>\d+\.\d{4}) (?P<indent> *)(?P<pid>\d+)(?:/(?P<tid>\d+))? (?P<text>.*)$")


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def tether(*args, env=None, timeout=TIMEOUT):
    """Run `python -m tether ARGS`; the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "tether", *args], capture_output=True, text=True,
                          timeout=timeout, env=env or _env(), stdin=subprocess.DEVNULL)


def events_of(text):
    """The event lines of a text trace: (indent, pid, tid, text) tuples."""
    out = []
    for line in text.splitlines():
        if line.startswith("---"):
            break
        m = LINE.match(line)
        assert m, f"not an event line: {line!r}"
        out.append((len(m["indent"]) // 2, int(m["pid"]), int(m["tid"] or m["pid"]), m["text"]))
    return out


def json_events(path):
    lines = pathlib.Path(path).read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for e in events:
        assert set(e) == {"time", "pid", "tid", "ppid", "kind", "details"}, e
    return events


def tree_pids(events):
    """root, A, G, B pids from the fork events of a cli_tree JSON trace."""
    root = next(e["pid"] for e in events if e["kind"] == "start")
    forks = [e for e in events if e["kind"] == "fork"]
    from_root = [e["details"]["child"] for e in forks if e["pid"] == root]
    a, b = from_root  # A is forked (and waited for) before B
    g = next(e["details"]["child"] for e in forks if e["pid"] == a)
    return root, a, g, b


@pytest.fixture(scope="module")
def cli_tree(target):
    return target("cli_tree")


# ------------------------------------------------------------------ the tree
def test_trace_prints_the_tree_of_events_and_passes_the_exit_code_through(cli_tree, tmp_path):
    out = tmp_path / "trace.txt"
    r = tether("trace", "-o", str(out), "--", cli_tree, "9")
    assert r.returncode == 9, r.stderr
    # The program's own output passes through unchanged, and ours is elsewhere.
    assert r.stdout == "leaf\ntree done\n"
    assert r.stderr == ""
    text = out.read_text()
    events = events_of(text)
    root = events[0][1]
    assert events[0] == (0, root, root, f"start {cli_tree} 9")
    threads = [e for e in events if e[3] == "thread started"]
    assert len(threads) == 2 and all(e[1] == root and e[2] != root for e in threads)
    assert (0, root, root, "signal SIGUSR1") in events
    forks = [e for e in events if e[3].startswith("fork -> child ")]
    assert len(forks) == 3
    a, b = [int(e[3].split()[-1]) for e in forks if e[1] == root]
    (g_fork,) = [e for e in forks if e[1] == a]
    g = int(g_fork[3].split()[-1])
    assert g_fork[0] == 1  # A is a child of the root: indented once
    assert (2, g, g, f"exec {cli_tree} leaf") in events
    assert (2, g, g, "exited 7") in events
    assert (1, a, a, "exited 5") in events
    assert (1, b, b, "signal SIGTERM") in events
    assert (1, b, b, "killed by SIGTERM") in events
    assert events[-1] == (0, root, root, "exited 9")
    # Each process's exit comes after its birth.
    order = [e[3] for e in events]
    assert order.index(f"fork -> child {g}") < order.index(f"exec {cli_tree} leaf")
    summary = text[text.index("--- tether summary"):].splitlines()
    assert summary[0].startswith("--- tether summary: 4 processes, 6 threads, ")
    assert re.match(rf"  {root} .*cli_tree +exited 9 +3 threads$", summary[1])
    assert re.match(rf"  ├── {a} .*exited 5", summary[2])
    assert re.match(rf"  │   └── {g} .*exited 7 +1 thread, exec x1$", summary[3])
    assert re.match(rf"  └── {b} .*killed by SIGTERM", summary[4])
    assert "fork 3" in summary[5] and "exec 1" in summary[5] and "exit 4" in summary[5]
    assert summary[-1] == "exit status 9"


def test_events_go_to_stderr_by_default_and_stdout_with_dash(cli_tree):
    r = tether("trace", "--", cli_tree, "0")
    assert r.returncode == 0
    assert r.stdout == "leaf\ntree done\n"
    assert "--- tether summary: 4 processes" in r.stderr
    assert "\x1b[" not in r.stderr  # not a terminal: no colour
    r = tether("trace", "-o", "-", "--color", "always", "--", cli_tree, "0")
    assert r.returncode == 0 and r.stderr == ""
    assert "\x1b[36mfork -> child" in r.stdout
    assert "leaf\n" in r.stdout and "tree done\n" in r.stdout


def test_killed_root_exits_128_plus_the_signal(cli_tree, tmp_path):
    out = tmp_path / "trace.txt"
    r = tether("trace", "-o", str(out), "--", cli_tree, "sigterm")
    assert r.returncode == 128 + signal.SIGTERM
    events = events_of(out.read_text())
    root = events[0][1]
    assert events[-1] == (0, root, root, "killed by SIGTERM")
    assert out.read_text().splitlines()[-1] == "exit status 143"


def test_exit_code_of_a_plain_program(tmp_path):
    r = tether("trace", "--", "false")
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == "exit status 1"
    assert re.search(r"^ +\d+\.\d{4} \d+ start false$", r.stderr, re.M)


# ------------------------------------------------------------------ JSON
def test_json_events_one_object_per_line(cli_tree, tmp_path):
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "-o", str(out), "--", cli_tree, "4")
    assert r.returncode == 4 and r.stdout == "leaf\ntree done\n"
    events = json_events(out)
    root, a, g, b = tree_pids(events)
    start = events[0]
    assert start["kind"] == "start" and start["pid"] == root
    assert start["details"] == {"path": cli_tree, "argv": [cli_tree, "4"]}
    times = [e["time"] for e in events]
    assert times == sorted(times) and times[0] >= 0
    by = {}
    for e in events:
        by.setdefault((e["pid"], e["kind"]), []).append(e)
    # ppid is the parent in the traced tree
    assert {e["ppid"] for e in events if e["pid"] == a} == {root}
    assert {e["ppid"] for e in events if e["pid"] == g} == {a}
    assert {e["ppid"] for e in events if e["pid"] == b} == {root}
    assert by[(root, "fork")][0]["details"]["syscall"] == "clone"
    threads = by[(root, "thread")]
    assert len(threads) == 2 and all(t["tid"] != root for t in threads)
    (exe,) = by[(g, "exec")]
    assert exe["details"]["argv"] == [cli_tree, "leaf"]
    assert os.path.samefile(exe["details"]["path"], cli_tree)
    assert by[(g, "exit")][0]["details"] == {"code": 7}
    assert by[(a, "exit")][0]["details"] == {"code": 5}
    assert by[(b, "exit")][0]["details"] == {"signal": "SIGTERM"}
    assert by[(root, "exit")][0]["details"] == {"code": 4}
    assert {"signal": "SIGUSR1", "number": 10} in [e["details"] for e in by[(root, "signal")]]
    summary = events[-1]
    assert summary["kind"] == "summary" and summary["pid"] == root
    s = summary["details"]
    assert s["process_count"] == 4 and s["thread_count"] == 6 and s["exit_status"] == 4
    status = {p["pid"]: (p["exit_code"], p["exit_signal"]) for p in s["processes"]}
    assert status == {root: (4, None), a: (5, None), g: (7, None), b: (None, "SIGTERM")}
    assert s["events"]["fork"] == 3 and s["events"]["exec"] == 1 and s["events"]["exit"] == 4
    assert s["wall_time"] > 0


def test_fork_events_say_how_the_child_was_made(target, tmp_path):
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "-o", str(out), "--", target("cli_spawn"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "spawned\n"
    events = json_events(out)
    births = [(e["kind"], e["details"]["syscall"]) for e in events
              if e["kind"] in ("fork", "vfork", "clone")]
    assert len(births) == 3
    assert births[0][0] == "vfork" and births[0][1] in ("clone", "clone3", "vfork")  # posix_spawn
    assert births[1] == ("vfork", "vfork")
    assert births[2] == ("fork", "clone")  # glibc's fork() is clone(SIGCHLD)
    children = [e["details"]["child"] for e in events if e["kind"] in ("fork", "vfork")]
    exits = {e["pid"]: e["details"] for e in events if e["kind"] == "exit"}
    assert [exits[c] for c in children] == [{"code": 0}, {"code": 2}, {"code": 3}]
    (spawned,) = [e for e in events if e["kind"] == "exec"]
    assert spawned["pid"] == children[0] and spawned["details"]["argv"] == ["/bin/echo", "spawned"]


# ------------------------------------------------------------------ -b
def test_break_counts_hits_in_every_process(cli_tree, tmp_path):
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "-b", "counted", "-o", str(out), "--", cli_tree, "0")
    assert r.returncode == 0, r.stderr
    events = json_events(out)
    root, a, g, b = tree_pids(events)
    counts = events[-1]["details"]["breakpoints"]["counted"]
    # The root's two threads hit it once each; G hits it after its exec.
    assert counts == {str(root): 5, str(a): 2, str(g): 1, str(b): 0}
    hits = [e for e in events if e["kind"] == "breakpoint"]
    assert len(hits) == 8 and {e["details"]["symbol"] for e in hits} == {"counted"}
    assert sorted(e["details"]["hits"] for e in hits if e["pid"] == root) == [1, 2, 3, 4, 5]


def test_break_summary_text(cli_tree, tmp_path):
    out = tmp_path / "trace.txt"
    r = tether("trace", "-b", "counted", "-o", str(out), "--", cli_tree, "0")
    assert r.returncode == 0
    text = out.read_text()
    root = events_of(text)[0][1]
    assert re.search(rf"^breakpoint counted: 8 hits \({root}: 5, \d+: 2, \d+: 1, \d+: 0\)$", text, re.M)
    assert re.search(rf"^ +\d+\.\d{{4}} {root} breakpoint counted \(hit 5\)$", text, re.M)


def test_a_symbol_found_nowhere_is_reported(cli_tree, tmp_path):
    # It might have appeared in a child's program or a dlopen()ed library:
    # the program runs, and the summary (and stderr, with -o) says so.
    out = tmp_path / "trace.txt"
    r = tether("trace", "-b", "no_such_function_here", "-o", str(out), "--", cli_tree, "0")
    assert r.returncode == 0
    message = "no function 'no_such_function_here' in any traced program or its libraries"
    assert r.stderr == f"tether: -b no_such_function_here: {message}\n"
    assert f"breakpoint no_such_function_here: {message}" in out.read_text()


def test_break_is_planted_in_programs_started_through_a_shell(cli_tree, tmp_path):
    """The symbol is in a library (libc's getppid) of a program a shell execs:
    at its exec stop libc is not mapped yet; it is planted when the loader has
    mapped it, so every call is counted, none before main is missed."""
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "-b", "counted", "-b", "getpid", "-o", str(out), "--",
               "sh", "-c", f"{cli_tree} 3; exit $?")
    assert r.returncode == 3, r.stderr
    events = json_events(out)
    summary = events[-1]["details"]
    assert sum(summary["breakpoints"]["counted"].values()) == 8
    # B calls getpid() once before kill(getpid(), SIGTERM) (cli_tree.c)
    assert sum(summary["breakpoints"]["getpid"].values()) >= 1
    assert summary["breakpoints_never_found"] == []


# ------------------------------------------------------------------ -s
def test_syscalls_are_shown_strace_style(cli_tree, tmp_path):
    out = tmp_path / "trace.txt"
    r = tether("trace", "-e", "trace=all", "-o", str(out), "--", cli_tree, "0")
    assert r.returncode == 0 and r.stdout == "leaf\ntree done\n"
    text = out.read_text()
    events = events_of(text)
    root = events[0][1]
    assert (0, root, root, 'write(1, "tree done\\n", 10) = 10') in events
    assert any(e[3] == 'write(1, "leaf\\n", 5) = 5' and e[0] == 2 for e in events)
    assert any(e[3] == "exit_group(7) = ?" for e in events)
    # From the very first syscall, like strace: the exec of the program itself.
    first = next(e for e in events if "(" in e[3])
    assert first[3].startswith(f'execve("{cli_tree}", ["{cli_tree}", "0"], ') and first[3].endswith(" = 0")
    assert any(re.match(r'openat\(AT_FDCWD, "[^"]*libc\.so\.6", O_RDONLY\|O_CLOEXEC\) = \d+$', e[3])
               for e in events)
    assert any(re.match(r"clone\(.*\) = \d+$", e[3]) for e in events)
    assert re.search(r"^syscalls: [a-z_0-9]+ \d+, ", text, re.M)


def test_syscalls_filter_by_name(cli_tree, tmp_path):
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "-e", "trace=write,exit_group", "-o", str(out), "--", cli_tree, "0")
    assert r.returncode == 0
    events = json_events(out)
    calls = [e for e in events if e["kind"] == "syscall"]
    assert {e["details"]["name"] for e in calls} == {"write", "exit_group"}
    writes = [e["details"] for e in calls if e["details"]["name"] == "write"]
    assert sorted(w["text"] for w in writes) == ['write(1, "leaf\\n", 5) = 5',
                                                 'write(1, "tree done\\n", 10) = 10']
    assert all(w["return"] == w["args"][2] for w in writes)
    exits = [e["details"] for e in calls if e["details"]["name"] == "exit_group"]
    assert sorted(x["args"][0] for x in exits) == [0, 5, 7] and {x["return"] for x in exits} == {None}
    assert events[-1]["details"]["syscalls"] == {"write": 2, "exit_group": 3}


def test_every_syscall_of_every_process_is_counted(target, tmp_path):
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "-e", "trace=getppid,write", "-o", str(out), "--",
               target("cli_bench"), "300")
    assert r.returncode == 0, r.stderr
    events = json_events(out)
    root = events[0]["pid"]
    (child,) = [e["details"]["child"] for e in events if e["kind"] == "fork"]
    per = {}
    for e in events:
        if e["kind"] == "syscall":
            key = (e["pid"], e["details"]["name"])
            per[key] = per.get(key, 0) + 1
            if e["details"]["name"] == "write":
                assert e["details"]["text"].endswith(', "0123456789", 10) = 10')
            else:
                # ppid is the parent in the traced tree: the root's is tether itself
                assert e["details"]["text"] == f"getppid() = {e['ppid']}"
    assert per == {(root, "getppid"): 300, (root, "write"): 300,
                   (child, "getppid"): 300, (child, "write"): 300}
    assert events[-1]["details"]["syscalls"] == {"getppid": 600, "write": 600}


def test_unknown_syscall_name_is_a_usage_error(cli_tree):
    r = tether("trace", "-e", "trace=write,frobnicate", "--", cli_tree, "0")
    assert r.returncode == 2
    assert r.stderr.startswith("usage: tether trace")
    assert r.stderr.splitlines()[-1] == "tether: unknown system call name 'frobnicate' in -e trace="


# ------------------------------------------------------------------ --no-follow
def test_no_follow_traces_only_the_first_process(cli_tree, tmp_path):
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--no-follow", "--json", "-o", str(out), "--", cli_tree, "6")
    assert r.returncode == 6
    assert r.stdout == "leaf\ntree done\n"  # the children still run, untraced
    events = json_events(out)
    root = events[0]["pid"]
    assert {e["pid"] for e in events} == {root}
    kinds = {e["kind"] for e in events}
    assert "fork" not in kinds and "exec" not in kinds
    assert len([e for e in events if e["kind"] == "thread"]) == 2  # threads are still followed
    assert events[-1]["details"]["process_count"] == 1


# ------------------------------------------------------------------ scripts
def test_a_script_runs_through_its_interpreter(tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n/bin/echo from-script\nexit 4\n")
    script.chmod(0o755)
    out = tmp_path / "events.jsonl"
    r = tether("trace", "--json", "-o", str(out), "--", str(script))
    assert r.returncode == 4
    assert r.stdout == "from-script\n"
    events = json_events(out)
    # Run as it is: the kernel starts the interpreter, as for any exec.
    assert events[0]["details"]["argv"] == [str(script)]
    assert events[0]["details"]["path"] == str(script)
    execs = [e for e in events if e["kind"] == "exec"]
    assert [e["details"]["argv"] for e in execs] == [["/bin/echo", "from-script"]]
    assert events[-1]["details"]["process_count"] == 2


# ------------------------------------------------------------------ bad input
def test_program_not_found_is_127_and_one_line():
    r = tether("trace", "--", "no-such-program-for-tether")
    assert r.returncode == 127
    assert r.stderr == "tether: no-such-program-for-tether: command not found\n"
    r = tether("trace", "--", "/no/such/dir/prog")
    assert r.returncode == 127
    assert r.stderr == "tether: /no/such/dir/prog: no such file or directory\n"


def test_not_executable_is_126(tmp_path):
    f = tmp_path / "data"
    f.write_text("x")
    r = tether("trace", "--", str(f))
    assert r.returncode == 126
    assert r.stderr == f"tether: {f}: cannot execute: not executable\n"


@pytest.mark.parametrize("args, message", [
    (["trace"], "missing PROGRAM"),
    (["trace", "--frobnicate", "--", "true"], "unknown option --frobnicate"),
    (["trace", "-s", "write", "--", "true"], "to choose system calls use -e trace=write"),
    (["trace", "-p", "abc"], "not a process id"),
    (["trace", "-p", "1", "--", "true"], "not both"),
    (["nosuchcommand"], "invalid choice"),
    ([], "missing command"),
])
def test_usage_errors_exit_2(args, message):
    r = tether(*args)
    assert r.returncode == 2
    assert "usage: tether" in r.stderr
    assert message in r.stderr.splitlines()[-1]
    assert "Traceback" not in r.stderr


def test_attaching_to_a_missing_pid_fails_in_one_line():
    pid = 4194304 + 1  # above the kernel's largest pid_max: never a process
    r = tether("trace", "-p", str(pid))
    assert r.returncode == 1
    assert r.stderr == f"tether: cannot attach to process {pid}: process {pid} does not exist\n"


def test_help_and_version():
    r = tether("--help")
    assert r.returncode == 0 and "tether trace" in r.stdout
    r = tether("--version")
    assert r.returncode == 0 and r.stdout.startswith("tether ")


# ------------------------------------------------------------------ -p and Ctrl-C
def _wait_for_text(path, pattern, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and re.search(pattern, path.read_text(), re.M):
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{pattern!r} never showed in {path}:\n"
                         f"{path.read_text() if path.exists() else '(missing)'}")


def _status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def test_attach_then_ctrl_c_detaches_and_prints_the_summary(target, tmp_path):
    spin = subprocess.Popen([target("cli_spin")], stdout=subprocess.PIPE, text=True)
    try:
        assert spin.stdout.readline() == "ready\n"
        out = tmp_path / "trace.txt"
        # -s, not -b: detaching while a thread sits on a breakpoint trap the
        # library has not handled yet can leave it past the int3 (a core bug,
        # see the CLI report), which would make this test flaky.
        t = subprocess.Popen([sys.executable, "-m", "tether", "trace", "-p", str(spin.pid),
                              "-e", "trace=write", "-o", str(out)], env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_text(out, r'(write\(3, "t", 1\) = 1\n.*){3}')
            t.send_signal(signal.SIGINT)
            _, err = t.communicate(timeout=TIMEOUT)
        finally:
            if t.poll() is None:
                t.kill()
                t.wait()
        assert t.returncode == 0, err
        assert err == ""
        text = out.read_text()
        events = events_of(text)
        assert events[0][1:] == (spin.pid, spin.pid, f"attached to {target('cli_spin')} (2 threads)")
        assert events[-1] == (0, spin.pid, spin.pid, "detached")
        assert re.search(rf"^  {spin.pid} .*detached +2 threads, \d+ syscalls$", text, re.M)
        assert re.search(r"^syscalls: write \d+$", text, re.M)
        # The process runs on, untraced and without our breakpoint.
        assert _status_field(spin.pid, "TracerPid") == "0"
        assert _status_field(spin.pid, "State")[0] in "RS"
        time.sleep(0.1)
        assert spin.poll() is None
    finally:
        spin.kill()
        spin.wait()


def test_ctrl_c_ends_a_started_program_and_prints_the_summary(target, tmp_path):
    out = tmp_path / "trace.txt"
    t = subprocess.Popen([sys.executable, "-m", "tether", "trace", "-o", str(out), "--",
                          target("cli_spin")], env=_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert t.stdout.readline() == "ready\n"  # the program's output passes through
        t.send_signal(signal.SIGINT)  # only tether gets it: the program won't end by itself
        _, err = t.communicate(timeout=TIMEOUT)
    finally:
        if t.poll() is None:
            t.kill()
            t.wait()
    assert t.returncode == 128 + signal.SIGKILL, err
    text = out.read_text()
    events = events_of(text)
    assert events[-1][3] == "killed by SIGKILL"
    assert "(interrupted)" in text.splitlines()[-1]


# ------------------------------------------------------------------ demo
def test_demo_builds_into_the_cache_and_traces_a_process_tree(tmp_path):
    r = tether("demo", "--json", "-o", str(tmp_path / "events.jsonl"),
               env=_env(XDG_CACHE_HOME=str(tmp_path / "cache")), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "hello from the grandchild" in r.stdout
    (binary,) = (tmp_path / "cache" / "tether").glob("demo-*/demo")
    events = json_events(tmp_path / "events.jsonl")
    kinds = [e["kind"] for e in events]
    assert kinds.count("fork") == 3 and kinds.count("thread") == 2 and "exec" in kinds
    exits = {e["pid"]: e["details"] for e in events if e["kind"] == "exit"}
    assert sorted(exits.values(), key=str) == sorted(
        [{"code": 0}, {"code": 3}, {"code": 0}, {"signal": "SIGTERM"}], key=str)
    assert events[0]["details"]["path"] == str(binary)
    s = events[-1]["details"]
    assert s["process_count"] == 4 and s["exit_status"] == 0
    # A second run reuses the binary.
    mtime = binary.stat().st_mtime_ns
    r = tether("demo", "-b", "work", env=_env(XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert r.returncode == 0
    assert binary.stat().st_mtime_ns == mtime
    assert re.search(r"^breakpoint work: 4 hits", r.stderr, re.M)
