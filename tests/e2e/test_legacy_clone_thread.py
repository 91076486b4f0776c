"""A thread announced as a fork (docs/edge-cases.md §6): glibc's clone() with
CLONE_THREAD and SIGCHLD as exit signal is reported by PTRACE_EVENT_FORK,
because the kernel picks the event from the exit signal. It is a thread of
the process: it runs on, is listed in `threads`, and no child Debugger is
made for it. Target: legacy_clone_thread.c."""
import pytest

from tether import debugger
from procutil import shutdown


@pytest.mark.timeout(30)
def test_a_thread_reported_as_a_fork_is_a_thread(target):
    d = debugger(target("legacy_clone_thread"))
    try:
        io = d.run()
        seen = []

        def in_thread(t, bp):
            seen.append((t.tid, t.pid, [th.tid for th in d.threads], len(d.children)))

        d.breakpoint("thread_fn", callback=in_thread, file="binary")
        d.cont()
        d.wait()
        assert d.dead and d.exit_code == 0, "the thread was held as a process (main timed out)"
        assert io.recvline() == b"done"
        assert len(seen) == 1
        tid, pid, threads, children = seen[0]
        assert pid == d.pid and tid != d.pid and tid in threads
        assert children == 0 and d.children == []
    finally:
        shutdown(d)
