"""pprint_syscalls with syscalls_to_pprint / syscalls_to_not_pprint."""
import pytest

from tether import debugger


@pytest.mark.timeout(30)
def test_pprint_syscalls_filters(target, capsys):
    d = debugger([target("syscalls_mix")])
    try:
        d.run()
        d.syscalls_to_pprint = ["getpid", "write"]
        d.pprint_syscalls = True
        assert d.syscalls_to_pprint == ["getpid", "write"]
        d.cont()
        d.wait()
        out = capsys.readouterr().out
        assert "getpid()" in out and "write(1" in out
        assert "brk(" not in out and "mmap(" not in out
    finally:
        d.kill()


@pytest.mark.timeout(30)
def test_pprint_syscalls_hide(target, capsys):
    d = debugger([target("syscalls_mix")])
    try:
        d.run()
        d.syscalls_to_not_pprint = ["getpid"]
        d.pprint_syscalls = True
        d.cont()
        d.wait()
        out = capsys.readouterr().out
        assert "getpid()" not in out and "write(1" in out
        with pytest.raises(ValueError):
            d.syscalls_to_pprint = ["no_such_syscall"]
    finally:
        d.kill()
