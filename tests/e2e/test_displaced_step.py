"""Breakpoints on instructions the emulator refuses, run out of line in the
displaced-step slot at the entry point (runtime/displaced.py) while the
other threads keep running: exact hit counts with 8 threads, the program's
results unchanged, and the slot never seen from outside (registers at a
stop, a signal handler's pc, a fork child's memory, the memory after
detach)."""
import os
import subprocess
import time

import pytest

from tether import debugger
from tether.ptrace import auxv_entry

THREADS = 8
# Breakpoints on these: lock incq x(%rip); movdqu x(%rip),%xmm0;
# mov x(%rip),%rsi; rep movsb; cpuid. None is emulated.
DISPLACED = ("bump", "load4", "via_rsi_load", "copy_rep", "cpu_vendor_cpuid")


def _untraced(path, *args) -> bytes:
    return subprocess.run([path, *args], capture_output=True, timeout=60, check=True).stdout


def _raw(pid: int, address: int, size: int) -> bytes:
    """Memory as it is, our bytes included (d.memory hides them)."""
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    try:
        return os.pread(fd, size, address)
    finally:
        os.close(fd)


@pytest.mark.timeout(120)
def test_exact_hits_and_results_with_8_threads(target):
    path = target("mt_displaced")
    calls = 300
    d = debugger([path, "threads", str(calls)])
    try:
        io = d.run()
        entry = auxv_entry(d.pid)
        original = bytes(d.memory[entry, 16])
        raw_in_callback = []
        seen_in_callback = []

        def look(t, bp):
            if bp.hit_count == 1000:
                raw_in_callback.append(_raw(d.pid, entry, 16))
                # Both ways of reading (the indexed fast path and read())
                # show the program's bytes, not the slot's.
                seen_in_callback.append((bytes(d.memory[entry, 16, "absolute"]),
                                         d.memory.read(entry, 16), bytes(d.memory[entry + 4, 1, "absolute"])))

        bps = {name: d.breakpoint(name, file="binary", callback=look) for name in DISPLACED}
        # A jmp is stepped with its int3 lifted and the other threads held,
        # while they use the slot too.
        bps["hop"] = d.breakpoint("hop", file="binary", callback=True)
        for bp in bps.values():
            assert d.memory[bp.address, 1] != b"\xcc"
        d.cont()
        d.wait()
        assert d.exit_code == 0
        untraced = _untraced(path, "threads", str(calls)).splitlines()
        assert [io.recvline(), io.recvline()] == untraced[:2]
        assert bps["bump"].hit_count == 1 + THREADS * calls
        assert bps["load4"].hit_count == THREADS * calls
        assert bps["hop"].hit_count == THREADS * calls
        assert bps["via_rsi_load"].hit_count == THREADS * calls
        assert bps["copy_rep"].hit_count == THREADS * calls   # one hit per rep movsb, not per byte
        assert bps["cpu_vendor_cpuid"].hit_count == THREADS * (calls + 1)
        # The slot was used (our code at the entry point) while the
        # program ran; the user's view of memory shows the program's bytes.
        assert raw_in_callback and raw_in_callback[0] != original
        assert seen_in_callback and set(seen_in_callback) == {(original, original, original[4:5])}
    finally:
        d.kill()


@pytest.mark.timeout(60)
def test_memory_at_a_stop_shows_the_programs_entry_bytes(target):
    """Once a thread has run an instruction out of line, the slot keeps our
    code (until the last breakpoint goes): at a later stop every way of
    reading the entry point (the indexed fast path, read(), a byte, a range
    over it) gives the program's bytes, and a small write there goes where
    the program has its own, the slot put back first."""
    path = target("mt_displaced")
    d = debugger([path, "threads", "50"])
    try:
        d.run()
        entry = auxv_entry(d.pid)
        original = bytes(d.memory[entry, 16, "absolute"])
        bp = d.breakpoint("bump", file="binary")
        for _ in range(3):   # the later hits come after one ran in the slot
            d.cont()
            d.wait()
        assert bp.hit_on(d.threads[0]) or any(bp.hit_on(t) for t in d.threads)
        assert _raw(d.pid, entry, 16) != original   # our code is in the slot
        assert bytes(d.memory[entry, 16, "absolute"]) == original
        assert d.memory.read(entry, 16) == original
        assert bytes(d.memory[entry + 3, 1, "absolute"]) == original[3:4]
        assert d.memory.read(entry - 8, 32)[8:24] == original
        d.memory[entry, 1, "absolute"] = original[:1]   # the program's own byte, written
        assert _raw(d.pid, entry, 16) == original      # (the slot was put back first)
        d.cont()
        d.wait()
        assert bp.hit_count >= 4
    finally:
        d.kill()


