"""Fixtures of the end-to-end tests."""
import pytest

from procutil import kill_tree
from tether import debugger


@pytest.fixture
def launch(target):
    """launch("name", arg, ..., **debugger_kwargs) -> Debugger for
    tests/targets/name.c; killed (with its whole tree) at teardown even when
    the test fails."""
    made = []

    def _launch(name, *args, **kwargs):
        d = debugger([target(name), *map(str, args)], **kwargs)
        made.append(d)
        return d

    yield _launch
    for d in made:
        kill_tree(d)
