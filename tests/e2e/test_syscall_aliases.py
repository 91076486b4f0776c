"""A syscall handled under another name of it (glibc's fstatat is the
kernel's newfstatat): tests/targets/split_debug.c prints to stdout, and
glibc asks newfstatat about stdout first."""
import pytest

from procutil import kill_tree
from tether import debugger


@pytest.mark.timeout(60)
def test_handle_syscall_by_the_libc_name(target):
    d = debugger([target("split_debug")])
    try:
        d.run()
        seen = []
        handler = d.handle_syscall("fstatat", on_enter=lambda t, h: seen.append(t.syscall_number))
        assert handler.syscall_number == 262
        d.cont()
        d.wait()
        assert d.dead and d.exit_code == 0
        assert seen and set(seen) == {262}
    finally:
        kill_tree(d)
