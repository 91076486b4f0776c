"""End-to-end signal tests (issue 3): catch_signal by name, number and "*",
synchronous and with callbacks; hijack_signal; signals_to_block; changing
the signal delivered on resume; refusing SIGKILL/SIGSTOP; the debugger's
own SIGTRAPs never reach the user. Target: tests/targets/signals.c, which
raises SIGUSR1, SIGUSR2, SIGUSR1 and prints which handler ran."""
import os
import signal
import time

import pytest

from tether import debugger
from procutil import shutdown


NATIVE = b"handler SIGUSR1\nhandler SIGUSR2\nhandler SIGUSR1\ndone\n"


@pytest.fixture
def sig(target):
    d = debugger([target("signals")])
    try:
        io = d.run()
        yield d, io
    finally:
        shutdown(d)


def run_to_end(d, io):
    d.cont()
    out = io.recvuntil(b"done\n", timeout=15)
    d.wait()
    assert d.dead and d.exit_code == 0
    return out


@pytest.mark.timeout(30)
def test_catch_signal_synchronously(sig):
    d, io = sig
    catcher = d.catch_signal("SIGUSR1")
    assert signal.SIGUSR1 in d.caught_signals
    for expected_hits in (1, 2):
        d.cont()
        d.wait()
        assert not d.dead
        assert d.signal == "SIGUSR1"
        assert d.signal_number == signal.SIGUSR1
        assert catcher.hit_count == expected_hits
        assert catcher.hit_on(d.threads[0])
    # The signal is still delivered: the program's handler runs each time.
    assert run_to_end(d, io) == NATIVE
    assert catcher.hit_count == 2


@pytest.mark.timeout(30)
def test_catch_signal_by_number_with_callback(sig):
    d, io = sig
    seen = []
    catcher = d.catch_signal(signal.SIGUSR2, callback=lambda t, c: seen.append(t.signal_number))
    assert run_to_end(d, io) == NATIVE
    assert seen == [signal.SIGUSR2]
    assert catcher.hit_count == 1


@pytest.mark.timeout(30)
def test_catch_all_signals_sees_no_debugger_sigtrap(sig):
    d, io = sig
    seen = []
    d.catch_signal("*", callback=lambda t, c: seen.append(t.signal_number))
    # Software and hardware breakpoints, a callback breakpoint and a step:
    # all of them use SIGTRAP internally, none of it may be reported.
    bp = d.breakpoint("between")
    d.breakpoint("say", hardware=True, callback=lambda t, b: None)
    d.cont()
    d.wait()
    assert d.regs.rip == bp.address
    d.step()
    d.step()
    bp.disable()
    assert run_to_end(d, io) == NATIVE
    assert seen == [signal.SIGUSR1, signal.SIGUSR2, signal.SIGUSR1]


@pytest.mark.timeout(30)
def test_hijack_signal(sig):
    d, io = sig
    d.hijack_signal("SIGUSR1", "SIGUSR2")
    assert run_to_end(d, io) == b"handler SIGUSR2\nhandler SIGUSR2\nhandler SIGUSR2\ndone\n"


@pytest.mark.timeout(30)
def test_hijack_signal_by_number(sig):
    d, io = sig
    d.hijack_signal(signal.SIGUSR2, signal.SIGUSR1)
    assert run_to_end(d, io) == b"handler SIGUSR1\nhandler SIGUSR1\nhandler SIGUSR1\ndone\n"


@pytest.mark.timeout(30)
def test_signals_to_block(sig):
    d, io = sig
    d.signals_to_block = ["SIGUSR1"]
    assert "SIGUSR1" in d.signals_to_block
    # The program's SIGUSR1 handler never runs.
    assert run_to_end(d, io) == b"handler SIGUSR2\ndone\n"


@pytest.mark.timeout(30)
def test_blocked_signal_is_still_caught(sig):
    d, io = sig
    seen = []
    d.signals_to_block = [signal.SIGUSR2]
    d.catch_signal("SIGUSR2", callback=lambda t, c: seen.append(t.signal_number))
    assert run_to_end(d, io) == b"handler SIGUSR1\nhandler SIGUSR1\ndone\n"
    assert seen == [signal.SIGUSR2]


@pytest.mark.timeout(30)
def test_change_the_signal_delivered_on_resume(sig):
    d, io = sig
    catcher = d.catch_signal("SIGUSR1")
    d.cont()
    d.wait()
    assert d.signal_number == signal.SIGUSR1
    d.signal = "SIGUSR2"       # deliver SIGUSR2 instead
    d.cont()
    d.wait()
    assert d.signal_number == signal.SIGUSR1
    d.signal = signal.SIGUSR2  # by number too
    catcher.disable()
    assert run_to_end(d, io) == b"handler SIGUSR2\nhandler SIGUSR2\nhandler SIGUSR2\ndone\n"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("bad", ["SIGKILL", "SIGSTOP", signal.SIGKILL, signal.SIGSTOP])
def test_sigkill_and_sigstop_cannot_be_caught(sig, bad):
    d, io = sig
    with pytest.raises(ValueError):
        d.catch_signal(bad)
    # Still usable.
    assert run_to_end(d, io) == NATIVE


@pytest.mark.timeout(30)
def test_unknown_signal(sig):
    d, io = sig
    with pytest.raises(ValueError):
        d.catch_signal("SIGNOTHING")
    with pytest.raises(ValueError):
        d.catch_signal(999)
    with pytest.raises(ValueError):
        d.hijack_signal("SIGUSR1", "SIGNOTHING")
    with pytest.raises(TypeError):
        d.catch_signal(1.5)
    assert run_to_end(d, io) == NATIVE


@pytest.mark.timeout(30)
def test_external_signal_while_running_is_caught(target):
    # A signal sent from outside while the program spins is reported.
    d = debugger([target("spin")])
    try:
        d.run()
        catcher = d.catch_signal("SIGUSR1")
        d.cont()
        time.sleep(0.2)
        os.kill(d.pid, signal.SIGUSR1)
        d.wait()
        assert catcher.hit_count == 1
        assert d.signal_number == signal.SIGUSR1
        # Suppress it (spin has no handler, it would die), then stop cleanly.
        d.signal = 0
        d.cont()
        time.sleep(0.2)
        assert not d.dead
        d.interrupt()
        assert not d.dead
    finally:
        shutdown(d)
