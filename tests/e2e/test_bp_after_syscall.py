"""A breakpoint on the instruction right after a `syscall`, while the thread
is stopped inside that syscall (syscall-entry stop, fork event stop, or a
blocking call interrupted by the debugger, which the kernel restarts). The
instruction at rip is then *not* the next one to run: the syscall finishes
(or restarts) first, so tether must not step over or emulate it there.

Target: bp_after_syscall.c (`test rax, rax` after each syscall, an
instruction tether's emulator handles)."""
import time

import pytest

from procutil import shutdown


@pytest.mark.timeout(30)
def test_breakpoint_after_syscall_with_syscall_stops(launch):
    d = launch("bp_after_syscall", "getpid", 3)
    io = d.run()
    hits = []
    entries = []
    # Entry and exit stops, both with rip on the breakpoint.
    d.handle_syscall("getpid", on_enter=lambda t, h: entries.append(t.regs.rip),
                     on_exit=lambda t, h: None)
    bp = d.breakpoint("after_getpid", callback=lambda t, bp: hits.append(t.regs.rax))
    d.cont()
    assert io.recvline(timeout=10) == b"getpid ok"
    d.wait()
    assert d.exit_code == 0
    assert len(hits) == 3 and all(rax == d.pid for rax in hits)
    assert entries.count(bp.address) == 3  # (and one libc getpid())
    shutdown(d)


@pytest.mark.timeout(30)
def test_breakpoint_after_interrupted_blocking_syscall(launch):
    d = launch("bp_after_syscall", "read")
    io = d.run()
    bp = d.breakpoint("after_read")
    d.cont()
    assert io.recvline(timeout=10) == b"ready"
    time.sleep(0.1)  # let it block in read()
    d.interrupt()    # stops it inside read(), which the kernel will restart
    assert d.regs.rip == bp.address or d.regs.rax != 0
    d.cont()
    io.send(b"x")
    d.wait()
    assert bp.hit_count == 1 and d.regs.rip == bp.address and d.regs.rax == 1
    d.cont()
    assert io.recvline(timeout=10) == b"read=1 x"
    d.wait()
    assert d.exit_code == 0
    shutdown(d)


@pytest.mark.timeout(30)
def test_breakpoint_after_fork_syscall_in_parent_and_child(launch):
    d = launch("bp_after_syscall", "fork", follow_children=True)
    io = d.run()
    seen = []
    d.breakpoint("after_fork", callback=lambda t, bp: seen.append(t.regs.rax))
    d.on_fork(lambda parent, child: child.cont())
    d.cont()
    lines = sorted([io.recvline(timeout=10), io.recvline(timeout=10)])
    d.wait()
    assert lines == [b"child ok", b"parent ok"]
    assert d.exit_code == 0
    # The parent hits it with the child's pid. The child has a blank slate
    # (no breakpoints of the parent's) unless inherited, so one hit here.
    assert len(seen) == 1 and seen[0] > 0
    shutdown(d)
