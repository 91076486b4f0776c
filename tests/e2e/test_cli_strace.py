"""`tether trace` against strace on the same programs: the same syscalls, the
same number of calls of each in each run, the same errors, the same exit
status; with the seccomp-bpf filter (the default with a syscall set) and
without it (--no-seccomp-bpf). Also -c's table against strace -c's, and the
decoders (-s, -v, -y, stat) on a known program.

strace is the oracle: it is installed by .ci/run."""
import collections
import json
import pathlib
import re
import subprocess

import pytest

from test_cli import TIMEOUT, json_events, tether

STRACE_CALL = re.compile(r"^(?P<pid>\d+) +(?P<name>[a-z_0-9]+)\(")


def strace(tmp_path, trace_set, argv):
    """Run argv under `strace -f -e trace=SET`: (exit status, Counter of names)."""
    out = tmp_path / "strace.txt"
    r = subprocess.run(["strace", "-f", "-qq", "-e", f"trace={trace_set}", "-o", str(out), *argv],
                       capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    # strace dies of the signal that killed the program; tether exits 128 + it, as a shell says
    names = collections.Counter()
    for line in out.read_text().splitlines():
        m = STRACE_CALL.match(line)   # a call (whole or "<unfinished ...>"), not "<... resumed>"
        if m:
            names[m["name"]] += 1
    return (r.returncode if r.returncode >= 0 else 128 - r.returncode), names


def traced(tmp_path, trace_set, argv, *extra):
    """The same under `tether trace --json`: (exit status, Counter, events)."""
    out = tmp_path / "tether.jsonl"
    r = tether("trace", "--json", "-f", "-e", f"trace={trace_set}", *extra, "-o", str(out),
               "--", *argv)
    assert "Traceback" not in r.stderr, r.stderr
    events = json_events(out)
    names = collections.Counter(e["details"]["name"] for e in events if e["kind"] == "syscall")
    return r.returncode, names, events


PROCESS_CALLS = "execve,exit_group,exit,wait4,clone,clone3,fork,vfork,kill,getppid,write"

CASES = [
    ("cli_tree", ["0"]),
    ("cli_tree", ["sigterm"]),        # killed by a signal: status 128 + 15
    ("mp_fork", []),
    ("mp_vfork", ["exec"]),
    ("mp_vfork", ["spawn"]),          # posix_spawn: clone(CLONE_VM|CLONE_VFORK)
    ("mp_vfork", ["system"]),
    ("mp_thread_exec", ["one", "/bin/true"]),   # exec from a thread while others block
    ("cli_bench", ["50"]),
]


@pytest.mark.parametrize("seccomp", ["--seccomp-bpf", "--no-seccomp-bpf"])
@pytest.mark.parametrize("name, args", CASES, ids=[f"{n}-{'-'.join(a)}" for n, a in CASES])
def test_same_syscalls_counts_and_status_as_strace(target, tmp_path, name, args, seccomp):
    argv = [target(name), *args]
    if name == "mp_thread_exec":
        argv[2] = "/bin/true"
    status, expected = strace(tmp_path, PROCESS_CALLS, argv)
    got_status, got, _ = traced(tmp_path, PROCESS_CALLS, argv, seccomp)
    assert got_status == status
    assert got == expected


def test_a_class_and_a_negated_set_trace_what_strace_traces(target, tmp_path):
    """%process expanded by tether is given to strace by name (the class
    memberships of the two tools need not agree); `!` negation against
    strace's own."""
    from tether.arch.amd64.syscall_classes import syscall_class
    argv = [target("mp_vfork"), "system"]
    names = ",".join(sorted(syscall_class("process")))
    status, expected = strace(tmp_path, names, argv)
    got_status, got, _ = traced(tmp_path, "%process", argv)
    assert (got_status, got) == (status, expected)
    # (cli_tree, not system(): a shell's rt_sigaction calls depend on the
    # signal dispositions it inherits, which strace and tether's Python set apart)
    argv = [target("cli_tree"), "0"]
    # futex is left out too: whether pthread_join waits depends on timing.
    negated = "!" + ",".join(sorted({"mmap", "mprotect", "munmap", "brk", "read", "close",
                                     "futex"}))
    status, expected = strace(tmp_path, negated, argv)
    got_status, got, _ = traced(tmp_path, negated, argv)
    assert got_status == status
    # strace also shows the calls of its own child before the exec of argv[0]
    # (none reach us: tether's start is the exec); compare from the exec on.
    assert {k: v for k, v in got.items() if k != "execve"} == \
        {k: v for k, v in expected.items() if k != "execve"}
    assert got["execve"] == expected["execve"]


def test_c_counts_calls_and_errors_like_strace_c(target, tmp_path):
    argv = [target("cli_tree"), "0"]
    out = tmp_path / "strace_c.txt"
    strace_run = subprocess.run(["strace", "-f", "-c", "-o", str(out), *argv], timeout=TIMEOUT,
                                capture_output=True, stdin=subprocess.DEVNULL)
    expected = {}
    for line in out.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1] != "total" and parts[0][0].isdigit():
            calls = int(parts[3])
            errors = int(parts[4]) if len(parts) == 6 else 0
            expected[parts[-1]] = (calls, errors)
    res = tmp_path / "tether.jsonl"
    r = tether("trace", "--json", "-c", "-o", str(res), "--", *argv)
    assert r.returncode == strace_run.returncode
    events = json_events(res)
    assert not [e for e in events if e["kind"] == "syscall"]   # -c: counted, not shown
    tree = events[-1]["details"]["syscall_stats"]["tree"]
    got = {name: (row["calls"], row["errors"]) for name, row in tree.items()
           if name not in ("exit", "exit_group")}   # strace -c leaves out calls that never return
    # whether pthread_join waits on a futex (and how often) depends on timing
    got.pop("futex", None)
    expected.pop("futex", None)
    assert got == expected
    per_process = events[-1]["details"]["syscall_stats"]["processes"]
    assert len(per_process) >= 2
    assert sum(p.get("wait4", {"calls": 0})["calls"] for p in per_process.values()) == \
        tree["wait4"]["calls"]


