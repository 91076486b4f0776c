"""runtime/launch.py's pure parts: the scheduling a forked child starts with,
and the affinity mask handed to sched_setaffinity."""
import os
import signal
import threading

import pytest
from hypothesis import given, strategies as st

from tether.runtime.launch import cpu_mask, forked_scheduling, launch_from_thread

RESET = os.SCHED_RESET_ON_FORK
DEADLINE = 6


@pytest.mark.parametrize("policy, priority, nice, expected", [
    (os.SCHED_OTHER, 0, 0, (os.SCHED_OTHER, 0, 0)),
    (os.SCHED_OTHER, 0, 5, (os.SCHED_OTHER, 0, 5)),
    (os.SCHED_BATCH, 0, -3, (os.SCHED_BATCH, 0, -3)),
    (os.SCHED_IDLE, 0, 0, (os.SCHED_IDLE, 0, 0)),
    (os.SCHED_FIFO, 10, 0, (os.SCHED_FIFO, 10, 0)),
    (os.SCHED_RR, 99, -5, (os.SCHED_RR, 99, -5)),
    # SCHED_RESET_ON_FORK: what fork gives the child.
    (os.SCHED_FIFO | RESET, 10, -5, (os.SCHED_OTHER, 0, 0)),
    (os.SCHED_RR | RESET, 1, 3, (os.SCHED_OTHER, 0, 3)),
    (os.SCHED_OTHER | RESET, 0, -7, (os.SCHED_OTHER, 0, 0)),
    (os.SCHED_BATCH | RESET, 0, 4, (os.SCHED_BATCH, 0, 4)),
    (DEADLINE | RESET, 0, 0, (os.SCHED_OTHER, 0, 0)),
    (DEADLINE, 0, 0, (-1, 0, 0)),  # not settable: left as it is
])
def test_forked_scheduling_table(policy, priority, nice, expected):
    assert forked_scheduling(policy, priority, nice) == expected


@given(st.sets(st.integers(0, 4095), max_size=64))
def test_cpu_mask_holds_exactly_the_cpus(cpus):
    mask = cpu_mask(cpus)
    assert len(mask) % 8 == 0 and len(mask) >= 128  # whole longs, at least 1024 bits
    bits = int.from_bytes(mask, "little")
    assert {i for i in range(len(mask) * 8) if bits >> i & 1} == cpus


def test_launch_of_this_thread():
    launch = launch_from_thread(0, False, ())
    assert launch.keep_fds is None and launch.stdio == (-1, -1, -1)
    assert launch.sched == forked_scheduling(os.sched_getscheduler(0),
                                             os.sched_getparam(0).sched_priority,
                                             os.getpriority(os.PRIO_PROCESS, 0))
    assert launch_from_thread(0, True, ()).keep_fds == ()
    r, w = os.pipe()
    try:
        assert launch_from_thread(0, False, (w, 1, r)).keep_fds == tuple(sorted((r, w)))
    finally:
        os.close(r)
        os.close(w)
    with pytest.raises(OSError, match=f"pass_fds: fd {r} is not open"):
        launch_from_thread(0, False, (r,))
    assert launch.with_stdio([4, 5, 6]).stdio == (4, 5, 6)


def test_launch_of_another_thread_reads_that_threads_mask():
    # What run() does from a callback: the main thread's attributes, read
    # from the tracer thread.
    got = []
    me = threading.get_native_id()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    try:
        t = threading.Thread(target=lambda: got.append(launch_from_thread(me, False, ())))
        t.start()
        t.join(10)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    assert got[0].sigmask & (1 << (signal.SIGUSR2 - 1))
    assert got[0].sigmask == launch_from_thread(me, False, ()).sigmask | (1 << (signal.SIGUSR2 - 1))
