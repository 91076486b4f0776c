"""PipeManager against real pipes: child processes run with `sh -c` (no tracing),
or plain os.pipe() pairs that the test writes itself when exact timing matters."""
import io
import os
import pathlib
import pty
import signal
import subprocess
import sys
import threading
import time

import pytest

from tether.commlink.pipes import (
    DEFAULT_TIMEOUT,
    PipeClosedError,
    PipeManager,
    ProcessStoppedError,
    _find_until,
)

SRC_DIR = pathlib.Path(__file__).resolve().parents[2] / "src"


class Running:
    """A fake is_running() the test can flip."""

    def __init__(self, value=True):
        self.value = value

    def __call__(self):
        return self.value


@pytest.fixture
def spawn():
    """spawn("shell script", running=Running()) -> (Popen, PipeManager)."""
    started = []

    def start(script, running=None):
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        proc = subprocess.Popen(["sh", "-c", script], stdin=stdin_r, stdout=stdout_w,
                                stderr=stderr_w, start_new_session=True)
        for fd in (stdin_r, stdout_w, stderr_w):
            os.close(fd)  # only the child keeps these ends, so EOF means "child gone"
        pipes = PipeManager(stdin_w, stdout_r, stderr_r, running or Running(True))
        started.append((proc, pipes))
        return proc, pipes

    yield start
    for proc, pipes in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the shell and whatever it started
        except ProcessLookupError:
            pass
        proc.wait()
        pipes.close()


@pytest.fixture
def raw():
    """Pipes the test writes itself: (PipeManager, stdin read end, stdout write end,
    stderr write end, Running)."""
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    running = Running(True)
    pipes = PipeManager(stdin_w, stdout_r, stderr_r, running)
    yield pipes, stdin_r, stdout_w, stderr_w, running
    pipes.close()
    for fd in (stdin_r, stdout_w, stderr_w):
        try:
            os.close(fd)
        except OSError:
            pass


# ------------------------------------------------------------------ lines and reads

def test_recvline_drops_newline_by_default(spawn):
    _, pipes = spawn(r"printf 'hello\nworld\n'")
    assert pipes.recvline() == b"hello"
    assert pipes.recvline(drop=False) == b"world\n"


def test_recvline_numlines_joins_lines(spawn):
    _, pipes = spawn(r"printf 'a\nb\nc\nd\n'")
    assert pipes.recvline(numlines=2) == b"ab"  # libdebug drops every newline
    assert pipes.recvline(2, drop=False) == b"c\nd\n"


def test_line_split_over_several_writes(spawn):
    _, pipes = spawn(r"printf abc; sleep 0.2; printf 'def\nrest'")
    assert pipes.recvline(timeout=3) == b"abcdef"
    assert pipes.recv(timeout=3) == b"rest"


def test_recv_returns_at_most_numb_and_keeps_the_rest(spawn):
    _, pipes = spawn(r"printf 'abcdef'")
    assert pipes.recv(2) == b"ab"
    assert pipes.recvuntil(b"e") == b"cde"
    assert pipes.recv() == b"f"


def test_recv_returns_as_soon_as_data_arrives(spawn):
    _, pipes = spawn("printf x; exec sleep 5")
    start = time.monotonic()
    assert pipes.recv(100, timeout=4) == b"x"
    assert time.monotonic() - start < 1


def test_recv_numb_zero_and_none(spawn):
    _, pipes = spawn("printf xy")
    assert pipes.recv(0) == b""
    assert pipes.recv(None) == b"xy"


def test_stderr_methods(spawn):
    _, pipes = spawn(r"printf 'out\n'; printf 'e1\ne2\nkey: v' >&2")
    assert pipes.recverrline() == b"e1"
    assert pipes.recverrline(drop=False) == b"e2\n"
    assert pipes.recverruntil(": ") == b"key: "
    assert pipes.recverr() == b"v"
    assert pipes.recvline() == b"out"


# ------------------------------------------------------------------ recvuntil

def test_recvuntil_occurences_and_drop(spawn):
    _, pipes = spawn("printf 'a,b,c,d,e,f'")
    assert pipes.recvuntil(",", occurences=3) == b"a,b,c,"
    assert pipes.recvuntil(b",", 1, drop=True) == b"d"
    assert pipes.recvuntil(b",", occurrences=1, drop=True) == b"e"  # documented spelling
    assert pipes.recv() == b"f"


def test_recvuntil_conflicting_spellings_rejected(raw):
    pipes = raw[0]
    with pytest.raises(ValueError):
        pipes.recvuntil(b",", occurences=2, occurrences=3)


