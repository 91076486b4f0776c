"""detach() while threads are stopped on (or just past) a breakpoint: every
thread must go on from a valid instruction, never one byte past an int3."""
import subprocess
import time

import pytest

from tether import debugger


@pytest.mark.timeout(60)
@pytest.mark.parametrize("attempt", range(5))
def test_detach_while_breakpoint_hits_are_pending(target, attempt):
    p = subprocess.Popen([target("detach_hot"), "1.0"], stdout=subprocess.PIPE)
    try:
        d = debugger(auto_interrupt_on_command=True)  # detach() interrupts, then lets go
        d.attach(p.pid)
        bp = d.breakpoint("tick", file="binary", callback=True)
        d.cont()
        # Hits are coming in (the callback counts them) when we let go; waited
        # for, not slept for: a loaded machine may take long to the first.
        deadline = time.monotonic() + 15
        while bp.hit_count == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        d.detach()
        out, _ = p.communicate(timeout=20)
        assert p.returncode == 0, f"the program died after detach: {p.returncode}"
        assert out.startswith(b"done ")
        assert bp.hit_count > 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
