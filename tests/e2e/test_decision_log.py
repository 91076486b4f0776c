"""tether's log of its decisions: "tether.runtime.ptrace" at DEBUG tells
every wait report and where it went, every restart and every all-stop;
"tether.runtime.process" at INFO the process lifecycle. Nothing is logged
when nobody asked (the logger is silent by default)."""
import logging
import time

import pytest

from procutil import kill_tree
from tether import debugger


def _messages(caplog, name):
    return [r.getMessage() for r in caplog.records if r.name == name]


@pytest.mark.timeout(60)
def test_debug_lines_tell_each_stop_and_restart(target, caplog):
    d = debugger([target("mp_fork")])
    try:
        with caplog.at_level(logging.DEBUG, logger="tether.runtime"):
            d.run()
            d.breakpoint("work")
            d.cont()
            d.wait(timeout=30)    # the parent at work(2), after its fork
            pid = d.pid
            d.kill()
        ptrace = _messages(caplog, "tether.runtime.ptrace")
        # The breakpoint's SIGTRAP, routed to the trap handler...
        assert any(m.startswith(f"pid {pid} tid {pid}: StopEvent(TRAP") and m.endswith("-> TRAP")
                   for m in ptrace), ptrace
        # ...the fork event to the birth handler, and the user's cont() as a restart.
        assert any("StopEvent(FORK" in m and m.endswith("-> NEW_CHILD") for m in ptrace), ptrace
        assert any(m.startswith(f"pid {pid} tid {pid}: PTRACE_CONT") for m in ptrace), ptrace
        assert any("all-stop" in m for m in ptrace), ptrace
        life = _messages(caplog, "tether.runtime.process")
        assert f"pid {pid}: started {target('mp_fork')}" in life, life
        assert any(m.endswith(f"(fork of {pid}): followed") for m in life), life
        assert f"pid {pid}: killing it (SIGKILL)" in life, life
    finally:
        kill_tree(d)


@pytest.mark.timeout(60)
def test_info_level_has_the_lifecycle_only(target, caplog):
    d = debugger([target("mp_fork")])
    try:
        with caplog.at_level(logging.INFO, logger="tether"):
            d.run()
            pid = d.pid
            d.cont()   # it forks; the child is followed and stays stopped until cont()
            deadline = time.monotonic() + 30
            while not d.children and time.monotonic() < deadline:
                time.sleep(0.01)
            d.children[0].cont()
            d.wait(timeout=30)
        assert d.exit_code == 43
        assert not _messages(caplog, "tether.runtime.ptrace")
        life = _messages(caplog, "tether.runtime.process")
        child = d.children[0].pid
        assert life[0] == f"pid {pid}: started {target('mp_fork')}"
        assert f"pid {child}: born (fork of {pid}): followed" in life
        assert f"pid {child}: exited with code 3" in life
        assert life[-1] == f"pid {pid}: exited with code 43"
    finally:
        kill_tree(d)


@pytest.mark.timeout(60)
def test_silent_by_default(target, capfd):
    d = debugger([target("mp_fork")])
    try:
        d.run()
        d.breakpoint("work")
        d.cont()
        d.wait(timeout=30)
        d.kill()
    finally:
        kill_tree(d)
    out, err = capfd.readouterr()
    assert "tether.runtime" not in err and "PTRACE_" not in err
