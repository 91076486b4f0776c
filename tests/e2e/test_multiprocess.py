"""End-to-end tests for following child processes (issue 5).

Targets: tests/targets/mp_*.c. Semantics assumed (SPEC 2 and helpers/API.md):
- a followed child gets a new Debugger in its parent's `children`, starts
  stopped right after the fork returned in it, and runs only after
  `child.cont()`; meanwhile its parent runs on;
- `d.on_fork(cb)` runs cb(parent_dbg, child_dbg) before the child runs and
  is inherited by children; tests use it to resume children automatically;
- a child starts with no breakpoints/handlers/catchers of its parent and a
  hit by a child never counts on the parent's breakpoint objects;
- signals are reported by name ("SIGKILL") as in libdebug, or by number.
Exit codes of the targets encode what the traced program itself observed
(see each target's header comment), so a wrong status seen by the *program*
fails the test too.
"""
import os
import re
import signal
import time

import pytest

from procutil import ppid_of, proc_state, reap, resume, sig_num, tracer_of, tree, wait_for



def stop_after_fork(d):
    """Run mp_fork's parent to parent_after_fork(); return (bp, child)."""
    bp = d.breakpoint("parent_after_fork", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    assert len(d.children) == 1
    return bp, d.children[0]


# --- fork ----------------------------------------------------------------------

def test_fork_child_gets_a_debugger_starts_stopped_and_parent_runs_on(launch):
    d = launch("mp_fork")
    d.run(redirect_pipes=False)
    _, c = stop_after_fork(d)
    assert c is not d and c.pid != d.pid
    assert d.regs.rdi == c.pid           # parent_after_fork(pid)
    assert ppid_of(c.pid) == d.pid
    # Started stopped (its first stop may land just after the fork event).
    wait_for(lambda: proc_state(c.pid) == "t", timeout=2, what="the child's first stop")
    assert not c.dead and not c.running
    assert c.regs.rax == 0              # fork() returned 0 in the child
    assert [t.tid for t in c.threads if not t.dead] == [c.pid]
    assert c.children == []
    # The parent runs on (into waitpid) while the child stays stopped.
    d.cont()
    wait_for(lambda: proc_state(d.pid) == "S", what="the parent to block in waitpid")
    assert proc_state(c.pid) == "t"
    c.cont()
    c.wait()
    assert c.dead and c.exit_code == 3
    d.wait()
    assert d.dead and d.exit_code == 43  # the parent saw exit status 3


def test_fork_child_is_a_blank_slate_and_never_dies_of_sigtrap(launch):
    d = launch("mp_fork")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("work", file="binary")  # called by both after fork
    exiting = []
    d.handle_syscall("exit_group", on_enter=lambda t, h: exiting.append(t.tid))
    d.catch_signal("SIGUSR2", callback=lambda t, cs: None)
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    c = d.children[0]
    assert len(c.breakpoints) == 0
    assert len(c.handled_syscalls) == 0
    assert len(c.caught_signals) == 0
    # fork copied the int3 byte; the child's copy must be the original again.
    assert c.memory[bp.address, 1, "absolute"] != b"\xcc"
    c.cont()
    c.wait()
    assert c.exit_code == 3 and c.exit_signal is None
    d.cont()
    d.wait()
    assert d.exit_code == 43
    assert bp.hit_count == 1            # the child's call was not counted
    assert exiting == [d.pid]           # the child's exit_group was not seen


def test_follow_children_false_at_construction(launch):
    d = launch("mp_fork", follow_children=False)
    assert d.follow_children is False
    d.run(redirect_pipes=False)
    bp = d.breakpoint("work", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    d.cont()
    d.wait()
    assert d.children == []
    # 43: the detached child ran through its copy of `work` and exited 3.
    assert d.exit_code == 43
    assert bp.hit_count == 1


def test_follow_children_set_false_later_on_the_parent(launch):
    d = launch("mp_forkmany", 2)
    d.run(redirect_pipes=False)
    bp = d.breakpoint("before_fork", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d) and d.regs.rdi == 0
    d.cont()
    d.wait()
    assert bp.hit_on(d) and d.regs.rdi == 1
    assert len(d.children) == 1
    first = d.children[0]
    d.follow_children = False
    assert first.follow_children is True  # independent after the fork
    first.cont()
    d.cont()
    d.wait()
    assert d.exit_code == 0  # the unfollowed second child exited 1 correctly
    assert len(d.children) == 1
    first.wait()
    assert first.exit_code == 0


def test_follow_children_set_false_on_a_child(launch):
    d = launch("mp_forkchain", 2)
    d.run(redirect_pipes=False)
    d.cont()
    wait_for(lambda: len(d.children) == 1, what="the child")
    c = d.children[0]
    c.follow_children = False
    assert d.follow_children is True
    c.cont()
    c.wait()
    assert c.exit_code == 21  # its unfollowed child exited 20
    assert c.children == []
    d.wait()
    assert d.exit_code == 22


def test_properties_inherited_at_fork_then_independent(launch):
    d = launch("mp_fork", fast_memory=True, kill_on_exit=True)
    d.run(redirect_pipes=False)
    d.signals_to_block = ["SIGUSR2"]
    _, c = stop_after_fork(d)
    assert c.fast_memory is True
    assert c.kill_on_exit is True
    assert c.follow_children is True
    assert {sig_num(s) for s in c.signals_to_block} == {signal.SIGUSR2}
    assert c.memory["work", 4, "binary"] == d.memory["work", 4, "binary"]
    c.fast_memory = False
    assert d.fast_memory is True
    d.signals_to_block = []
    assert {sig_num(s) for s in c.signals_to_block} == {signal.SIGUSR2}
    c.cont()
    d.cont()
    c.wait()
    d.wait()
    assert (c.exit_code, d.exit_code) == (3, 43)


def test_grandchild_goes_in_the_childs_children_with_a_blank_slate(launch):
    # docs/edge-cases.md §7d: the followed child has its own breakpoint on `work`;
    # the grandchild it forks must not inherit it (nor die of its int3).
    d = launch("mp_forkchain", 2)
    d.run(redirect_pipes=False)
    d.cont()
    wait_for(lambda: len(d.children) == 1, what="the child")
    c = d.children[0]
    child_hits = []
    cbp = c.breakpoint("work", file="binary", callback=lambda t, b: child_hits.append(t.tid))
    c.cont()
    wait_for(lambda: len(c.children) == 1, what="the grandchild")
    g = c.children[0]
    assert g not in d.children and len(d.children) == 1
    assert len(g.breakpoints) == 0
    assert g.memory[cbp.address, 1, "absolute"] != b"\xcc"
    g.cont()
    g.wait()
    assert g.exit_code == 20 and g.exit_signal is None
    c.wait()
    assert c.exit_code == 21
    d.wait()
    assert d.exit_code == 22
    assert child_hits == [c.pid]


# --- deaths ----------------------------------------------------------------------

def test_sigkill_of_a_stopped_child(launch):
    d = launch("mp_fork")
    d.run(redirect_pipes=False)
    _, c = stop_after_fork(d)
    c.kill()
    assert c.dead
    assert sig_num(c.exit_signal) == signal.SIGKILL
    d.cont()
    d.wait()
    assert d.exit_code == 69  # the parent saw its child killed by SIGKILL


def test_child_killed_from_outside_while_stopped(launch):
    # docs/edge-cases.md §21: kill -9 by someone else while the child is held.
    d = launch("mp_fork")
    d.run(redirect_pipes=False)
    _, c = stop_after_fork(d)
    held_at = c.regs.rip
    os.kill(c.pid, signal.SIGKILL)
    # The script does not know yet: cont() either meets ESRCH quietly or
    # says the process is dead; either way wait() then reports the death.
    try:
        c.cont()
    except RuntimeError:
        pass
    c.wait()
    assert c.dead
    assert sig_num(c.exit_signal) == signal.SIGKILL
    # Post-mortem registers are those of its exit stop, where the kernel
    # reports one for a SIGKILLed task (docs/edge-cases.md §15): it never
    # ran again, so rip is where it was held. Without that stop, none.
    try:
        rip = c.regs.rip
    except RuntimeError:
        rip = None
    assert rip in (held_at, None)
    d.cont()
    d.wait()
    assert d.exit_code == 69


def test_child_killed_by_a_signal_is_reported_on_its_own_debugger(launch):
    d = launch("mp_fork", 3, "segv")
    d.run(redirect_pipes=False)
    _, c = stop_after_fork(d)
    c.cont()
    d.cont()
    c.wait()
    assert c.dead
    assert sig_num(c.exit_signal) == signal.SIGSEGV
    assert c.exit_code is None
    d.wait()
    assert d.exit_code == 71 and d.exit_signal is None


# --- debugger-internal breakpoints at fork time (docs/edge-cases.md §7b, §7c) ------------

@pytest.mark.parametrize("follow", [True, False])
def test_next_over_call_fork_leaves_no_trap_in_the_child(launch, follow):
    d = launch("mp_fork", follow_children=follow)
    d.run(redirect_pipes=False)
    if follow:
        d.on_fork(resume)
    bp = d.breakpoint("do_fork", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    bp.disable()
    for _ in range(10):
        if d.memory[d.regs.rip, 1, "absolute"] == b"\xe8":  # call rel32
            break
        d.step()
    else:
        pytest.fail("no call instruction at the start of do_fork")
    call_at = d.regs.rip
    d.next()
    assert d.regs.rip == call_at + 5
    d.cont()
    d.wait()
    assert d.exit_code == 43  # 65 would be a child killed by SIGTRAP
    if follow:
        c = d.children[0]
        c.wait()
        assert c.exit_code == 3


@pytest.mark.parametrize("follow", [True, False])
def test_finish_from_a_forking_function_leaves_no_trap_in_the_child(launch, follow):
    d = launch("mp_fork", follow_children=follow)
    d.run(redirect_pipes=False)
    if follow:
        d.on_fork(resume)
    bp = d.breakpoint("do_fork", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    bp.disable()
    d.finish()
    child_pid = d.regs.rax  # do_fork's return value in the parent
    assert child_pid > 0
    if follow:
        assert [c.pid for c in d.children] == [child_pid]
    d.cont()
    d.wait()
    assert d.exit_code == 43
    if follow:
        d.children[0].wait()
        assert d.children[0].exit_code == 3


# --- many children ------------------------------------------------------------

@pytest.mark.timeout(120)
def test_burst_of_200_forks_every_child_seen_once(launch):
    # docs/edge-cases.md §1: child stops and fork events arrive in either order.
    n = 200
    d = launch("mp_forkmany", n)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    d.cont()
    d.wait()
    assert d.exit_code == 0  # the program itself saw every status right
    assert len(d.children) == n
    assert len({c.pid for c in d.children}) == n
    for c in d.children:
        c.wait()
    # Forks from one thread are reported in order: child i exits i % 256.
    assert [c.exit_code for c in d.children] == [i % 256 for i in range(n)]


def test_forks_resumed_by_hand_without_callbacks(launch):
    # The libdebug way: children show up in `children`, stopped, while the
    # parent runs; the script resumes each one.
    n = 20
    d = launch("mp_forkmany", n)
    d.run(redirect_pipes=False)
    d.cont()
    resumed = set()
    deadline = time.monotonic() + 30
    while len(resumed) < n:
        assert time.monotonic() < deadline, f"only {len(resumed)} children appeared"
        for c in list(d.children):
            if c.pid not in resumed:
                resumed.add(c.pid)
                c.cont()
        time.sleep(0.005)
    d.wait()
    assert d.exit_code == 0
    assert len(d.children) == n


@pytest.mark.timeout(120)
def test_four_threads_forking_concurrently(launch):
    d = launch("mp_forkthreads")
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert len(d.children) == 100
    assert len({c.pid for c in d.children}) == 100
    for c in d.children:
        c.wait()
    assert sorted(c.exit_code for c in d.children) == list(range(100))


# --- clone and clone3 (docs/edge-cases.md §6, §28, §29) ------------------------------------

@pytest.mark.parametrize("follow", [True, False])
def test_clone_without_clone_thread_is_a_process_not_a_thread(launch, follow):
    # clone(fn, stack, 0): PTRACE_EVENT_CLONE, but a new thread group.
    d = launch("mp_clone", "noexit", follow_children=follow)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    bp = d.breakpoint("counted", file="binary")  # only the clone child runs it
    d.cont()
    d.wait()
    assert d.exit_code == 17  # the checksum of a native run
    assert bp.hit_count == 0
    assert all(t.tid == d.pid for t in d.threads)
    if follow:
        assert len(d.children) == 1
        c = d.children[0]
        c.wait()
        assert c.exit_code == 17
    else:
        assert d.children == []


@pytest.mark.parametrize("follow", [True, False])
def test_clone_vm_child_never_removes_the_parents_breakpoints(launch, follow):
    # clone(fn, stack, CLONE_VM|SIGCHLD): PTRACE_EVENT_FORK, shared memory.
    d = launch("mp_clone", "vm", follow_children=follow)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    parent_hits, child_hits = [], []
    d.breakpoint("parent_counted", file="binary", callback=lambda t, b: parent_hits.append(t.tid))
    if follow:
        # Only a traced child may run over the shared int3 bytes.
        d.breakpoint("child_counted", file="binary", callback=lambda t, b: child_hits.append(t.tid))
    d.cont()
    d.wait()
    assert d.exit_code == 0  # child exited 17 and the parent's sum was right
    assert parent_hits == [d.pid] * 3
    assert child_hits == []  # a child's hits are not its parent's
    if follow:
        assert len(d.children) == 1
        d.children[0].wait()
        assert d.children[0].exit_code == 17


def test_clone3_process_is_followed_like_fork(launch):
    d = launch("mp_clone3")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("parent_after", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    assert len(d.children) == 1
    c = d.children[0]
    assert d.regs.rdi == c.pid
    wait_for(lambda: proc_state(c.pid) == "t", timeout=2, what="the child's first stop")
    assert c.regs.rax == 0
    cbp = c.breakpoint("child_mark", file="binary")
    c.cont()
    c.wait()
    assert cbp.hit_on(c)
    c.cont()
    d.cont()
    c.wait()
    d.wait()
    assert (c.exit_code, d.exit_code) == (5, 45)


def test_clone_untraced_child_is_followed_or_reported(launch, capfd, caplog, recwarn):
    # CLONE_UNTRACED makes the kernel report no event at all; tether must
    # follow the child anyway or tell the user its pid.
    d = launch("mp_untraced")
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    d.cont()
    d.wait()
    assert d.exit_code == 46
    out, err = capfd.readouterr()
    m = re.search(r"untraced child (\d+)", out)
    assert m, out
    pid = int(m.group(1))
    followed = any(c.pid == pid for c in tree(d))
    reported = (str(pid) in caplog.text or str(pid) in err
                or any(str(pid) in str(w.message) for w in recwarn))
    assert followed or reported


# --- signals and children ----------------------------------------------------------

def test_signal_sent_to_a_child_before_it_runs_is_delivered(launch):
    # docs/edge-cases.md §2: SIGUSR1 may be reported before the child's first stop.
    d = launch("mp_sigchild")
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    d.cont()
    d.wait()
    assert d.exit_code == 40  # the child's handler ran exactly once
    c = d.children[0]
    c.wait()
    assert c.exit_code == 0


def test_signal_to_a_child_held_in_its_first_stop_is_delivered_on_cont(launch):
    d = launch("mp_sigchild")
    d.run(redirect_pipes=False)
    d.cont()
    wait_for(lambda: len(d.children) == 1, what="the child")
    c = d.children[0]
    time.sleep(0.1)  # the parent's kill() lands while the child is held
    assert proc_state(c.pid) == "t"
    c.cont()
    c.wait()
    assert c.exit_code == 0
    d.wait()
    assert d.exit_code == 40


# --- I/O and snapshots -----------------------------------------------------------------

def test_children_share_the_parents_pipemanager(launch):
    d = launch("mp_pipes")
    io = d.run()
    d.on_fork(resume)
    d.cont()
    assert io.recvline(timeout=10) == b"parent line"
    assert io.recvline(timeout=10) == b"child line"
    io.sendline(b"ping")
    assert io.recvline(timeout=10) == b"child got ping"
    assert io.recvline(timeout=10) == b"parent done"
    io.sendline(b"bye")
    d.wait()
    assert d.exit_code == 40
    d.children[0].wait()
    assert d.children[0].exit_code == 0


def test_snapshot_holds_threads_not_children(launch):
    d = launch("mp_snap")
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    bp = d.breakpoint("snap_here", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    child_pid = d.regs.rdi
    assert [c.pid for c in d.children] == [child_pid]
    snap = d.create_snapshot()
    tids = {getattr(t, "tid", None) or t.thread_id for t in snap.threads}
    assert len(snap.threads) == 3  # main + 2 threads
    assert tids == {t.tid for t in d.threads if not t.dead}
    assert child_pid not in tids
    d.cont()
    d.wait()
    assert d.exit_code == 0


# --- gdb-style controls (tether extras) ----------------------------------------------

def test_follow_fork_mode_and_detach_on_fork_defaults_and_bad_values(launch):
    d = launch("mp_fork")
    assert d.follow_fork_mode == "parent"
    assert d.detach_on_fork is False
    with pytest.raises(ValueError):
        d.follow_fork_mode = "sideways"
    with pytest.raises(TypeError):
        d.detach_on_fork = "yes"
    assert d.follow_fork_mode == "parent"


def test_follow_fork_mode_child_with_detach_on_fork_lets_the_parent_go(launch):
    d = launch("mp_fork")
    d.run(redirect_pipes=False)
    d.follow_fork_mode = "child"
    d.detach_on_fork = True
    bp = d.breakpoint("parent_after_fork", file="binary")
    d.cont()
    wait_for(lambda: len(d.children) == 1, what="the followed child")
    c = d.children[0]
    wait_for(lambda: tracer_of(d.pid) == 0, what="the parent to be detached")
    assert tracer_of(c.pid) not in (None, 0)
    c.cont()
    c.wait()
    assert c.exit_code == 3
    # The detached parent ran through its (removed) breakpoint and saw exit 3.
    status = reap(d.pid)
    if status is not None:
        assert os.waitstatus_to_exitcode(status) == 43
    assert bp.hit_count == 0


def test_follow_fork_mode_parent_with_detach_on_fork_lets_the_child_go(launch):
    d = launch("mp_fork")
    d.run(redirect_pipes=False)
    d.detach_on_fork = True
    bp = d.breakpoint("work", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    d.cont()
    d.wait()
    assert d.exit_code == 43
    assert bp.hit_count == 1
    assert all(c.dead or tracer_of(c.pid) == 0 for c in d.children)


def test_on_fork_callback_runs_before_the_child_runs(launch):
    d = launch("mp_forkchain", 2)
    d.run(redirect_pipes=False)
    seen = []

    def on_fork(p, c):
        seen.append((p.pid, c.pid, proc_state(c.pid)))
        c.cont()

    d.on_fork(on_fork)
    d.cont()
    d.wait()
    assert d.exit_code == 22
    c = d.children[0]
    g = c.children[0]
    # Inherited by the child: the grandchild's fork is reported too.
    assert [(p, ch) for p, ch, _ in seen] == [(d.pid, c.pid), (c.pid, g.pid)]
    assert all(state == "t" for _, _, state in seen)


def test_inherit_stopping_events_copies_breakpoints_to_children(launch):
    d = launch("mp_fork", inherit_stopping_events=True)
    assert d.inherit_stopping_events is True
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    hits = []
    d.breakpoint("work", file="binary", callback=lambda t, b: hits.append(t.tid))
    d.cont()
    d.wait()
    assert d.exit_code == 43
    c = d.children[0]
    c.wait()
    assert c.exit_code == 3
    assert len(c.breakpoints) == 1
    assert c.inherit_stopping_events is True
    assert sorted(hits) == sorted([d.pid, c.pid])


# --- seccomp (optional in the issue) -----------------------------------------------

def test_seccomp_ret_trace_syscalls_reach_handlers_and_succeed(launch):
    # docs/edge-cases.md §31: needs PTRACE_O_TRACESECCOMP, else getpid fails ENOSYS.
    d = launch("mp_seccomp")
    d.run(redirect_pipes=False)
    enters, exits = [], []
    d.handle_syscall("getpid", on_enter=lambda t, h: enters.append(t.tid),
                     on_exit=lambda t, h: exits.append(t.syscall_return))
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert enters == [d.pid, d.pid]
    assert exits == [d.pid, d.pid]
