"""wait() that blocks because the process waits for a followed child that is
stopped, waiting for cont(), logs a warning naming the child (tether's
logger is silent by default; the application's logging sees it)."""
import logging

import pytest

from procutil import kill_tree
from tether import debugger
from tether.facade import flow


@pytest.mark.timeout(60)
def test_wait_warns_of_children_held_stopped(target, monkeypatch, caplog):
    monkeypatch.setattr(flow, "STALL_WARNING_AFTER", 0.2)
    d = debugger([target("mp_fork")])
    try:
        d.run()
        d.cont()   # mp_fork forks, then waits for its child, which stays stopped
        with caplog.at_level(logging.WARNING, logger="tether"):
            with pytest.raises(TimeoutError):
                d.wait(timeout=0.1)   # shorter than STALL_WARNING_AFTER: a poll, no warning
            assert not [r for r in caplog.records if r.name.startswith("tether")]
            with pytest.raises(TimeoutError):
                d.wait(timeout=5)
        child = d.children[0]
        warnings = [r for r in caplog.records if r.name == "tether.facade.flow"]
        assert len(warnings) == 1
        assert str(child.pid) in warnings[0].getMessage() and "cont()" in warnings[0].getMessage()
        child.cont()
        d.wait(timeout=30)
        assert d.dead and d.exit_code == 43
    finally:
        kill_tree(d)


@pytest.mark.timeout(60)
def test_a_slow_wait_with_no_child_held_warns_of_nothing(target, monkeypatch, caplog):
    monkeypatch.setattr(flow, "STALL_WARNING_AFTER", 0.2)
    d = debugger([target("idle_sleeper"), "0", "1"])  # no child; sleeps 1 s
    try:
        d.run()
        with caplog.at_level(logging.WARNING, logger="tether"):
            d.cont()
            d.wait(timeout=30)
        assert d.dead and d.exit_code == 0
        assert not [r for r in caplog.records if r.name.startswith("tether")]
    finally:
        kill_tree(d)
