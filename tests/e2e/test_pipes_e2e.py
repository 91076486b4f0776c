"""End-to-end PipeManager tests (issue 2): talking to a program's stdin,
stdout and stderr; output written right before death is not lost;
redirect_pipes=False. Target: tests/targets/stdin_echo.c."""
import pytest

from tether import debugger
from procutil import shutdown


@pytest.fixture
def echo(target):
    d = debugger([target("stdin_echo")])
    try:
        io = d.run()
        yield d, io
    finally:
        shutdown(d)


@pytest.mark.timeout(30)
def test_recvuntil_sendline_recvline(echo):
    d, io = echo
    d.cont()
    assert io.recvuntil(b"prompt> ", timeout=10) == b"prompt> "
    io.sendline(b"first")
    assert io.recvline(timeout=10) == b"echo: first"
    io.send(b"second\n")
    assert io.recvline(timeout=10) == b"echo: second"
    io.sendline(b"third")
    # recvuntil keeps the delimiter unless drop=True.
    assert io.recvuntil(b": ", timeout=10) == b"echo: "
    assert io.recvuntil(b"\n", drop=True, timeout=10) == b"third"
    io.sendline(b"quit")
    assert io.recvline(timeout=10) == b"last words"
    assert io.recverrline(timeout=10) == b"bye on stderr"
    d.wait()
    assert d.dead and d.exit_code == 3


@pytest.mark.timeout(30)
def test_sendlineafter_and_recvline_numlines(echo):
    d, io = echo
    d.cont()
    io.sendlineafter(b"prompt> ", b"a")
    io.sendline(b"b")
    assert io.recvline(2, drop=False, timeout=10) == b"echo: a\necho: b\n"
    io.sendline(b"quit")
    assert io.recvuntil(b"last words\n", timeout=10).endswith(b"last words\n")
    d.wait()


@pytest.mark.timeout(30)
def test_output_written_right_before_exit_is_readable_after_death(echo):
    d, io = echo
    d.cont()
    io.sendline(b"one")
    io.sendline(b"quit")
    # Let the program run to its end before reading anything.
    d.wait()
    assert d.dead and d.exit_code == 3
    assert io.recvuntil(b"prompt> ", timeout=10)
    assert io.recvline(timeout=10) == b"echo: one"
    assert io.recvline(timeout=10) == b"last words"
    assert io.recverruntil(b"\n", timeout=10) == b"bye on stderr\n"


@pytest.mark.timeout(30)
def test_recv_while_stopped_at_a_breakpoint(target):
    # Output written before the stop is readable; waiting for more while the
    # program is stopped fails (RuntimeError), or returns b"" with
    # optional=True, instead of hanging for the whole timeout.
    # signals.c writes with write(2), so nothing depends on stdio buffering.
    d = debugger([target("signals")])
    try:
        io = d.run()
        bp = d.breakpoint("between")
        d.cont()
        d.wait()
        assert d.regs.rip == bp.address
        assert io.recvline(timeout=10) == b"handler SIGUSR1"
        assert io.recvline(timeout=2, optional=True) == b""
        with pytest.raises(RuntimeError):
            io.recvline(timeout=2)
        bp.disable()
        d.cont()
        assert io.recvuntil(b"done\n", timeout=10) == b"handler SIGUSR2\nhandler SIGUSR1\ndone\n"
        d.wait()
        assert d.exit_code == 0
    finally:
        shutdown(d)


@pytest.mark.timeout(30)
def test_stdout_and_stderr_are_terminals_like_libdebug(target):
    # libdebug 0.9 gives the program a pty for stdout and stderr (stdin is a
    # pipe), so stdio is line-buffered and a printf without fflush arrives at
    # once. Scripts written for libdebug rely on that.
    d = debugger([target("stdio_kind")])
    try:
        io = d.run()
        d.cont()
        assert io.recvline(timeout=10) == b"isatty stdin=0 stdout=1 stderr=1"
        assert io.recvline(timeout=5) == b"buffered line"
        io.sendline(b"x")
        d.wait()
        assert d.exit_code == 0
    finally:
        shutdown(d)


@pytest.mark.timeout(30)
def test_recv_timeout_when_nothing_arrives(echo):
    d, io = echo
    d.cont()
    assert io.recvuntil(b"prompt> ", timeout=10)
    # The program waits for input: nothing more arrives.
    with pytest.raises(TimeoutError):
        io.recvline(timeout=0.3)
    io.sendline(b"still alive")
    assert io.recvline(timeout=10) == b"echo: still alive"


@pytest.mark.timeout(30)
def test_redirect_pipes_false_returns_none(target, capfd):
    d = debugger([target("basic")])
    try:
        assert d.run(redirect_pipes=False) is None
        d.cont()
        d.wait()
        assert d.dead and d.exit_code == 7
    finally:
        shutdown(d)
    # The program wrote to this process's own stdout.
    assert "done" in capfd.readouterr().out
