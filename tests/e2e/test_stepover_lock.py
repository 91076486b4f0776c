"""A breakpoint whose instruction must be single-stepped (not emulated) still
counts every hit of every thread: the other threads are held during the step."""
import pytest

from tether import debugger


@pytest.mark.timeout(60)
def test_exact_hits_with_threads_over_a_stepped_breakpoint(target):
    d = debugger([target("mt_stepover")])
    try:
        io = d.run()
        bp = d.breakpoint("bump", file="binary", callback=True)
        assert d.memory[bp.address, 1] == b"\xf0"  # lock prefix: not emulated
        d.cont()
        d.wait()
        assert d.exit_code == 0
        assert bp.hit_count == 4 * 5000
        assert io.recvline() == b"counter=20000"
    finally:
        d.kill()