def test_c_text_table(target, tmp_path):
    out = tmp_path / "trace.txt"
    r = tether("trace", "-c", "-e", "trace=getppid,write", "-o", str(out), "--",
               target("cli_bench"), "20")
    assert r.returncode == 0
    text = out.read_text()
    assert "getppid(" not in text                     # no syscall lines with -c
    tree = text.split("system calls of the whole tree:\n")[1]
    assert re.search(r"^ *[\d.]+ +[\d.]+ +\d+ +40 +getppid$", tree, re.M)
    assert re.search(r"^ *[\d.]+ +[\d.]+ +\d+ +40 +write$", tree, re.M)
    assert re.search(r"^100\.00 +[\d.]+ +\d+ +80 +total$", tree, re.M)
    assert text.count("% time     seconds  usecs/call     calls    errors syscall") == 3


def test_decoders_string_size_fds_stat_execve(target, tmp_path):
    """-s cuts data strings (not paths), -y names fds, stat structs and execve's
    argv are decoded, envp only counted unless -v."""
    out = tmp_path / "t.jsonl"
    prog = target("cli_bench")
    r = tether("trace", "--json", "-y", "-s", "4", "-e", "trace=write,openat,execve,newfstatat,fstat",
               "-o", str(out), "--", prog, "2")
    assert r.returncode == 0
    texts = [e["details"]["text"] for e in json_events(out) if e["kind"] == "syscall"]
    assert any(re.fullmatch(r'write\(\d+</dev/null>, "0123"\.\.\., 10\) = 10', t) for t in texts)
    execve = next(t for t in texts if t.startswith("execve("))
    assert re.fullmatch(rf'execve\("{re.escape(prog)}", \["{re.escape(prog)}", "2"\], '
                        r'0x[0-9a-f]+ /\* \d+ vars \*/\) = 0', execve) or \
        execve.startswith(f'execve("{prog}", ["{prog}", "2"], [/* ')   # (seen from the new image)
    assert any(re.match(r'openat\(AT_FDCWD<[^>]+>, "[^"]*libc\.so\.6", O_RDONLY\|O_CLOEXEC\) = \d+<[^>]*libc', t)
               for t in texts)
    stats = [t for t in texts if t.startswith(("newfstatat(", "fstat("))]
    assert stats and all(re.search(r"\{st_mode=S_IF[A-Z]+\|0\d+, st_(size|rdev)=", t) for t in stats)


