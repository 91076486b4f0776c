"""End-to-end tests for vfork and what is built on it (issue 5,
docs/edge-cases.md §4, §5, §30). Target: tests/targets/mp_vfork.c.

A vfork child runs in its parent's memory until it execs or exits, with
the parent blocked. So: the child must be resumable while the parent waits
(no deadlock); the parent's software breakpoints are physically present in
the child's code and must neither kill the child nor disappear from the
parent. Semantics assumed as in test_multiprocess.py; `exec_count` and `exe`
are tether extras (helpers/API.md).
"""
import os
import signal
import time

import pytest

from procutil import proc_state, resume, sig_num, tree, wait_for



# --- vfork + exec / exit ---------------------------------------------------------

@pytest.mark.parametrize("follow", [True, False])
def test_vfork_exec_parent_breakpoint_hits_once(launch, follow):
    # docs/edge-cases.md §4a.
    d = launch("mp_vfork", "exec", follow_children=follow)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    bp = d.breakpoint("parent_after", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    d.cont()
    d.wait()
    assert d.exit_code == 40  # /bin/true exited 0
    assert bp.hit_count == 1
    if follow:
        c = d.children[0]
        c.wait()
        assert c.exit_code == 0
        assert c.exec_count == 1
        assert os.path.basename(c.exe) == "true"
        assert d.exec_count == 0
    else:
        assert d.children == []


@pytest.mark.parametrize("follow", [True, False])
def test_vfork_child_exits_without_exec(launch, follow):
    # docs/edge-cases.md §4b.
    d = launch("mp_vfork", "exit", follow_children=follow)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    bp = d.breakpoint("parent_after", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    d.cont()
    d.wait()
    assert d.exit_code == 43
    if follow:
        d.children[0].wait()
        assert d.children[0].exit_code == 3


@pytest.mark.parametrize("follow", [True, False])
def test_vfork_child_runs_over_the_parents_breakpoint_in_shared_memory(launch, follow):
    # docs/edge-cases.md §4c: child_fn carries the parent's int3 while the child runs
    # it. The child (blank slate, or detached) must not die of SIGTRAP, its
    # run must not count as a hit, and the parent keeps both breakpoints.
    d = launch("mp_vfork", "callfn", follow_children=follow)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    child_bp = d.breakpoint("child_fn", file="binary")
    parent_bp = d.breakpoint("parent_after", file="binary")
    d.cont()
    d.wait()
    assert parent_bp.hit_on(d)
    assert not child_bp.hit_on(d)
    d.cont()
    d.wait()
    assert d.exit_code == 40  # 65 would be the child killed by SIGTRAP
    assert child_bp.hit_count == 0
    assert parent_bp.hit_count == 1
    assert child_bp.address in d.breakpoints and parent_bp.address in d.breakpoints


def test_vfork_child_held_stopped_then_resumed_releases_the_parent(launch):
    # No on_fork callback: the child waits for the script while the parent
    # is blocked in vfork; resuming the child must release the parent.
    d = launch("mp_vfork", "exec")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("parent_after", file="binary")
    d.cont()
    wait_for(lambda: len(d.children) == 1, what="the vfork child")
    c = d.children[0]
    wait_for(lambda: proc_state(c.pid) == "t", timeout=2, what="the child's first stop")
    assert not d.dead
    c.cont()
    d.wait()
    assert bp.hit_on(d)
    assert d.regs.rdi == c.pid
    d.cont()
    d.wait()
    assert d.exit_code == 40
    c.wait()
    assert c.exit_code == 0 and c.exec_count == 1


def test_breakpoint_set_in_vfork_child_before_exec(launch):
    # The vfork child is a Debugger of its own: a breakpoint it sets lives in
    # memory it shares with the parent, and must be gone after its exec.
    d = launch("mp_vfork", "callfn")
    d.run(redirect_pipes=False)
    parent_bp = d.breakpoint("parent_after", file="binary")
    d.cont()
    wait_for(lambda: len(d.children) == 1, what="the vfork child")
    c = d.children[0]
    cbp = c.breakpoint("child_fn", file="binary")
    c.cont()
    c.wait()
    assert cbp.hit_on(c)
    assert c.regs.rdi == 7  # child_fn(7)
    c.cont()
    d.wait()
    assert parent_bp.hit_on(d)
    # The child's int3 went into memory it shared with the parent; once the
    # child has exec'd, the parent's copy of child_fn must be clean again.
    assert d.memory[cbp.address, 1, "absolute"] != b"\xcc"
    d.cont()
    d.wait()
    assert d.exit_code == 40
    c.wait()
    assert c.exit_code == 0


# --- library calls on top of vfork (docs/edge-cases.md §5) ------------------------------------

@pytest.mark.parametrize("follow", [True, False])
@pytest.mark.parametrize("mode", ["spawn", "system", "popen"])
def test_posix_spawn_system_popen_complete(launch, capfd, mode, follow):
    d = launch("mp_vfork", mode, follow_children=follow)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    bp = d.breakpoint("parent_after", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    d.cont()
    d.wait()
    assert d.exit_code == 0  # the program saw its child(ren) exit 0
    if follow:
        assert len(d.children) >= 1
        for c in tree(d)[1:]:
            c.wait()
            assert c.exit_code == 0
            assert c.exec_count >= 1
    else:
        assert d.children == []
    if mode == "spawn":
        assert "spawned" in capfd.readouterr().out


# --- killing at a vfork (docs/edge-cases.md §30) ------------------------------------------------

def test_kill_while_parent_is_blocked_in_vfork(launch):
    d = launch("mp_vfork", "exec")
    d.run(redirect_pipes=False)
    d.cont()
    wait_for(lambda: len(d.children) == 1, what="the vfork child")
    c = d.children[0]
    start = time.monotonic()
    d.terminate()
    wait_for(lambda: proc_state(d.pid) is None and proc_state(c.pid) in (None, "Z"),
             timeout=1.0, what="both processes to die and be reaped")
    assert time.monotonic() - start < 1.5
    assert d.dead and c.dead
    assert sig_num(d.exit_signal) == signal.SIGKILL
