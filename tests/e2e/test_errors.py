"""End-to-end error tests (issue 2): every misuse raises
the documented exception type and leaves the debugger usable, which each test
checks by doing something valid afterwards. Also: a callback that raises
reports its exception to the script and does not leave the program stopped
forever."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from tether import debugger
from procutil import shutdown


def run_basic_to_end(path):
    """A valid session from start to finish: proves the library still works."""
    d = debugger([path])
    try:
        io = d.run()
        bp = d.breakpoint("g")
        d.cont()
        d.wait()
        assert d.regs.rip == bp.address
        bp.disable()
        d.cont()
        assert b"f=9\n" in io.recvuntil(b"done\n", timeout=15)
        d.wait()
        assert d.exit_code == 7
    finally:
        shutdown(d)


@pytest.fixture
def basic_stopped(target):
    """basic, stopped at its entry point."""
    d = debugger([target("basic")])
    try:
        io = d.run()
        yield d, io
    finally:
        shutdown(d)


def finish_basic(d, io):
    for bp in list(d.breakpoints.values()):
        bp.disable()
    d.cont()
    assert b"f=9\n" in io.recvuntil(b"done\n", timeout=15)
    d.wait()
    assert d.dead and d.exit_code == 7


# --------------------------------------------------------------------------
# The program path

def _start(argv):
    d = debugger(argv)
    try:
        d.run()
    finally:
        shutdown(d)


@pytest.mark.timeout(30)
def test_missing_program(target, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        _start([str(tmp_path / "does-not-exist")])
    assert "does-not-exist" in str(info.value)
    run_basic_to_end(target("basic"))


@pytest.mark.timeout(30)
def test_program_not_executable(target, tmp_path):
    copy = tmp_path / "not-executable"
    shutil.copy(target("basic"), copy)
    os.chmod(copy, 0o644)
    with pytest.raises(PermissionError) as info:
        _start([str(copy)])
    assert "not-executable" in str(info.value)
    run_basic_to_end(target("basic"))


@pytest.mark.timeout(30)
def test_program_not_elf(target, tmp_path):
    text = tmp_path / "plain-text"
    text.write_text("this is not a program\n")
    os.chmod(text, 0o755)
    with pytest.raises(ValueError) as info:
        _start([str(text)])
    assert "plain-text" in str(info.value)
    run_basic_to_end(target("basic"))


@pytest.mark.timeout(30)
def test_program_is_a_directory(target, tmp_path):
    with pytest.raises((PermissionError, IsADirectoryError, ValueError)):
        _start([str(tmp_path)])
    run_basic_to_end(target("basic"))


# --------------------------------------------------------------------------
# attach()

def _free_pid():
    """A pid that no process has (the highest unused one below pid_max)."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    for candidate in range(pid_max - 1, 1, -1):
        if not os.path.exists(f"/proc/{candidate}"):
            return candidate
    pytest.skip("no free pid")


@pytest.mark.timeout(30)
def test_attach_to_missing_pid(target):
    d = debugger()
    try:
        with pytest.raises((ProcessLookupError, ValueError)):
            d.attach(_free_pid())
    finally:
        shutdown(d)
    run_basic_to_end(target("basic"))


@pytest.mark.timeout(30)
def test_attach_to_own_process_is_refused(target):
    d = debugger()
    try:
        with pytest.raises(PermissionError):
            d.attach(os.getpid())
    finally:
        shutdown(d)
    run_basic_to_end(target("basic"))


@pytest.mark.timeout(30)
def test_attach_to_an_already_traced_process_is_refused(target):
    first = debugger([target("spin")])
    second = debugger()
    try:
        first.run()
        with pytest.raises(PermissionError):
            second.attach(first.pid)
        # Neither debugger is disturbed: the first one still controls the
        # program, and the second one can attach elsewhere.
        first.cont()
        time.sleep(0.1)
        first.interrupt()
        assert int.from_bytes(first.memory["ticks", 8, "binary"], "little") > 0
        proc = subprocess.Popen([target("spin"), "0.5"], stdout=subprocess.PIPE)
        try:
            assert proc.stdout.readline() == b"ready\n"
            second.attach(proc.pid)
            assert second.pid == proc.pid
            second.detach()
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        shutdown(second)
        shutdown(first)


@pytest.mark.timeout(30)
def test_attach_with_bad_pid_type(target):
    d = debugger()
    try:
        with pytest.raises(TypeError):
            d.attach("1234")
    finally:
        shutdown(d)


# --------------------------------------------------------------------------
# Names and addresses

@pytest.mark.timeout(30)
def test_unknown_symbol(basic_stopped):
    d, io = basic_stopped
    with pytest.raises(ValueError) as info:
        d.breakpoint("no_such_symbol")
    assert "no_such_symbol" in str(info.value)
    with pytest.raises(ValueError):
        d.breakpoint("no_such_symbol+0x10", file="binary")
    with pytest.raises(ValueError):
        d.memory["no_such_symbol", 4]
    with pytest.raises(ValueError):
        d.step_until("no_such_symbol", max_steps=10)
    assert d.breakpoints == {}
    d.breakpoint("g")
    d.cont()
    d.wait()
    finish_basic(d, io)


@pytest.mark.timeout(30)
def test_unknown_library(basic_stopped):
    d, io = basic_stopped
    with pytest.raises(ValueError) as info:
        d.breakpoint("puts", file="libnothere")
    assert "libnothere" in str(info.value) or "puts" in str(info.value)
    with pytest.raises(ValueError):
        d.memory[0, 8, "libnothere"]
    bp = d.breakpoint("puts", file="libc")
    d.cont()
    d.wait()
    assert d.regs.rip == bp.address
    finish_basic(d, io)


