"""The tracer must sleep while its tracees sleep (docs/edge-cases.md §27), and must
never reap the script's own children."""
import os
import subprocess
import time

import pytest

from tether import debugger


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


@pytest.mark.timeout(30)
@pytest.mark.parametrize("children", [0, 20])
def test_no_cpu_used_while_the_tree_sleeps(target, children):
    d = debugger([target("idle_sleeper"), str(children), "2"])
    try:
        d.run(redirect_pipes=False)
        d.on_fork(lambda parent, child: child.cont())
        d.cont()
        time.sleep(0.3)  # let the children be born and followed
        before = _cpu_seconds()
        time.sleep(1.5)
        used = _cpu_seconds() - before
        assert used < 0.05, f"tether used {used:.3f} s of CPU while the tree slept"
        d.wait()
        assert d.exit_code == 0
        assert len(d.children) == children
    finally:
        d.kill()


@pytest.mark.timeout(30)
def test_scripts_own_subprocesses_are_not_reaped_by_tether(target):
    d = debugger([target("idle_sleeper"), "3", "1"])
    try:
        d.run(redirect_pipes=False)
        d.on_fork(lambda parent, child: child.cont())
        d.cont()
        for _ in range(20):
            assert subprocess.run(["sh", "-c", "exit 5"]).returncode == 5
        p = subprocess.Popen(["true"])
        time.sleep(0.2)  # it is a zombie now, waiting for us, not for tether
        assert p.wait(timeout=5) == 0
        d.wait()
        assert d.exit_code == 0
    finally:
        d.kill()