@pytest.mark.timeout(120)
def test_stops_never_show_the_slot(target):
    """A breakpoint without callback: every hit stops the process while the
    other threads may be running in the slot. They are taken out of it
    (rip on the instruction, or past it) before the process is reported
    stopped, and the hits stay exact."""
    path = target("mt_displaced")
    calls = 20
    d = debugger([path, "threads", str(calls)])
    try:
        io = d.run()
        entry = auxv_entry(d.pid)
        hot = d.breakpoint("load4", file="binary", callback=True)
        stop = d.breakpoint("via_rsi_load", file="binary")
        for _ in range(THREADS * calls):
            d.cont()
            d.wait()
            rips = [t.regs.rip for t in d.threads if not t.dead]
            assert stop.address in rips
            assert not [rip for rip in rips if entry <= rip < entry + 16], "left in the slot"
        d.cont()
        d.wait()
        assert d.exit_code == 0
        assert stop.hit_count == THREADS * calls
        assert hot.hit_count == THREADS * calls
        assert io.recvline().startswith(b"counter=%d sum=%d bad_results=0"
                                        % (1 + 2 * THREADS * calls, THREADS * calls * 10))
    finally:
        d.kill()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("follow", [True, False])
def test_fork_children_get_the_entry_point_back(target, follow):
    """A child forked while the slot holds our code (and maybe a thread is
    running there) finds the program's own bytes at its entry point,
    followed (its Debugger lets it go on at once) or not."""
    path = target("mt_displaced")
    d = debugger([path, "fork", "100"], follow_children=follow)
    try:
        io = d.run()
        d.on_fork(lambda parent, child: child.cont())
        bp = d.breakpoint("via_rsi_load", file="binary", callback=True)
        d.breakpoint("bump", file="binary", callback=True)
        d.cont()
        d.wait()
        assert d.exit_code == 0
        io.recvline()
        assert io.recvline().startswith(b"children=20 bad_children=0 bad_pc=0")
        assert bp.hit_count == THREADS * 100
    finally:
        d.kill()


@pytest.mark.timeout(120)
def test_signals_while_in_the_slot(target):
    """Threads copying 8 MiB with one rep movsb (in the slot: a breakpoint
    on it) get SIGUSR1 again and again: the handler never finds its pc in
    the slot, every copy is right, and the rep goes on where it stopped."""
    path = target("mt_displaced")
    d = debugger([path, "signal", "6"])
    try:
        io = d.run()
        bp = d.breakpoint("copy_rep", file="binary", callback=True)
        d.cont()
        d.wait()
        assert d.exit_code == 0
        assert io.recvline().endswith(b"bad_results=0")
        assert b"bad_pc=0" in io.recvline()
        # A signal handled at the instruction's address runs the handler
        # first; returning, the thread meets the breakpoint again (as it
        # would under any debugger): at least one hit per copy.
        assert bp.hit_count >= THREADS * 6
    finally:
        d.kill()


@pytest.mark.timeout(120)
def test_fault_in_the_slot_is_the_instructions_own(target):
    """ud2 run in the slot faults there: the SIGILL handler sees the ud2's
    own address as pc and as si_addr, skips it, and each one is one hit."""
    path = target("mt_displaced")
    d = debugger([path, "ud2", "50"])
    try:
        io = d.run()
        bp = d.breakpoint("trap_ud2", file="binary", callback=True)
        d.cont()
        d.wait()
        assert d.exit_code == 0
        io.recvline()
        assert io.recvline().endswith(b"bad_pc=0 sigill=%d" % (THREADS * 50))
        assert bp.hit_count == THREADS * 50
    finally:
        d.kill()


@pytest.mark.timeout(120)
def test_disabling_the_breakpoint_from_a_callback_while_threads_wait(target):
    """Threads waiting for the slot when a callback disables the breakpoint
    go on: the instruction runs for real."""
    path = target("mt_displaced")
    d = debugger([path, "threads", "300"])
    try:
        io = d.run()

        def enough(t, bp):
            if bp.hit_count == 200:
                bp.disable()

        bp = d.breakpoint("via_rsi_load", file="binary", callback=enough)
        other = d.breakpoint("load4", file="binary", callback=True)
        d.cont()
        d.wait()
        assert d.exit_code == 0
        assert 200 <= bp.hit_count < THREADS * 300
        assert other.hit_count == THREADS * 300
        assert io.recvline().endswith(b"bad_results=0")
    finally:
        d.kill()


def _busy_until(bp, hits: int) -> None:
    deadline = time.monotonic() + 20
    while bp.hit_count < hits and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("attempt", range(3))
def test_detach_while_threads_use_the_slot(target, attempt):
    """detach() while the threads run through displaced breakpoints: the
    program goes on untraced with right results and its entry point's bytes
    back."""
    p = subprocess.Popen([target("mt_displaced"), "threads", "3000"], stdout=subprocess.PIPE)
    try:
        d = debugger(auto_interrupt_on_command=True)
        d.attach(p.pid)
        bps = [d.breakpoint(name, file="binary", callback=True)
               for name in ("load4", "via_rsi_load", "copy_rep")]
        d.cont()
        _busy_until(bps[1], 500)
        d.detach()
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0, out
        assert out.endswith(b"start_intact=1\n")
        assert b"bad_results=0" in out
        assert bps[1].hit_count > 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.mark.timeout(120)
def test_kill_while_threads_use_the_slot(target):
    d = debugger([target("mt_displaced"), "threads", "100000"])
    io = d.run()
    assert io is not None
    bp = d.breakpoint("via_rsi_load", file="binary", callback=True)
    d.breakpoint("copy_rep", file="binary", callback=True)
    d.cont()
    _busy_until(bp, 300)
    d.interrupt()
    d.kill()
    assert d.dead
