"""The registry's tables of ids stay bounded (issue 17, item 10): ids that no
longer exist are dropped whenever a table doubles; live ones are kept."""
import os

from hypothesis import given, settings, strategies as st

from tether.runtime.registry import Registry
from tether.state.hub import Hub

# Above any pid_max (4194304 at most): ids no process can have.
DEAD = 1 << 23


@settings(max_examples=30, deadline=None)
@given(n=st.integers(min_value=0, max_value=5000))
def test_tables_of_dead_ids_stay_bounded(n):
    reg = Registry(Hub())
    for i in range(n):
        reg.note_seen(DEAD + i)
        reg.forget_task(DEAD + i, let_go=True)
        reg.note_untraced(DEAD + i)
    for table in (reg.gone, reg.seen_pids, reg.reported_untraced):
        assert len(table) <= 1024


def test_live_ids_are_kept_through_a_prune():
    reg = Registry(Hub())
    me = os.getpid()
    reg.note_seen(me)
    reg.forget_task(me, let_go=True)
    for i in range(5000):
        reg.note_seen(DEAD + i)
        reg.forget_task(DEAD + i, let_go=True)
    assert me in reg.seen_pids and me in reg.gone
    assert reg.is_gone(me)   # (let go after it started)
    assert len(reg.seen_pids) <= 1024 and len(reg.gone) <= 1024

