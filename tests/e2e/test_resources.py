"""What a Debugger holds is released (issue 17, item 7): a Debugger dropped
without terminate() gives back its pipes when it is garbage-collected, and
`with debugger(...) as d:` ends with terminate()."""
import gc
import os

import pytest

from tether import debugger
from procutil import proc_state


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.timeout(120)
def test_dropped_debuggers_give_back_their_descriptors(target):
    path = target("basic")

    def one_run():
        d = debugger([path])
        io = d.run()
        d.cont()
        d.wait()
        assert d.exit_code == 7
        assert b"done" in io.recvuntil(b"done", timeout=10)
        # dropped here: no terminate(), no close()

    one_run()           # (the tracer thread and first-use caches are made once)
    gc.collect()
    before = _open_fds()
    for _ in range(60):
        one_run()
    gc.collect()
    assert _open_fds() == before


@pytest.mark.timeout(60)
def test_pipes_kept_by_the_script_outlive_the_debugger(target):
    # Dropping the Debugger must not close pipes the script still reads.
    d = debugger([target("basic")])
    io = d.run()
    d.cont()
    d.wait()
    del d
    gc.collect()
    assert b"f=9" in io.recvuntil(b"done", timeout=10)
    io.close()


@pytest.mark.timeout(60)
def test_with_block_kills_the_tree_and_closes_the_pipes(target):
    before = _open_fds()
    with pytest.raises(ZeroDivisionError):
        with debugger([target("mp_fork"), "3", "sleep"]) as d:
            d.run()
            d.cont()
            child = d.wait_any(timeout=20)   # the followed child's first stop
            pids = [d.pid, child.pid]
            1 / 0
    for pid in pids:
        assert proc_state(pid) is None   # killed and reaped
    with pytest.raises(RuntimeError, match="terminated"):
        d.regs
    assert _open_fds() == before


@pytest.mark.timeout(180)
@pytest.mark.parametrize("follow", [False, True])
def test_a_forking_program_leaves_no_table_growing(target, follow):
    # 3,000 short-lived children (issue 17, item 10): the tracer's tables of
    # ids keep only what can still report something.
    d = debugger([target("fork_churn"), "3000"], follow_children=follow)
    try:
        d.run(redirect_pipes=False)
        if follow:
            d.on_fork(lambda parent, child: child.cont())
        d.cont()
        d.wait(timeout=150)
        assert d.exit_code == 0
        registry = d.control.session.registry
        assert len(registry.gone) <= 2048 and len(registry.seen_pids) <= 2048
        assert d.pid not in registry.procs and d.pid not in registry.tasks
        assert len(d.children) == (3000 if follow else 0)
    finally:
        d.terminate()
