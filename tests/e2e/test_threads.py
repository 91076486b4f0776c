"""End-to-end tests for threads (issue 4).

Targets: tests/targets/mt_*.c. What these tests assume about tether beyond
libdebug 0.9 is written next to each test; in short:
- a dead thread may stay in `d.threads` with `dead == True` (libdebug keeps
  it) or be removed: tests only look at the live ones;
- signals are reported by name ("SIGSEGV") as in libdebug, or by number;
- `thread.cont()` and `d.scheduler_locking` are tether extras (gdb's
  scheduler-locking).
"""
import os
import signal
import struct
import subprocess
import time

import pytest

from tether import debugger
from procutil import kill_tree, proc_state, sig_num, task_tids, wait_for



def task_state(pid, tid):
    return proc_state(f"/proc/{pid}/task/{tid}/stat")


def live_threads(d):
    return [t for t in d.threads if not t.dead]


def thread_by_tid(d, tid):
    return next((t for t in d.threads if t.tid == tid), None)


def read_ints(d, symbol, count, fmt="i"):
    size = struct.calcsize(fmt)
    raw = d.memory[symbol, size * count, "binary"]
    return list(struct.unpack(f"<{count}{fmt}", raw))


def u64(data):
    return int.from_bytes(data, "little")


# --- thread following -------------------------------------------------------

@pytest.mark.parametrize("n", [2, 8, 64])
def test_every_thread_is_followed_from_its_first_instruction(launch, n):
    # A breakpoint on the start routine is hit by every thread: each was
    # traced before it ran a single instruction of user code.
    d = launch("mt_workers", n)
    d.run(redirect_pipes=False)
    starters = []
    d.breakpoint("worker", file="binary", callback=lambda t, bp: starters.append(t.tid))
    report = d.breakpoint("report", file="binary")
    d.cont()
    d.wait()
    assert report.hit_on(d)
    tids = read_ints(d, "tids", n)
    assert sorted(starters) == sorted(tids)
    assert len(set(starters)) == n
    assert d.pid not in starters
    d.cont()
    d.wait()
    assert d.dead
    assert d.exit_code == 0


def test_nested_thread_creation(launch):
    # Threads that create threads concurrently: clone events and the new
    # threads' first stops interleave in every order.
    d = launch("mt_nested")
    d.run(redirect_pipes=False)
    leaves = []
    d.breakpoint("leaf_mark", file="binary", callback=lambda t, bp: leaves.append(t.tid))
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert len(leaves) == 16
    assert len(set(leaves)) == 16


@pytest.mark.timeout(180)
def test_thousand_threads_created_and_destroyed_exact_hit_count(launch):
    d = launch("mt_churn", 1000)
    d.run(redirect_pipes=False)
    hits = []
    bp = d.breakpoint("tick", file="binary", callback=lambda t, b: hits.append(t.tid))
    d.cont()
    d.wait()
    assert d.dead
    assert d.exit_code == 0
    assert len(hits) == 1000
    assert bp.hit_count == 1000


def test_signal_sent_to_new_thread_before_it_runs_is_delivered(launch):
    # mt_newsig exits 1 if a SIGUSR1 was swallowed with a new thread's first
    # stop, 2 if its handler ran in another thread (docs/edge-cases.md §2).
    d = launch("mt_newsig")
    d.run(redirect_pipes=False)
    d.cont()
    d.wait()
    assert d.dead
    assert d.exit_code == 0


# --- all-stop ----------------------------------------------------------------

