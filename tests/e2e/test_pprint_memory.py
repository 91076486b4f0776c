"""pprint_memory's options on a live process, a snapshot and a Diff
(tests/targets/snap_state.c: `counter` goes from 7 to 0x1234 between
first_stop() and second_stop())."""
import pytest

from procutil import kill_tree
from tether import debugger


@pytest.fixture
def stopped(target):
    d = debugger([target("snap_state")], aslr=False)
    d.run(redirect_pipes=False)
    d.breakpoint("first_stop", file="binary")
    d.breakpoint("second_stop", file="binary")
    d.cont()
    d.wait()
    yield d
    kill_tree(d)


@pytest.mark.timeout(60)
def test_live_pprint_memory_integer_mode_and_word_size(stopped, capsys):
    d = stopped
    d.pprint_memory("counter", "counter+8", "binary")
    assert "07 00 00 00 00 00 00 00" in capsys.readouterr().out
    d.pprint_memory("counter", "counter+8", "binary", integer_mode=True)
    assert "0x0000000000000007" in capsys.readouterr().out
    d.pprint_memory("counter", "counter+8", "binary", override_word_size=4, integer_mode=True)
    assert "0x00000007 0x00000000" in capsys.readouterr().out
    with pytest.raises(ValueError, match="override_word_size"):
        d.pprint_memory("counter", "counter+8", "binary", override_word_size=0)
    d.kill()


@pytest.mark.timeout(60)
def test_snapshot_and_diff_pprint_memory(stopped, capsys):
    d = stopped
    before = d.create_snapshot("writable")
    before.pprint_memory("counter", "counter+8", "binary", integer_mode=True)
    assert "0x0000000000000007" in capsys.readouterr().out
    d.cont()
    d.wait()
    after = d.create_snapshot("writable")
    diff = before.diff(after)
    diff.pprint_memory("counter", "counter+8", "binary", integer_mode=True)
    out = capsys.readouterr().out
    assert "- 0x" in out and "0x0000000000000007" in out
    assert "+ 0x" in out and "0x0000000000001234" in out
    diff.pprint_memory("counter", "counter+8", "binary", override_word_size=2)
    out = capsys.readouterr().out
    assert "07 00  00 00" in out and "34 12  00 00" in out
    with pytest.raises(ValueError, match="both start and end"):
        diff.pprint_memory("counter")
    base = d.create_snapshot("base")
    with pytest.raises(ValueError, match="base"):
        base.diff(d.create_snapshot("base")).pprint_memory("counter", "counter+8", "binary")
    d.kill()
