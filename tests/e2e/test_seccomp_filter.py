"""debugger(syscall_filter=[...]): a seccomp-bpf filter, installed before the
program's first instruction, makes only the declared syscalls stop it (a
seccomp stop at their entry, a syscall-exit stop after), and the rest run
without stopping. Checked against the same runs without the filter (every
syscall stops): the same calls, in each process, across fork, vfork,
posix_spawn, system(), exec, and exec from a thread.
Targets: syscalls_mix, mp_fork, mp_vfork, mp_forkexec, mp_thread_exec."""
import collections

import pytest

from tether import debugger
from procutil import shutdown

WATCHED = ["execve", "write", "getppid", "getpid", "wait4", "clone", "clone3", "vfork", "fork",
           "exit_group", "kill"]


def seccomp_mode(pid):
    """The Seccomp: line of /proc/PID/status (0 none, 2 filter)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Seccomp:"):
                return int(line.split()[1])
    raise AssertionError("no Seccomp line")


def count_calls(argv, syscall_filter):
    """{(process index, syscall name, "enter"/"exit"): count} of a run of
    argv whose every process is followed, with the WATCHED handlers; and the
    root's exit code."""
    counts = collections.Counter()
    order = {}
    modes = set()

    def key(t):
        return order.setdefault(t.pid, len(order))

    d = debugger(argv, inherit_stopping_events=True, continue_to_binary_entrypoint=False,
                 syscall_filter=syscall_filter)
    try:
        d.run(redirect_pipes=False)
        key(d)
        for name in WATCHED:
            d.handle_syscall(name,
                             on_enter=lambda t, h: counts.__setitem__(
                                 (key(t), h.syscall_name, "enter"),
                                 counts[(key(t), h.syscall_name, "enter")] + 1),
                             on_exit=lambda t, h: counts.__setitem__(
                                 (key(t), h.syscall_name, "exit"),
                                 counts[(key(t), h.syscall_name, "exit")] + 1))

        def forked(parent, child):
            modes.add(seccomp_mode(child.pid))
            child.cont()
        d.on_fork(forked)
        modes.add(seccomp_mode(d.pid))
        d.cont()
        d.wait()
        for _ in range(200):   # every descendant done
            if all(c.dead for c in d.descendants):
                break
            d.wait_any(timeout=0.1)
        return counts, d.exit_code, modes
    finally:
        shutdown(d)


CASES = [
    ("mp_fork", []),
    ("mp_vfork", ["exec"]),
    ("mp_vfork", ["exit"]),
    ("mp_vfork", ["spawn"]),
    ("mp_vfork", ["system"]),
    ("mp_forkexec", ["/bin/true"]),
    ("mp_thread_exec", ["one", "/bin/true"]),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, args", CASES, ids=[f"{n}-{'-'.join(a)}" for n, a in CASES])
def test_the_filter_stops_at_the_same_calls_as_syscall_stops_do(target, name, args):
    argv = [target(name), *args]
    plain, status, modes = count_calls(argv, None)
    assert modes == {0}
    filtered, filtered_status, modes = count_calls(argv, WATCHED)
    assert modes == {2}                       # every process runs under the filter
    assert filtered_status == status
    assert filtered == plain
    assert any(k[1] == "execve" and k[2] == "exit" for k in filtered)  # even the first one


@pytest.fixture
def mix(target):
    made = []

    def _start(**kwargs):
        d = debugger([target("syscalls_mix")], **kwargs)
        made.append(d)
        io = d.run()
        return d, io
    yield _start
    for d in made:
        shutdown(d)


@pytest.mark.timeout(30)
def test_only_declared_syscalls_stop_the_process(mix):
    d, io = mix(syscall_filter=["getppid", "getuid"])
    seen = []
    d.handle_syscall("*", on_enter=lambda t, h: seen.append(t.syscall_number))
    d.cont()
    io.recvuntil(b"end\n", timeout=15)
    d.wait()
    assert d.exit_code == 0
    assert seen == [110, 102]                  # getppid, getuid: no write, getpid, mmap ...
    assert d.syscall_filter == ["getppid", "getuid"]


@pytest.mark.timeout(30)
def test_synchronous_stops_at_entry_and_exit_under_the_filter(mix):
    d, io = mix(syscall_filter=["getpid"])
    handler = d.handle_syscall("getpid")
    thread = d.threads[0]
    d.cont()
    d.wait()
    assert handler.hit_on_enter(thread) and d.syscall_number == 39
    d.cont()
    d.wait()
    assert handler.hit_on_exit(thread) and d.syscall_return == d.pid
    d.cont()
    out = io.recvuntil(b"end\n", timeout=15)
    d.wait()
    assert f"pid={d.pid}\n".encode() in out and handler.hit_count == 1


@pytest.mark.timeout(30)
def test_hijack_at_a_seccomp_stop(mix):
    # Changing the call at its seccomp stop: the kernel runs the filter again
    # on the new number (getppid is not in it: it just runs).
    d, io = mix(syscall_filter=["getpid"])
    d.hijack_syscall("getpid", "getppid")
    d.cont()
    out = io.recvuntil(b"end\n", timeout=15)
    d.wait()
    lines = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
    assert lines["pid"] == lines["ppid"] != str(d.pid)


@pytest.mark.timeout(30)
def test_bad_uses_are_refused_clearly(mix, target):
    with pytest.raises(ValueError, match="frobnicate"):
        debugger([target("syscalls_mix")], syscall_filter=["frobnicate"])
    with pytest.raises(ValueError, match="follow_children"):
        debugger([target("syscalls_mix")], syscall_filter=["write"], follow_children=False)
    with pytest.raises(ValueError, match="empty"):
        debugger([target("syscalls_mix")], syscall_filter=[])
    d, io = mix(syscall_filter=["write"])
    with pytest.raises(ValueError, match="openat is not in the syscall_filter"):
        d.handle_syscall("openat")
    with pytest.raises(ValueError, match="ENOSYS"):
        d.follow_children = False
    d.handle_syscall("write", on_enter=True)   # still usable
    other = debugger(syscall_filter=["write"])
    with pytest.raises(ValueError, match="run"):
        other.attach(d.pid)