def test_all_threads_stop_when_one_hits_a_breakpoint_and_cont_resumes_all(launch):
    k = 4
    d = launch("mt_spin", k)
    d.run(redirect_pipes=False)
    bp = d.breakpoint("mark", file="binary")
    bp2 = d.breakpoint("mark2", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    live = {t.tid for t in live_threads(d)}
    assert live == task_tids(d.pid)
    assert len(live) == k + 1
    # Every thread is in a ptrace stop before control came back ...
    for tid in live:
        assert task_state(d.pid, tid) == "t", f"thread {tid} not stopped"
    # ... and really stands still.
    before = read_ints(d, "counters", k, "q")
    time.sleep(0.1)
    assert read_ints(d, "counters", k, "q") == before
    assert all(c > 0 for c in before)
    # cont() resumes every thread: the spinners move during main's 200 ms sleep.
    d.cont()
    d.wait()
    assert bp2.hit_on(d)
    after = read_ints(d, "counters", k, "q")
    assert all(a > b for a, b in zip(after, before)), (before, after)
    d.cont()
    d.wait()
    assert d.exit_code == 0


def test_hit_on_names_the_thread_that_hit(launch):
    # Two threads may reach the breakpoint in the same stop (libdebug then
    # reports both); every hit must be reported once, on the right thread.
    n = 8
    d = launch("mt_workers", n)
    d.run(redirect_pipes=False)
    bp = d.breakpoint("mark", file="binary")
    seen = set()
    for _ in range(n):
        if len(seen) == n:
            break
        d.cont()
        d.wait()
        assert not d.dead
        hitters = [t for t in live_threads(d) if bp.hit_on(t)]
        assert hitters
        assert not bp.hit_on(thread_by_tid(d, d.pid))
        tids = read_ints(d, "tids", n)
        for t in hitters:
            assert t.tid != d.pid
            assert t.regs.rip == bp.address
            i = t.regs.rdi
            assert 0 <= i < n and i not in seen
            seen.add(i)
            assert tids[i] == t.tid  # the argument and the recorded tid agree
    assert seen == set(range(n))
    assert bp.hit_count == n
    d.cont()
    d.wait()
    assert d.exit_code == 0


def test_thread_context_step_finish_next_step_until_backtrace(launch):
    # One worker thread: no other thread runs the same code, so finish()'s
    # return breakpoint can only be reached by it.
    d = launch("mt_workers", 1)
    d.run(redirect_pipes=False)
    bp = d.breakpoint("mark", file="binary")
    d.cont()
    d.wait()
    t = next(x for x in live_threads(d) if bp.hit_on(x))
    main = thread_by_tid(d, d.pid)
    assert t.tid != d.pid
    assert t.regs.rsp != main.regs.rsp  # each thread has its own stack
    main_rip = main.regs.rip
    # Thread memory is the process's memory.
    assert t.memory["tids", 4, "binary"] == d.memory["tids", 4, "binary"]

    ret = u64(t.memory[t.regs.rsp, 8, "absolute"])  # at entry, [rsp] = return address
    t.step()
    assert t.regs.rip != bp.address
    assert main.regs.rip == main_rip  # stepping one thread moves no other

    bp.disable()
    t.finish()
    assert t.regs.rip == ret
    bt = t.backtrace(as_symbols=True)
    assert "level1" in bt[0], bt
    assert any("worker" in str(s) for s in bt[1:3]), bt

    main_rip = main.regs.rip  # finish() may have let main re-enter its wait
    rip = t.regs.rip
    t.next()
    assert t.regs.rip != rip
    ret_to_worker = u64(t.memory[t.regs.rbp + 8, 8, "absolute"])
    t.step_until(ret_to_worker, file="absolute")
    assert t.regs.rip == ret_to_worker
    assert main.regs.rip == main_rip
    d.cont()
    d.wait()
    assert d.exit_code == 0


def test_signal_set_on_a_thread_is_delivered_to_that_thread(launch):
    d = launch("mt_workers", 2)
    d.run(redirect_pipes=False)
    bp = d.breakpoint("mark", file="binary")
    report = d.breakpoint("report", file="binary")
    target_tid = None
    for _ in range(4):
        d.cont()
        d.wait()
        if report.hit_on(d):
            break
        t = next(x for x in live_threads(d) if bp.hit_on(x))
        if target_tid is None:
            target_tid = t.tid
            t.signal = "SIGUSR1"
    else:
        pytest.fail("report() never reached")
    assert target_tid is not None
    assert read_ints(d, "sig_tid", 1) == [target_tid]
    assert read_ints(d, "sig_count", 1) == [1]
    d.cont()
    d.wait()
    assert d.exit_code == 0


def test_syscall_handler_sees_each_thread_with_its_own_state(launch):
    n = 8
    d = launch("mt_workers", n)
    d.run(redirect_pipes=False)
    enters, exits = [], []
    d.handle_syscall(
        "getppid",
        on_enter=lambda t, h: enters.append((t.tid, t.syscall_number)),
        on_exit=lambda t, h: exits.append((t.tid, t.syscall_return)),
    )
    report = d.breakpoint("report", file="binary")
    d.cont()
    d.wait()
    assert report.hit_on(d)
    tids = set(read_ints(d, "tids", n))
    assert sorted(tid for tid, _ in enters) == sorted(tids)
    assert {nr for _, nr in enters} == {110}  # getppid on x86-64
    assert sorted(tid for tid, _ in exits) == sorted(tids)
    returns = {ret for _, ret in exits}
    assert len(returns) == 1 and returns.pop() > 1
    d.cont()
    d.wait()
    assert d.exit_code == 0


def test_syscall_enter_exit_pairing_is_per_thread(launch):
    # docs/edge-cases.md §9: two threads blocked in read() at the same time.
    d = launch("mt_readers")
    d.run(redirect_pipes=False)
    events = []
    d.handle_syscall(
        "read",
        on_enter=lambda t, h: events.append((t.tid, "enter", None)),
        on_exit=lambda t, h: events.append((t.tid, "exit", t.syscall_return)),
    )
    d.cont()
    d.wait()
    assert d.exit_code == 0  # each read() returned 1, no EINTR
    tids = {tid for tid, _, _ in events}
    assert len(tids) == 2, events
    for tid in tids:
        mine = [(phase, val) for x, phase, val in events if x == tid]
        assert mine == [("enter", None), ("exit", 1)], events


def test_stopping_other_threads_does_not_restart_blocked_syscalls_visibly(launch):
    # docs/edge-cases.md §10: a third thread stops the world at every getpid while
    # two readers block. The read handler must still see 2 clean pairs.
    d = launch("mt_readers")
    d.run(redirect_pipes=False)
    events = []
    getpids = []
    d.handle_syscall(
        "read",
        on_enter=lambda t, h: events.append((t.tid, "enter", None)),
        on_exit=lambda t, h: events.append((t.tid, "exit", t.syscall_return)),
    )
    d.handle_syscall("getpid", on_enter=lambda t, h: getpids.append(t.tid))
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert len(getpids) > 10
    assert len(events) == 4, events
    assert sorted(val for _, phase, val in events if phase == "exit") == [1, 1]


def test_clone3_thread_creation_is_followed_whatever_syscall_is_handled(launch):
    # docs/edge-cases.md §29: glibc >= 2.34 creates threads with clone3; following
    # rides on ptrace events, so it works whichever handler is registered.
    d = launch("mt_workers", 2)
    d.run(redirect_pipes=False)
    calls = {"clone": 0, "clone3": 0}

    def count(name):
        def cb(t, h):
            calls[name] += 1
        return cb

    d.handle_syscall("clone", on_enter=count("clone"))
    d.handle_syscall("clone3", on_enter=count("clone3"))
    starters = []
    d.breakpoint("worker", file="binary", callback=lambda t, bp: starters.append(t.tid))
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert len(set(starters)) == 2
    # On this glibc (2.36) pthread_create uses clone3; older ones use clone.
    assert calls["clone"] + calls["clone3"] == 2, calls


# --- a thread blocked while another stops -----------------------------------

def test_thread_blocked_in_read_while_another_hits_a_breakpoint(launch):
    d = launch("mt_blockread", "pipe")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("mark", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    reader_tid = read_ints(d, "reader_tid", 1)[0]
    reader = thread_by_tid(d, reader_tid)
    assert reader is not None and not reader.dead
    assert task_state(d.pid, reader_tid) == "t"
    assert reader.syscall_number == 0  # stopped inside read()
    d.cont()
    d.wait()
    # 0: read() returned the byte; 4 would mean the program saw EINTR.
    assert d.exit_code == 0


def test_thread_blocked_on_stdin_gets_input_sent_while_stopped(launch):
    d = launch("mt_blockread", "stdin")
    io = d.run()
    bp = d.breakpoint("mark", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    io.sendline(b"hello")  # stdin is buffered by the kernel while stopped
    d.cont()
    d.wait()
    assert d.exit_code == 0


# --- thread and process death -----------------------------------------------

def test_thread_exit_while_others_run(launch):
    d = launch("mt_exit", "early_exit")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("mark", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    gone = read_ints(d, "tids", 2)[1]
    assert gone not in {t.tid for t in live_threads(d)}
    old = thread_by_tid(d, gone)
    assert old is None or old.dead
    assert {t.tid for t in live_threads(d)} == task_tids(d.pid)
    d.cont()
    d.wait()
    assert d.exit_code == 0


def test_main_thread_pthread_exit_before_the_others(launch, capfd):
    # docs/edge-cases.md §15c/§16: the leader is a zombie while worker 2 still runs.
    d = launch("mt_exit", "leader_exit")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("late_mark", file="binary")
    d.cont()
    d.wait()
    assert not d.dead
    t = next(x for x in live_threads(d) if bp.hit_on(x))
    assert t.tid != d.pid
    assert t.regs.rip == bp.address
    leader = thread_by_tid(d, d.pid)
    assert leader is None or leader.dead or getattr(leader, "zombie", False)
    d.cont()
    d.wait()
    assert d.dead
    assert d.exit_code == 0
    assert "worker 2 done" in capfd.readouterr().out


def test_leader_exit_in_a_child_forked_by_a_non_leader_thread(launch, capfd):
    # Only leaders get PTRACE_O_TRACEEXIT (other threads skip that stop), and
    # options are inherited from the creating thread: the child's leader,
    # made by a non-leader, must get it back, or the all-stop at late_mark
    # would wait forever for its exited leader.
    d = launch("mt_exit", "fork_leader_exit", follow_children=True)
    d.run(redirect_pipes=False)
    bps = []

    def on_fork(parent, child):
        bps.append(child.breakpoint("late_mark", file="binary"))
        child.cont()
    d.on_fork(on_fork)
    d.cont()
    child = d.wait_any(timeout=20)
    assert child is not d
    t = next(x for x in live_threads(child) if bps[0].hit_on(x))
    assert t.tid != child.pid and t.regs.rip == bps[0].address
    leader = thread_by_tid(child, child.pid)
    assert leader is None or leader.dead or getattr(leader, "zombie", False)
    child.cont()
    d.wait(timeout=20)
    assert d.exit_code == 0
    assert child.dead and child.exit_code == 0
    assert "worker 2 done" in capfd.readouterr().out


def test_exit_group_from_a_non_main_thread(launch):
    d = launch("mt_exit", "group_exit")
    d.run(redirect_pipes=False)
    leader = thread_by_tid(d, d.pid)  # kept: d.threads may drop dead threads
    d.cont()
    d.wait()
    assert d.dead
    assert d.exit_code == 7
    assert live_threads(d) == []
    assert leader.dead and leader.exit_code == 7


def test_fatal_signal_in_one_thread_kills_every_thread(launch):
    d = launch("mt_exit", "segv")
    d.run(redirect_pipes=False)
    leader = thread_by_tid(d, d.pid)
    d.cont()
    d.wait()
    assert d.dead
    assert sig_num(d.exit_signal) == signal.SIGSEGV
    assert d.exit_code is None
    assert live_threads(d) == []
    assert leader.dead and sig_num(leader.exit_signal) == signal.SIGSEGV


def test_thread_killed_by_a_fatal_signal_takes_the_process(launch):
    # pthread_kill(worker, SIGTERM): the default action of a fatal signal
    # ends the whole thread group, whichever thread it was sent to.
    d = launch("mt_exit", "thread_kill")
    d.run(redirect_pipes=False)
    leader = thread_by_tid(d, d.pid)
    d.cont()
    d.wait()
    assert d.dead
    assert sig_num(d.exit_signal) == signal.SIGTERM
    assert live_threads(d) == []
    assert leader.dead and sig_num(leader.exit_signal) == signal.SIGTERM


# --- hardware breakpoints and watchpoints -----------------------------------

def test_hardware_watchpoint_and_breakpoint_cover_threads_created_later(launch):
    # docs/edge-cases.md §8a: x86 gives each new task zeroed debug registers.
    n = 8
    d = launch("mt_hwlater", n)
    d.run(redirect_pipes=False)
    armed = d.breakpoint("armed", file="binary")
    d.cont()
    d.wait()
    assert armed.hit_on(d)
    wp_tids, hw_tids = [], []
    wp = d.watchpoint("shared_var", condition="w", length=4, file="binary",
                      callback=lambda t, b: wp_tids.append(t.tid))
    hw = d.breakpoint("hw_func", hardware=True, file="binary",
                      callback=lambda t, b: hw_tids.append(t.tid))
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert len(wp_tids) == n and len(set(wp_tids)) == n
    assert len(hw_tids) == n and set(hw_tids) == set(wp_tids)
    assert d.pid not in wp_tids
    assert wp.hit_count == n and hw.hit_count == n


# --- scheduler locking (tether extra, gdb's scheduler-locking) --------------

def test_scheduler_locking_default_and_bad_value(launch):
    d = launch("mt_spin", 1)
    d.run(redirect_pipes=False)
    assert d.scheduler_locking == "off"
    with pytest.raises(ValueError):
        d.scheduler_locking = "sideways"
    with pytest.raises((TypeError, ValueError)):
        d.scheduler_locking = 1
    assert d.scheduler_locking == "off"


def _stop_main_at_mark(d):
    bp = d.breakpoint("mark", file="binary")
    bp2 = d.breakpoint("mark2", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    return bp2, thread_by_tid(d, d.pid)


def test_scheduler_locking_on_thread_cont_resumes_only_that_thread(launch):
    k = 2
    d = launch("mt_spin", k)
    d.run(redirect_pipes=False)
    bp2, main = _stop_main_at_mark(d)
    d.scheduler_locking = "on"
    before = read_ints(d, "counters", k, "q")
    main.cont()  # main sleeps 200 ms and reaches mark2 alone
    d.wait()
    assert bp2.hit_on(main)
    assert read_ints(d, "counters", k, "q") == before  # spinners never ran
    for t in live_threads(d):
        assert task_state(d.pid, t.tid) == "t"
    d.scheduler_locking = "off"
    d.cont()
    d.wait()
    assert d.exit_code == 0


def test_scheduler_locking_off_thread_cont_resumes_every_thread(launch):
    k = 2
    d = launch("mt_spin", k)
    d.run(redirect_pipes=False)
    bp2, main = _stop_main_at_mark(d)
    before = read_ints(d, "counters", k, "q")
    main.cont()
    d.wait()
    assert bp2.hit_on(main)
    after = read_ints(d, "counters", k, "q")
    assert all(a > b for a, b in zip(after, before)), (before, after)
    d.cont()
    d.wait()
    assert d.exit_code == 0


# --- attach --------------------------------------------------------------------

@pytest.fixture
def running(target):
    """Start a target outside the debugger; kill and reap it at teardown."""
    procs = []

    def _start(name, *args):
        p = subprocess.Popen([target(name), *map(str, args)])
        procs.append(p)
        return p

    yield _start
    for p in procs:
        try:
            p.kill()
        except OSError:
            pass
        try:
            p.wait(timeout=5)
        except (subprocess.TimeoutExpired, ChildProcessError):
            pass


def test_attach_to_running_multithreaded_process_gets_every_thread(target, running):
    # docs/edge-cases.md §24a: threads are born and die every 100 us while attaching.
    p = running("mt_attach")
    wait_for(lambda: len(task_tids(p.pid)) >= 6, what="mt_attach's threads")
    d = debugger(target("mt_attach"))
    try:
        d.attach(p.pid)
        assert {t.tid for t in live_threads(d)} == task_tids(p.pid)
        ticks, blips = [], []
        d.breakpoint("tick", file="binary", callback=lambda t, b: ticks.append(t.tid))
        d.breakpoint("blip", file="binary", callback=lambda t, b: blips.append(t.tid))
        d.cont()
        time.sleep(1.0)  # let it run (and create ~thousands of threads) for a while
        d.interrupt()
        assert not d.dead
        assert {t.tid for t in live_threads(d)} == task_tids(p.pid)
        assert len(set(ticks)) == 4  # the 4 long-lived tickers
        assert len(blips) > 0
    finally:
        kill_tree(d)
    p.wait(timeout=5)


def test_attach_to_job_stopped_multithreaded_process(target, running):
    # docs/edge-cases.md §24b: the process is in group-stop (kill -STOP) when we attach.
    p = running("mt_attach")
    wait_for(lambda: len(task_tids(p.pid)) >= 6, what="mt_attach's threads")
    os.kill(p.pid, signal.SIGSTOP)
    wait_for(lambda: proc_state(p.pid) == "T", what="group-stop")
    d = debugger(target("mt_attach"))
    try:
        d.attach(p.pid)
        ticks = []
        d.breakpoint("tick", file="binary", callback=lambda t, b: ticks.append(t.tid))
        d.cont()
        wait_for(lambda: len(ticks) > 10, timeout=5, what="the attached process to run")
        d.interrupt()
        assert not d.dead
    finally:
        kill_tree(d)
    p.wait(timeout=5)