@pytest.mark.timeout(30)
def test_unmapped_address(basic_stopped):
    d, io = basic_stopped
    with pytest.raises((ValueError, OSError)):
        d.memory[0x10, 8, "absolute"]
    with pytest.raises((ValueError, OSError)):
        d.memory[0x10, 8, "absolute"] = b"\x90" * 8
    with pytest.raises(ValueError):
        d.breakpoint(0x10, file="absolute")
    assert d.breakpoints == {}
    finish_basic(d, io)


@pytest.mark.timeout(30)
def test_unknown_register(basic_stopped):
    d, io = basic_stopped
    with pytest.raises(AttributeError) as info:
        d.regs.not_a_register
    assert "not_a_register" in str(info.value)
    with pytest.raises(AttributeError):
        d.regs.not_a_register = 5
    assert d.regs.rip != 0
    finish_basic(d, io)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("bad", [3.5, None, ["g"], b"g"])
def test_breakpoint_on_garbage_type(basic_stopped, bad):
    d, io = basic_stopped
    with pytest.raises(TypeError):
        d.breakpoint(bad)
    assert d.breakpoints == {}
    bp = d.breakpoint("g")
    d.cont()
    d.wait()
    assert d.regs.rip == bp.address
    finish_basic(d, io)


@pytest.mark.timeout(30)
def test_bad_memory_key_and_value_types(basic_stopped):
    d, io = basic_stopped
    with pytest.raises(TypeError):
        d.memory[1.5]
    with pytest.raises(TypeError):
        d.memory["g", 4] = "not bytes"
    assert d.memory["g", 1] == b"\x55"
    finish_basic(d, io)


@pytest.mark.timeout(30)
def test_bad_syscall_and_signal_names(basic_stopped):
    d, io = basic_stopped
    with pytest.raises(ValueError):
        d.handle_syscall("not_a_syscall")
    with pytest.raises(ValueError):
        d.catch_signal("SIGNOTHING")
    with pytest.raises(TypeError):
        d.handle_syscall(2.5)
    finish_basic(d, io)


# --------------------------------------------------------------------------
# Commands in the wrong state

@pytest.mark.timeout(30)
def test_commands_on_a_dead_process(basic_stopped):
    d, io = basic_stopped
    finish_basic(d, io)
    with pytest.raises(RuntimeError):
        d.cont()
    with pytest.raises(RuntimeError):
        d.step()
    with pytest.raises(RuntimeError):
        d.memory["g", 4]
    with pytest.raises(RuntimeError):
        d.breakpoint("g")
    with pytest.raises(RuntimeError):
        d.finish()
    # The same Debugger can start the program again.
    io = d.run()
    bp = d.breakpoint("g")
    d.cont()
    d.wait()
    assert d.regs.rip == bp.address
    finish_basic(d, io)


@pytest.mark.timeout(30)
def test_commands_before_run(target):
    d = debugger([target("basic")])
    try:
        with pytest.raises(RuntimeError):
            d.cont()
        with pytest.raises(RuntimeError):
            d.regs.rip
        io = d.run()
        finish_basic(d, io)
    finally:
        shutdown(d)


@pytest.mark.timeout(30)
def test_commands_after_external_sigkill(target):
    d = debugger([target("basic")])
    try:
        d.run()
        d.breakpoint("g")
        d.cont()
        d.wait()
        os.kill(d.pid, signal.SIGKILL)
        # The next resume finds the process gone: no hang, a clean state.
        try:
            d.cont()
            d.wait()
        except RuntimeError:
            pass
        assert d.dead
        assert d.exit_signal == "SIGKILL"
        with pytest.raises(RuntimeError):
            d.cont()
    finally:
        shutdown(d)


# --------------------------------------------------------------------------
# Callbacks that raise

class Boom(Exception):
    pass


def _chain(exc):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _resume_to_end(d, io):
    """After a reported callback error the program is not stuck: it can be
    resumed (or already went on) and runs to its normal end."""
    if not d.dead:
        if not d.running:
            d.cont()
        d.wait()
    assert d.dead and d.exit_code == 7
    assert b"f=9\n" in io.recvuntil(b"done\n", timeout=15)


@pytest.mark.timeout(30)
def test_breakpoint_callback_that_raises(basic_stopped):
    d, io = basic_stopped
    calls = []

    def callback(t, bp):
        calls.append(t.regs.rip)
        if len(calls) == 1:
            raise Boom("boom from the callback")

    d.breakpoint("g", callback=callback)
    d.cont()
    with pytest.raises(Exception) as info:
        d.wait()
        d.regs.rip  # if wait() did not report it, the next command must
    assert any(isinstance(e, Boom) and "boom from the callback" in str(e) for e in _chain(info.value))
    _resume_to_end(d, io)
    assert len(calls) == 3


@pytest.mark.timeout(30)
def test_syscall_callback_that_raises(target):
    d = debugger([target("syscalls_mix")])
    try:
        io = d.run()

        def on_enter(t, h):
            raise Boom("boom from on_enter")

        handler = d.handle_syscall("getpid", on_enter=on_enter)
        d.cont()
        with pytest.raises(Exception) as info:
            d.wait()
            d.regs.rip
        assert any(isinstance(e, Boom) for e in _chain(info.value))
        handler.disable()
        if not d.dead:
            if not d.running:
                d.cont()
            d.wait()
        assert d.dead and d.exit_code == 0
        assert b"pid=" in io.recvuntil(b"end\n", timeout=15)
    finally:
        shutdown(d)
