"""Recycled thread ids (regression test).

The kernel hands a tid out again once its thread is reaped, and pid_max may
be as low as 32768, so in a long session a new thread can get the tid of a
thread tether let go of earlier (Session.gone: detached, or vanished in an
exec). The new tracee's first stop often comes before its creator's clone
event (the kernel's wait scans the newest tracees first): it must be kept as
an early stop, not resumed as the old thread's. Resumed, the new thread runs
untraced-in-effect until the clone event, and a breakpoint it hits meanwhile
lets it go on one byte past the int3 (mt_attach: `push rbp` skipped -> SIGSEGV).

Waiting for the kernel to recycle tids would take the whole pid space; the
test marks every free tid as one tether let go of before the target starts
its new threads, which is what a recycled tid looks like to tether."""
import os
import subprocess
import time

import pytest

from tether import debugger
from tether.runtime.registry import uptime_ticks as _uptime_ticks
from tether.runtime.tracer import get_tracer
from procutil import kill_tree, task_tids, wait_for


def _mark_free_tids_gone() -> int:
    session = get_tracer().session.registry
    now = _uptime_ticks()
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    free = [t for t in range(300, min(pid_max, 1 << 16)) if not os.path.exists(f"/proc/{t}")]
    for tid in free:
        session.gone[tid] = now
    return len(free)


@pytest.mark.timeout(60)
def test_new_threads_with_recycled_tids_hit_breakpoints(target):
    p = subprocess.Popen([target("mt_attach")])
    session = get_tracer().session.registry
    saved = dict(session.gone)
    try:
        wait_for(lambda: len(task_tids(p.pid)) >= 6, what="mt_attach's threads")
        d = debugger(target("mt_attach"))
        assert _mark_free_tids_gone() > 1000
        time.sleep(0.02)  # the threads born from now on start a clock tick later
        try:
            d.attach(p.pid)
            blips = []
            d.breakpoint("blip", file="binary", callback=lambda t, b: blips.append(t.tid))
            d.cont()
            time.sleep(0.5)  # ~thousands of new threads, each with a recycled-looking tid
            d.interrupt()
            assert not d.dead, "the target died: a new thread ran past a breakpoint"
            assert {t.tid for t in d.threads if not t.dead} == task_tids(p.pid)
            assert len(blips) > 0
        finally:
            kill_tree(d)
    finally:
        session.gone.clear()
        session.gone.update(saved)
        p.kill()
        p.wait(timeout=5)