def test_verbose_shows_the_environment_and_every_stat_field(target, tmp_path):
    out = tmp_path / "t.jsonl"
    r = tether("trace", "--json", "-v", "-e", "trace=execve,newfstatat,fstat", "-o", str(out),
               "--", "sh", "-c", f"{target('cli_bench')} 1")
    assert r.returncode == 0
    texts = [e["details"]["text"] for e in json_events(out) if e["kind"] == "syscall"]
    child_exec = [t for t in texts if t.startswith(f'execve("{target("cli_bench")}"')]
    assert child_exec and re.search(r'\], \["[A-Z_a-z0-9]+', child_exec[0])
    assert "vars */" not in child_exec[0] and '"PYTHONPATH=' in child_exec[0]
    assert any("st_ino=" in t and "st_nlink=" in t for t in texts)


def test_signal_set_filters_signal_lines(target, tmp_path):
    out = tmp_path / "t.jsonl"
    r = tether("trace", "--json", "-e", "signal=!SIGCHLD", "-o", str(out), "--",
               target("cli_tree"), "0")
    assert r.returncode == 0
    signals = [e["details"]["signal"] for e in json_events(out) if e["kind"] == "signal"]
    assert "SIGUSR1" in signals and "SIGCHLD" not in signals


def strace_lines(path):
    """strace -f's call lines without the pid, a call split by another
    process's ("<unfinished ...>" then "<... name resumed>") put together."""
    lines, unfinished = [], {}
    for line in path.read_text().splitlines():
        pid, _, rest = line.partition(" ")
        rest = rest.lstrip()
        if rest.endswith(" <unfinished ...>"):
            unfinished[pid] = rest[:-len(" <unfinished ...>")]
        elif rest.startswith("<... "):
            lines.append(unfinished.pop(pid) + rest.split(" resumed>", 1)[1])
        elif rest[:1].isalpha():
            lines.append(rest)
    return lines


LINE_SET = "write,openat,close,read,mmap,mprotect,pread64,munmap,brk,arch_prctl,access"


def _normal(text):
    """A syscall line with addresses (ASLR) as 0xX and strace's padding of
    ' = ' in a file collapsed."""
    return re.sub(r"0x[0-9a-f]+", "0xX", re.sub(r"\) +=", ") =", text))


@pytest.mark.parametrize("flags", [["-y", "-s", "4"], ["-s", "100"], []])
def test_the_same_lines_as_strace(target, tmp_path, flags):
    """Same decoding of the same calls: flags, fds with -y, strings cut at -s,
    errno names and descriptions; line for line (ordered per process)."""
    argv = [target("cli_bench"), "2"]
    out = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-qq", *flags, "-e", f"trace={LINE_SET}", "-o", str(out), *argv],
                   capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, check=True)
    expected = collections.Counter(_normal(line) for line in strace_lines(out))
    status, _, events = traced(tmp_path, LINE_SET, argv, *flags)
    assert status == 0
    got = collections.Counter(_normal(e["details"]["text"]) for e in events
                              if e["kind"] == "syscall")
    assert got == expected