def test_recvuntil_any_of_several_delimiters(spawn):
    _, pipes = spawn("printf 'user: bob> pass: x> '")
    assert pipes.recvuntil([b"> ", b": "]) == b"user: "
    assert pipes.recvuntil((b"> ", ": "), drop=True) == b"bob"
    assert pipes.recvuntil([b">", b":"], occurences=2) == b"pass: x>"


def test_delimiter_that_ends_first_wins_and_ties_prefer_longest():
    buf = bytearray(b"xab..")
    assert _find_until(buf, (b"b", b"ab"), 1, True) == (b"x", 3)
    assert _find_until(buf, (b"ab..", b"b"), 1, False) == (b"xab", 3)
    assert _find_until(buf, (b"zz",), 1, False) is None


def test_result_does_not_depend_on_how_data_was_split(raw):
    pipes, _, out_w, _, _ = raw
    # "abc" could match later, but "b" is complete first wherever the reads split.
    os.write(out_w, b"xab")
    first = pipes.recvuntil([b"abc", b"b"], timeout=0.5)
    os.write(out_w, b"c")
    assert first == b"xab"
    assert pipes.recv() == b"c"


def test_recvuntil_all_or_nothing(raw):
    pipes, _, out_w, _, _ = raw
    os.write(out_w, b"one\ntwo")
    with pytest.raises(TimeoutError):
        pipes.recvline(numlines=2, timeout=0.1)
    assert pipes.recvline() == b"one"  # the first line was not consumed by the failed call


# ------------------------------------------------------------------ timeouts

def test_timeout_raises_and_keeps_buffer(spawn):
    _, pipes = spawn("printf part; exec sleep 5")
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        pipes.recvline(timeout=0.3)
    assert 0.25 <= time.monotonic() - start < 0.9
    assert pipes.recv(timeout=0.5) == b"part"


def test_recv_returns_empty_on_silence(spawn):
    # libdebug's recv: what arrived within the timeout, b"" if nothing did.
    _, pipes = spawn("exec sleep 5")
    assert pipes.recv(timeout=0.2) == b""
    assert pipes.recv(timeout=0) == b""
    assert pipes.recverr(timeout=0.1) == b""


def test_timeout_default_is_used_and_settable(spawn):
    _, pipes = spawn("exec sleep 5")
    assert pipes.timeout_default == DEFAULT_TIMEOUT == 2
    pipes.timeout_default = 0.2
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        pipes.recvline()
    assert 0.15 <= time.monotonic() - start < 0.8


def test_timeout_validation(raw):
    pipes = raw[0]
    with pytest.raises(ValueError):
        pipes.timeout_default = -1
    with pytest.raises(TypeError):
        pipes.timeout_default = "2"
    with pytest.raises(ValueError):
        pipes.recv(timeout=-0.5)
    with pytest.raises(TypeError):
        pipes.recvline(timeout=True)


# ------------------------------------------------------------------ end of file

def test_output_survives_death_then_eof_error(spawn):
    proc, pipes = spawn(r"printf 'last words\npartial'")
    proc.wait()
    time.sleep(0.05)
    assert pipes.recvline() == b"last words"
    with pytest.raises(PipeClosedError) as info:
        pipes.recvline()  # no newline will ever come
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, EOFError)
    assert pipes.recv() == b"partial"
    with pytest.raises(RuntimeError, match="end of file"):
        pipes.recv()
    with pytest.raises(RuntimeError):
        pipes.recverr()


def test_eof_is_reported_even_when_optional_and_stopped(spawn):
    running = Running(True)
    proc, pipes = spawn("exit 0", running)
    proc.wait()
    running.value = False  # a dead process is not running either
    with pytest.raises(PipeClosedError):
        pipes.recvline(optional=True)


def test_stderr_is_drained_while_waiting_for_stdout(spawn):
    # 200 kB on stderr would block the program on a full pipe if nobody read it.
    _, pipes = spawn("head -c 200000 /dev/zero >&2; echo done")
    assert pipes.recvline(timeout=3) == b"done"
    got = b""
    while len(got) < 200000:
        got += pipes.recverr(timeout=1)
    assert got == bytes(200000)


# ------------------------------------------------------------------ sending

def test_send_and_sendline_round_trip(spawn):
    _, pipes = spawn("exec cat")
    assert pipes.send(b"ab") == 2
    assert pipes.sendline("cé") == 4  # str is UTF-8 encoded
    assert pipes.recvline(timeout=3) == "abcé".encode()
    assert pipes.send(bytearray(b"x\n")) == 2
    assert pipes.recvline(timeout=3) == b"x"


def test_sendafter_and_sendlineafter(spawn):
    _, pipes = spawn('printf "name? "; read n; printf "age? "; read a; echo "$n is $a"')
    assert pipes.sendlineafter(b"? ", "bob") == (b"name? ", 4)
    received, sent = pipes.sendafter("? ", b"42\n", drop=True)
    assert (received, sent) == (b"age", 3)
    assert pipes.recvline(timeout=3) == b"bob is 42"


