"""detach() while threads are stopped on (or just past) a breakpoint: every
thread must go on from a valid instruction, never one byte past an int3."""
import ctypes
import os
import signal
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


def _tgkill(pid: int, tid: int, sig: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(234, pid, tid, sig) != 0:  # (SYS_tgkill on x86-64)
        raise OSError(ctypes.get_errno(), "tgkill")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stopped_by", ["attach", "breakpoint"])
@pytest.mark.parametrize("sender", ["tgkill", "kill"])
def test_a_sigtrap_sent_while_held_reaches_the_program_after_detach(target, stopped_by, sender):
    """A SIGTRAP the program gets while tether holds it stopped is the
    program's own: after detach() its handler runs, in the thread it was
    sent to (it used to be taken for one of tether's traps and dropped),
    and with the registers the user gave the thread meanwhile (they used to
    be dropped when tether let it take the SIGTRAP to see whose it was)."""
    p = subprocess.Popen([target("detach_sigtrap"), "20"], stdout=subprocess.PIPE)
    try:
        worker = int(p.stdout.readline().split()[1])
        d = debugger()
        d.attach(p.pid)
        if stopped_by == "breakpoint":
            bp = d.breakpoint("spin_once", file="binary")
            d.cont()
            d.wait()
            assert bp.hit_count == 1
            thread = next(t for t in d.threads if t.tid == worker)
            thread.regs.r11 = 0x5EED  # (r11: caller-saved, free at spin_once's entry)
        if sender == "tgkill":
            _tgkill(p.pid, worker, signal.SIGTRAP)
        else:
            os.kill(p.pid, signal.SIGTRAP)
        d.detach()
        out, _ = p.communicate(timeout=40)
        assert p.returncode == 0, out
        expected = b"traps=1 in_worker=1 si_code=-6" if sender == "tgkill" else b"traps=1"
        assert out.startswith(expected), out
        if sender == "tgkill" and stopped_by == "breakpoint":
            assert out.endswith(b" r11=0x5eed\n"), out
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
