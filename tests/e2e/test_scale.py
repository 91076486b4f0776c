"""What tether keeps per process is released with the process (issue 22,
item 4): children let go of at their first stop (follow_children=False)
leave no id in the registry's tables once dead, and no open memory file,
however many of them a program forks (a forking server's life)."""
import os

import pytest

from tether.runtime.tracer import get_tracer


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.timeout(120)
def test_children_let_go_leave_nothing_behind(launch):
    forks = 2000
    d = launch("fork_churn", forks, follow_children=False)
    d.run()
    # A breakpoint in place while it forks: every child's copy of the int3
    # is written back (through the child's memory file) before it is let go.
    d.breakpoint("main")
    d.cont()
    d.wait()
    registry = get_tracer().session.registry
    ids_before = len(registry.seen_pids) + len(registry.gone)
    fds_before = _open_fds()
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert d.children == []
    # Each child's SIGCHLD to its (traced) parent says it is dead: nothing
    # is kept about it (a few may still be on their way at most).
    assert len(registry.seen_pids) + len(registry.gone) <= ids_before + 10
    assert _open_fds() <= fds_before


@pytest.mark.timeout(120)
def test_followed_children_leave_no_ids_behind(launch):
    forks = 300
    d = launch("fork_churn", forks)
    d.run()
    d.on_fork(lambda parent, child: child.cont())
    registry = get_tracer().session.registry
    ids_before = len(registry.seen_pids) + len(registry.gone)
    fds_before = _open_fds()
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert len(d.children) == forks and all(c.dead for c in d.children)
    assert len(registry.seen_pids) + len(registry.gone) <= ids_before + 10
    assert _open_fds() <= fds_before


@pytest.mark.timeout(120)
def test_a_busy_thread_and_another_process_both_heard(launch):
    """One thread reports breakpoint after breakpoint (the tracer then waits
    for it alone, docs/edge-cases.md §39) while a child process reports its
    own now and then: every event of both is seen, in a tree that ends as
    it would untraced."""
    hot, cold = 20000, 300
    d = launch("scale_mix", hot, cold, inherit_stopping_events=True)
    d.run()
    seen = {"hot": 0, "cold": 0}

    def count(name):
        def callback(thread, bp):
            seen[name] += 1
        return callback

    d.breakpoint("hot", callback=count("hot"))
    d.breakpoint("cold", callback=count("cold"))
    d.on_fork(lambda parent, child: child.cont())
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert seen == {"hot": hot, "cold": cold}
