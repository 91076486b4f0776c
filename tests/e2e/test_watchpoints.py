"""End-to-end watchpoint tests (issue 3): write and read/write watchpoints
of 1, 2, 4 and 8 bytes stop right after the accessing instruction; callback
form; enable/disable; they share the four debug registers with hardware
breakpoints. Target: tests/targets/watch.c (each access is followed by a
global label `after_store_vN` / `after_load_vN`).
Watchpoints in threads are covered by the thread tests."""

import pytest

from tether import debugger
from procutil import load_base, nm_offsets, shutdown


SIZES = [(8, 1), (16, 2), (32, 4), (64, 8)]


@pytest.fixture
def watch(target):
    path = target("watch")
    d = debugger([path])
    try:
        io = d.run()
        base = load_base(d.pid, path)
        nm = nm_offsets(path)
        yield d, io, (lambda sym: base + nm[sym]), nm
    finally:
        shutdown(d)


def value_of(d, addr, length):
    return int.from_bytes(d.memory[addr, length, "absolute"], "little")


def finish(d, io):
    d.cont()
    out = io.recvuntil(b"done\n", timeout=15)
    d.wait()
    assert d.dead and d.exit_code == 0
    assert b"v8 1 2\nv16 1 2\nv32 1 2\nv64 1 2\n" in out


@pytest.mark.timeout(30)
@pytest.mark.parametrize("bits,length", SIZES)
def test_write_watchpoint_stops_after_each_store(watch, bits, length):
    d, io, addr, _ = watch
    var = f"v{bits}"
    wp = d.watchpoint(var, condition="w", length=length)
    assert wp.address == addr(var)
    for expected in (1, 2):
        d.cont()
        d.wait()
        assert d.regs.rip == addr(f"after_store_v{bits}")
        assert value_of(d, addr(var), length) == expected  # the store happened
        assert wp.hit_count == expected
        assert wp.hit_on(d.threads[0])
    finish(d, io)
    assert wp.hit_count == 2  # the loads did not trigger it


@pytest.mark.timeout(30)
@pytest.mark.parametrize("bits,length", SIZES)
def test_read_write_watchpoint_stops_after_loads_and_stores(watch, bits, length):
    d, io, addr, _ = watch
    var = f"v{bits}"
    wp = d.watchpoint(var, condition="rw", length=length)
    expected = [f"after_store_v{bits}", f"after_load_v{bits}"] * 2
    for count, label in enumerate(expected, 1):
        d.cont()
        d.wait()
        assert d.regs.rip == addr(label), label
        assert wp.hit_count == count
    # The value the last load returned is in rax.
    assert d.regs.rax == 2
    finish(d, io)
    assert wp.hit_count == 4


@pytest.mark.timeout(30)
def test_watchpoint_by_binary_relative_address(watch):
    d, io, addr, nm = watch
    wp = d.watchpoint(nm["v32"], condition="w", length=4, file="binary")
    assert wp.address == addr("v32")
    d.cont()
    d.wait()
    assert d.regs.rip == addr("after_store_v32")
    wp.disable()
    finish(d, io)
    assert wp.hit_count == 1


@pytest.mark.timeout(30)
def test_watchpoint_callback_sees_every_write(watch):
    d, io, addr, _ = watch
    seen = []

    def on_write(thread, wp):
        seen.append(int.from_bytes(thread.memory[wp.address, 8, "absolute"], "little"))

    wp = d.watchpoint("hits_var", condition="w", length=8, callback=on_write)
    finish(d, io)
    assert seen == [100, 101, 102, 103, 104]
    assert wp.hit_count == 5


@pytest.mark.timeout(30)
def test_disable_and_enable_watchpoint(watch):
    d, io, addr, _ = watch
    wp_store = d.watchpoint("v16", condition="w", length=2)
    wp_hits = d.watchpoint("hits_var", condition="w", length=8)
    d.cont()
    d.wait()
    assert d.regs.rip == addr("after_store_v16")
    wp_store.disable()
    assert not wp_store.enabled
    d.cont()
    d.wait()
    # The second store to v16 went unnoticed; the next stop is hits_var.
    assert value_of(d, addr("hits_var"), 8) == 100
    assert wp_store.hit_count == 1
    wp_hits.disable()
    wp_store.enable()
    finish(d, io)
    assert wp_store.hit_count == 1 and wp_hits.hit_count == 1


@pytest.mark.timeout(30)
def test_watchpoints_share_the_four_debug_registers(watch):
    d, io, addr, _ = watch
    d.breakpoint("store_v8", hardware=True)
    d.breakpoint("store_v16", hardware=True)
    d.watchpoint("v32", condition="w", length=4)
    d.watchpoint("v64", condition="w", length=8)
    with pytest.raises((RuntimeError, ValueError)):
        d.watchpoint("hits_var", condition="w", length=8)
    # The four in place still fire in program order.
    d.cont()
    d.wait()
    assert d.regs.rip == addr("store_v8")


@pytest.mark.timeout(30)
def test_bad_watchpoint_arguments(watch):
    d, io, addr, _ = watch
    with pytest.raises(ValueError):
        d.watchpoint("v32", condition="w", length=3)
    with pytest.raises(ValueError):
        d.watchpoint("v32", condition="bogus", length=4)
    # Nothing half-installed: a valid watchpoint still works.
    wp = d.watchpoint("v32", condition="w", length=4)
    d.cont()
    d.wait()
    assert d.regs.rip == addr("after_store_v32") and wp.hit_count == 1
