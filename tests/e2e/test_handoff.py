"""How the user's thread and tether's tracer thread hand work to each other
(runtime/tracer.py): cont() does not wait for the tracer, yet everything the
script does next sees the process running; Ctrl-C reaches a script blocked in
wait(); a followed child's life does not disturb a wait on its parent.

Targets: loop_calls.c (counted() N times), idle_sleeper.c (sleeps), mp_forkmany.c."""
import os
import signal
import threading
import time

import pytest


@pytest.mark.timeout(30)
def test_after_cont_the_process_is_running_at_once(launch):
    d = launch("loop_calls", 50)
    d.run(redirect_pipes=False)
    bp = d.breakpoint("counted", file="binary")
    for i in range(1, 51):
        d.cont()
        # cont() has handed the resume over; the script must see its effect.
        assert d.running or d.regs.rip == bp.address
        assert d.regs.rip == bp.address  # waits for the stop, never the old one
        assert bp.hit_count == i
        assert d.regs.rdi == i - 1       # counted(i - 1): this hit's argument
    d.cont()
    d.wait()
    assert d.dead and d.exit_code == 0


@pytest.mark.timeout(30)
def test_cont_then_wait_in_a_tight_loop_counts_every_hit(launch):
    d = launch("loop_calls", 2000)
    d.run(redirect_pipes=False)
    bp = d.breakpoint("counted", file="binary")
    for _ in range(2000):
        d.cont()
        d.wait()
    assert bp.hit_count == 2000
    d.cont()
    d.wait()
    assert d.exit_code == 0


@pytest.mark.timeout(30)
def test_thread_context_sees_a_posted_cont(launch):
    d = launch("loop_calls", 3)
    d.run(redirect_pipes=False)
    d.breakpoint("counted", file="binary")
    t = d.threads[0]
    d.cont()
    assert t.regs.rdi == 0  # the thread's registers wait for the stop too
    d.cont()
    d.wait()
    assert not t.running and t.regs.rdi == 1


@pytest.mark.timeout(30)
def test_ctrl_c_interrupts_a_script_blocked_in_wait(launch):
    d = launch("idle_sleeper", 0, 20)
    d.run(redirect_pipes=False)
    d.cont()
    # SIGINT to the whole process (as from a terminal): the kernel may pick
    # any thread that does not block it, so the tracer thread must block it.
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            d.wait()
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 5
    assert d.running  # the debugger is still usable
    d.kill()
    assert d.dead


@pytest.mark.timeout(60)
def test_children_born_and_dying_do_not_break_a_wait_on_their_parent(launch):
    d = launch("mp_forkmany", 100, follow_children=True)
    d.run(redirect_pipes=False)
    born = []
    d.on_fork(lambda parent, child: (born.append(child), child.cont()))
    d.cont()
    d.wait(timeout=50)
    assert d.dead and d.exit_code == 0  # every child's status was right
    assert len(born) == 100 and all(c.dead for c in born)
