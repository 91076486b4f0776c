"""End-to-end breakpoint tests (issue 3): software and hardware
breakpoints by symbol, address, symbol+offset and in libc; hit_count,
hit_on, enable/disable, the breakpoints dict, callbacks (100 000 hits counted
exactly), 10 000 breakpoints at once, the four-debug-register limit, and
stepping over a breakpoint at the current instruction.
Targets: basic.c (main -> f -> g, g called 3 times), loop_calls.c,
nop_sled.c."""
import os

import pytest

from tether import debugger
from procutil import load_base, nm_offsets, shutdown


def map_path_of(pid, address):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split(None, 5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if start <= address < end:
                return fields[5].strip() if len(fields) > 5 else ""
    return None


class Run:
    """A started debugger on a target plus address helpers."""

    def __init__(self, path, **kwargs):
        self.path = path
        self.d = debugger([path], **kwargs)
        self.io = self.d.run()
        self.nm = nm_offsets(path)
        self.base = load_base(self.d.pid, path)

    def addr(self, symbol):
        return self.base + self.nm[symbol]

    def read_long(self, symbol):
        return int.from_bytes(self.d.memory[self.addr(symbol), 8, "absolute"], "little")

    def close(self):
        shutdown(self.d)


@pytest.fixture
def run_target(target):
    runs = []

    def start(name, **kwargs):
        r = Run(target(name), **kwargs)
        runs.append(r)
        return r

    yield start
    for r in runs:
        r.close()


def finish_basic(r):
    """Let basic run to its end and check its output and exit code."""
    r.d.cont()
    out = r.io.recvuntil(b"done\n", timeout=15)
    r.d.wait()
    assert b"f=9\n" in out
    assert r.d.dead and r.d.exit_code == 7


@pytest.mark.timeout(30)
def test_breakpoint_by_symbol(run_target):
    r = run_target("basic")
    bp = r.d.breakpoint("g")
    assert bp.address == r.addr("g")
    assert bp.hit_count == 0
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == bp.address
    assert bp.hit_count == 1
    assert r.read_long("g_calls") == 0  # stopped before g's body ran
    r.d.cont()
    r.d.wait()
    assert bp.hit_count == 2
    assert r.read_long("g_calls") == 1
    bp.disable()
    finish_basic(r)
    assert bp.hit_count == 2


@pytest.mark.timeout(30)
def test_breakpoint_by_absolute_and_binary_relative_address(run_target):
    r = run_target("basic")
    bp_abs = r.d.breakpoint(r.addr("f"))
    bp_rel = r.d.breakpoint(r.nm["g"], file="binary")
    assert bp_abs.address == r.addr("f")
    assert bp_rel.address == r.addr("g")
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == r.addr("f") and bp_abs.hit_count == 1
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == r.addr("g") and bp_rel.hit_count == 1
    bp_rel.disable()
    finish_basic(r)


@pytest.mark.timeout(30)
def test_breakpoint_at_symbol_plus_offset(run_target):
    r = run_target("basic")
    # g starts with `push %rbp; mov %rsp,%rbp` (gcc -O0 with frame pointer),
    # so g+4 is the instruction after the prologue.
    assert r.d.memory["g", 4] == b"\x55\x48\x89\xe5"
    bp = r.d.breakpoint("g+4")
    assert bp.address == r.addr("g") + 4
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == r.addr("g") + 4
    assert r.d.regs.rbp == r.d.regs.rsp  # the prologue ran
    bp.disable()
    finish_basic(r)


@pytest.mark.timeout(30)
def test_breakpoint_in_libc(run_target):
    r = run_target("basic")
    bp = r.d.breakpoint("puts", file="libc")
    assert "libc" in os.path.basename(map_path_of(r.d.pid, bp.address))
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == bp.address
    assert bp.hit_count == 1
    # basic calls puts("done") exactly once.
    assert r.d.memory[r.d.regs.rdi, 5, "absolute"] == b"done\x00"
    finish_basic(r)
    assert bp.hit_count == 1


@pytest.mark.timeout(30)
def test_hit_on_and_breakpoints_dict(run_target):
    r = run_target("basic")
    bp_f = r.d.breakpoint("f")
    bp_g = r.d.breakpoint("g")
    assert r.d.breakpoints == {bp_f.address: bp_f, bp_g.address: bp_g}
    thread = r.d.threads[0]
    r.d.cont()
    r.d.wait()
    assert bp_f.hit_on(thread) and not bp_g.hit_on(thread)
    r.d.cont()
    r.d.wait()
    assert bp_g.hit_on(thread) and not bp_f.hit_on(thread)
    assert (bp_f.hit_count, bp_g.hit_count) == (1, 1)
    bp_g.disable()
    finish_basic(r)


@pytest.mark.timeout(30)
def test_enable_and_disable(run_target):
    r = run_target("basic")
    bp_f = r.d.breakpoint("f")
    bp_g = r.d.breakpoint("g")
    bp_g.disable()
    assert bp_g.enabled is False and bp_f.enabled is True
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == bp_f.address
    # A disabled breakpoint leaves the original code in place.
    assert r.d.memory[bp_g.address, 1, "absolute"] == b"\x55"
    bp_g.enable()
    assert bp_g.enabled is True
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == bp_g.address
    assert bp_g.hit_count == 1
    bp_g.disable()
    finish_basic(r)
    assert bp_g.hit_count == 1


@pytest.mark.timeout(30)
def test_callback_true_counts_without_stopping(run_target):
    r = run_target("basic")
    bp = r.d.breakpoint("g", callback=True)
    finish_basic(r)
    assert bp.hit_count == 3


@pytest.mark.timeout(60)
def test_callback_counts_100000_hits_exactly(run_target):
    r = run_target("loop_calls")
    seen = {"calls": 0, "rdi_sum": 0, "wrong_rip": 0}

    def on_hit(thread, bp):
        seen["calls"] += 1
        seen["rdi_sum"] += thread.regs.rdi
        if thread.regs.rip != bp.address:
            seen["wrong_rip"] += 1

    bp = r.d.breakpoint("counted", callback=on_hit)
    r.d.cont()
    out = r.io.recvline(timeout=55)
    r.d.wait()
    assert out == b"calls=100000 sum=4999950000"
    assert r.d.exit_code == 0
    assert seen["calls"] == 100000
    assert bp.hit_count == 100000
    assert seen["rdi_sum"] == 4999950000  # every argument 0..99999 seen once
    assert seen["wrong_rip"] == 0


@pytest.mark.timeout(60)
def test_ten_thousand_breakpoints_at_once(run_target):
    r = run_target("nop_sled")
    start = r.addr("sled_start")
    hits = []

    def on_hit(thread, bp):
        hits.append(bp.address)

    bps = [r.d.breakpoint(start + i, callback=on_hit, file="absolute") for i in range(10000)]
    assert len(r.d.breakpoints) == 10000
    r.d.cont()
    assert r.io.recvline(timeout=55) == b"sled done"
    r.d.wait()
    assert r.d.exit_code == 0
    # Each nop ran once, in order, and each breakpoint saw exactly one hit.
    assert hits == [start + i for i in range(10000)]
    assert all(bp.hit_count == 1 for bp in bps)


@pytest.mark.timeout(30)
def test_hardware_breakpoint(run_target):
    r = run_target("basic")
    bp = r.d.breakpoint("g", hardware=True)
    assert bp.hardware is True
    # No int3 in memory for a hardware breakpoint.
    assert r.d.memory["g", 1] == b"\x55"
    for expected in (1, 2, 3):
        r.d.cont()
        r.d.wait()
        assert r.d.regs.rip == bp.address
        assert bp.hit_count == expected
        assert r.read_long("g_calls") == expected - 1
    finish_basic(r)
    assert bp.hit_count == 3


@pytest.mark.timeout(30)
def test_fifth_hardware_breakpoint_is_refused(run_target):
    r = run_target("basic")
    first_four = [r.d.breakpoint(sym, hardware=True) for sym in ("main", "f", "g")]
    first_four.append(r.d.breakpoint("puts", hardware=True, file="libc"))
    with pytest.raises((RuntimeError, ValueError)) as info:
        r.d.breakpoint("printf", hardware=True, file="libc")
    assert "hardware" in str(info.value).lower() or "debug register" in str(info.value).lower()
    # The four that fit still work, in program order: f, then g.
    first_four[0].disable()
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == first_four[1].address
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == first_four[2].address
    first_four[2].disable()
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == first_four[3].address  # puts("done")
    first_four[3].disable()
    finish_basic(r)


@pytest.mark.timeout(30)
def test_step_over_the_breakpoint_at_the_current_instruction(run_target):
    r = run_target("basic")
    bp = r.d.breakpoint("g")
    r.d.cont()
    r.d.wait()
    rsp = r.d.regs.rsp
    # step() runs the original `push %rbp`, not the int3.
    r.d.step()
    assert r.d.regs.rip == bp.address + 1
    assert r.d.regs.rsp == rsp - 8
    assert bp.hit_count == 1
    # The breakpoint is back in place: the next call stops again.
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == bp.address
    assert bp.hit_count == 2
    assert r.read_long("g_calls") == 1


@pytest.mark.timeout(30)
def test_cont_from_a_breakpoint_does_not_rehit_it(run_target):
    r = run_target("basic")
    bp = r.d.breakpoint("g")
    r.d.cont()
    r.d.wait()
    r.d.cont()  # straight from the breakpoint address
    r.d.wait()
    assert bp.hit_count == 2
    assert r.read_long("g_calls") == 1  # exactly one g body ran in between
    bp.disable()
    finish_basic(r)


@pytest.mark.timeout(30)
def test_callback_and_synchronous_breakpoints_interleave(run_target):
    # A breakpoint and a callback breakpoint at different places interleave.
    r = run_target("basic")
    order = []
    r.d.breakpoint("g", callback=lambda t, bp: order.append("g"))
    bp_puts = r.d.breakpoint("puts", file="libc")
    r.d.cont()
    r.d.wait()
    assert r.d.regs.rip == bp_puts.address
    assert order == ["g", "g", "g"]
    finish_basic(r)