def test_sendlineaftererr(spawn):
    _, pipes = spawn('printf "go> " >&2; read x; echo "$x"')
    assert pipes.sendlineaftererr("> ", "hey") == (b"go> ", 4)
    assert pipes.recvline(timeout=3) == b"hey"


def test_send_to_closed_stdin_is_runtime_error(spawn):
    proc, pipes = spawn("exit 0")
    proc.wait()
    with pytest.raises(RuntimeError, match="stdin is closed"):
        pipes.send(b"anyone?")
    with pytest.raises(PipeClosedError):
        pipes.sendline(b"again")


def test_send_while_stopped_is_buffered_by_the_kernel(raw):
    pipes, stdin_r, _, _, running = raw
    running.value = False
    assert pipes.sendline(b"queued") == 7
    assert os.read(stdin_r, 100) == b"queued\n"


def test_send_on_full_pipe_while_stopped_raises(raw):
    pipes, _, _, _, running = raw
    running.value = False
    with pytest.raises(ProcessStoppedError, match="sent"):
        pipes.send(b"x" * (4 << 20))  # bigger than any pipe


def test_send_on_full_pipe_waits_while_running(raw):
    pipes, stdin_r, _, _, _ = raw
    size = 4 << 20
    got = []

    def reader():
        total = 0
        while total < size:
            chunk = os.read(stdin_r, 1 << 16)
            if not chunk:
                break
            total += len(chunk)
        got.append(total)

    thread = threading.Thread(target=reader)
    thread.start()
    assert pipes.send(b"y" * size) == size
    thread.join(5)
    assert got == [size]


def test_bad_types(raw):
    pipes = raw[0]
    with pytest.raises(TypeError):
        pipes.send(5)
    with pytest.raises(TypeError):
        pipes.sendline(None)
    with pytest.raises(TypeError):
        pipes.recvuntil(10)
    with pytest.raises(TypeError):
        pipes.sendafter(b":", 3.0)
    with pytest.raises(TypeError):
        pipes.recv("10")
    with pytest.raises(TypeError):
        pipes.recvline(numlines=1.5)
    with pytest.raises(TypeError):
        PipeManager(0, 1, 2, is_running=True)
    with pytest.raises(TypeError):
        PipeManager("0", 1, 2, lambda: True)


def test_bad_values(raw):
    pipes = raw[0]
    with pytest.raises(ValueError):
        pipes.recv(-1)
    with pytest.raises(ValueError):
        pipes.recvuntil(b"")
    with pytest.raises(ValueError):
        pipes.recvuntil([])
    with pytest.raises(ValueError):
        pipes.recvuntil(b",", occurences=0)
    with pytest.raises(ValueError):
        pipes.recvline(numlines=0)


# ------------------------------------------------------------------ the stopped rule

def test_stopped_without_data_raises_runtime_error_at_the_timeout(raw):
    pipes, _, _, _, running = raw
    running.value = False
    with pytest.raises(ProcessStoppedError, match="optional=True"):
        pipes.recvline(timeout=0.2)
    with pytest.raises(RuntimeError):
        pipes.sendlineafter(b">", b"x", timeout=0.1)
    assert pipes.recv(timeout=0.1) == b""


def test_stopped_still_waits_for_other_writers_until_the_timeout(raw):
    # A stopped process writes nothing, but whoever else holds the pipe (an
    # untraced child) may: the receive waits for its timeout, as libdebug's.
    pipes, _, out_w, _, running = raw
    running.value = False
    timer = threading.Timer(0.2, lambda: os.write(out_w, b"from another writer\n"))
    timer.start()
    assert pipes.recvline(timeout=30) == b"from another writer"
    timer.join()


def test_stopped_with_optional_returns_empty(raw):
    pipes, _, out_w, err_w, running = raw
    running.value = False
    pipes.timeout_default = 0.1
    os.write(out_w, b"no newline")
    os.write(err_w, b"e")
    assert pipes.recvline(optional=True) == b""
    assert pipes.recverruntil(b"!", optional=True) == b""
    assert pipes.sendafter(b">", b"x", optional=True) == (b"", 1)
    assert pipes.recv() == b"no newline"  # untouched by the skipped receives


def test_stopped_still_returns_data_already_written(raw):
    pipes, _, out_w, _, running = raw
    os.write(out_w, b"before the stop\n")
    running.value = False
    assert pipes.recvline() == b"before the stop"


def test_data_arriving_during_wait_is_returned(raw):
    pipes, _, out_w, _, _ = raw
    timer = threading.Timer(0.1, lambda: os.write(out_w, b"late\n"))
    timer.start()
    assert pipes.recvline(timeout=2) == b"late"
    timer.join()


# ------------------------------------------------------------------ threads and close

def test_two_threads_share_a_stream_without_losing_lines(spawn):
    _, pipes = spawn("i=0; while [ $i -lt 400 ]; do echo line$i; i=$((i+1)); done")
    results = [[], []]

    def worker(out):
        while True:
            try:
                out.append(pipes.recvline(timeout=2))
            except (PipeClosedError, TimeoutError):
                return

    threads = [threading.Thread(target=worker, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    everything = results[0] + results[1]
    assert sorted(everything) == sorted(b"line%d" % i for i in range(400))
    for part in results:  # each thread saw its lines in order
        numbers = [int(x[4:]) for x in part]
        assert numbers == sorted(numbers)


def test_close_keeps_buffered_data_and_is_idempotent(raw):
    pipes, _, out_w, _, _ = raw
    os.write(out_w, b"kept\nmore")
    assert pipes.recvline() == b"kept"  # pulls "more" into the buffer too
    pipes.close()
    pipes.close()
    assert pipes.recv() == b"more"
    with pytest.raises(PipeClosedError, match="close"):
        pipes.recv()
    with pytest.raises(PipeClosedError):
        pipes.send(b"x")


def test_close_stdin_gives_the_program_eof(spawn):
    _, pipes = spawn("exec cat")
    pipes.send(b"tail")
    pipes.close_stdin()
    assert pipes.recvuntil(b"l", timeout=3) == b"tail"
    with pytest.raises(PipeClosedError):
        pipes.recv(timeout=3)  # cat saw EOF and exited


# ------------------------------------------------------------------ interactive

@pytest.fixture
def fake_stdin(monkeypatch):
    """Replace sys.stdin with a pipe; return its write end."""
    read_end, write_end = os.pipe()
    stdin = os.fdopen(read_end, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    yield write_end
    stdin.close()
    try:
        os.close(write_end)
    except OSError:
        pass


def test_interactive_forwards_both_ways_until_program_eof(spawn, fake_stdin, capsys):
    _, pipes = spawn(r'read l; echo "got $l"; echo "err $l" >&2')
    os.write(fake_stdin, b"one\n")
    pipes.interactive()  # ends when the program closes stdout and stderr
    out, err = capsys.readouterr()
    assert out == "got one\n"  # no prompt: our stdin is not a terminal
    assert "err one\n" in err


def test_interactive_ends_on_our_eof(spawn, fake_stdin):
    _, pipes = spawn("exec cat")
    os.close(fake_stdin)
    start = time.monotonic()
    pipes.interactive()
    assert time.monotonic() - start < 1


def test_interactive_ends_on_ctrl_c(spawn, fake_stdin):
    _, pipes = spawn("exec sleep 5")
    # A shell starts background jobs with SIGINT ignored; make Ctrl-C raise here.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    try:
        pipes.interactive()  # KeyboardInterrupt is swallowed
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - start < 1


def test_interactive_auto_quit_when_stopped(spawn, fake_stdin):
    running = Running(False)
    _, pipes = spawn("exec sleep 5", running)
    start = time.monotonic()
    pipes.interactive(auto_quit=True)
    assert time.monotonic() - start < 1


def test_interactive_needs_a_real_stdin(raw, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    with pytest.raises(RuntimeError, match="stdin"):
        raw[0].interactive()
    with pytest.raises(TypeError):
        raw[0].interactive(prompt=3)


INTERACTIVE_SCRIPT = r"""
import os, subprocess, sys
from tether.commlink.pipes import PipeManager
fds = [os.pipe() for _ in range(3)]
proc = subprocess.Popen(["sh", "-c", 'read l; echo "got $l"; read m; echo "and $m"'],
                        stdin=fds[0][0], stdout=fds[1][1], stderr=fds[2][1])
for fd in (fds[0][0], fds[1][1], fds[2][1]):
    os.close(fd)
pipes = PipeManager(fds[0][1], fds[1][0], fds[2][0], lambda: True)
pipes.interactive(prompt="> ")
proc.wait()
sys.stdout.write("END\n")
sys.stdout.flush()
"""


def test_interactive_through_a_pty():
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(SRC_DIR))
    proc = subprocess.Popen([sys.executable, "-c", INTERACTIVE_SCRIPT], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 10

        def read_until(marker):
            nonlocal seen
            while marker not in seen and time.monotonic() < deadline:
                try:
                    seen += os.read(master, 1024)
                except OSError:
                    break
            return marker in seen

        assert read_until(b"> ")  # the prompt is shown on a terminal
        os.write(master, b"hi\n")
        assert read_until(b"got hi")
        os.write(master, b"there\n")
        assert read_until(b"END")
        assert b"and there" in seen
    finally:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == 0, seen
