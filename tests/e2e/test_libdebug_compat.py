"""libdebug 0.9's behaviour for the names tether shares with it (issue 15):
what a libdebug script expects, checked on tests/targets/compat.c.

Themes: names and aliases, implicit waiting, post-mortem state, pipes on a
stopped process, blocked signals set before run(), hijack chains that loop,
the counting of syscall handlers, register filtering."""
import contextlib
import io
import os

import pytest

import tether
from tether import debugger


@pytest.fixture
def compat(launch):
    """compat("mode", **debugger_kwargs) -> a Debugger of compat.c (not started)."""
    return lambda mode="plain", **kwargs: launch("compat", mode, **kwargs)


# ------------------------------------------------------------------ names

@pytest.mark.timeout(30)
def test_short_aliases_are_libdebugs(compat):
    d = compat()
    pipes = d.r()                                # r is run(), not the registers
    bp = d.bp("work")
    d.c()
    d.w()
    assert pipes.recvline() == b"ready"
    assert d.instruction_pointer == bp.address
    d.si()
    assert d.instruction_pointer != bp.address
    assert d.mem[bp.address, 1, "absolute"] == d.memory["work", 1]
    for name in ("int", "su", "fin", "ni", "wp"):
        assert callable(getattr(d, name))
    d.kill()


@pytest.mark.timeout(30)
def test_printers_thread_ids_and_top_level_names(compat):
    d = compat()
    d.run()
    thread = d.threads[0]
    assert thread.tid == thread.thread_id == d.pid == d.thread_id == d.tid
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        d.pprint_regs()
        thread.pprint_regs_all()
        d.print_maps()
    text = out.getvalue()
    assert "rip" in text and "xmm0" in text and "compat" in text
    with d.pprint_syscalls_context(True):
        assert d.pprint_syscalls
    assert not d.pprint_syscalls
    for name in ("Breakpoint", "Debugger", "SignalCatcher", "SyscallHandler", "ThreadContext",
                 "debugger", "libcontext"):
        assert name in tether.__all__ and hasattr(tether, name)
    assert isinstance(d.bp("work"), tether.Breakpoint)
    assert isinstance(thread, tether.ThreadContext)
    d.kill()


@pytest.mark.timeout(30)
def test_regs_filter_finds_sub_registers(compat):
    d = compat()
    d.run()
    d.regs.rax = 0x1122334455667788
    d.regs.rbx = 0x88
    found = d.regs.filter(0x88)
    assert {"rbx", "ebx", "bx", "bl", "al"} <= set(found)
    assert "rax" not in found and "eax" not in found
    assert "eax" in d.regs.filter(0x55667788)
    d.kill()


# ------------------------------------------------------------------ implicit waiting

@pytest.mark.timeout(30)
def test_observations_after_cont_wait_for_the_stop(compat):
    d = compat()
    d.run()
    bp = d.bp("work")
    d.cont()
    assert bp.hit_on(d)                          # no wait() in between
    assert bp.hit_count == 1
    d.cont()
    d.wait()
    assert d.dead and d.exit_code == 3


@pytest.mark.timeout(30)
def test_kill_lets_a_running_process_reach_its_next_stop(compat):
    d = compat()
    d.run()
    bp = d.bp("work")
    d.cont()
    d.kill()                                     # waits for the breakpoint first
    assert bp.hit_count == 1
    assert d.dead and d.exit_signal == "SIGKILL"


@pytest.mark.timeout(30)
def test_kill_in_asap_mode_interrupts(compat):
    d = compat("spin", auto_interrupt_on_command=True)
    d.run()
    d.cont()
    d.kill()
    assert d.dead


@pytest.mark.timeout(30)
def test_terminate_kills_a_running_process_at_once(compat):
    d = compat("spin")
    d.run()
    d.cont()
    pid = d.pid
    d.terminate()
    assert d.dead
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ------------------------------------------------------------------ post-mortem

@pytest.mark.timeout(30)
def test_a_segfault_leaves_its_state_readable(compat):
    d = compat("segv")
    pipes = d.run()
    fault = d.resolve_symbol("fault")
    d.cont()
    assert pipes.recvline() == b"ready"
    assert pipes.recvline() == b"falling"
    d.wait()
    assert d.dead
    assert d.exit_signal == "SIGSEGV" == d.threads[0].exit_signal
    assert d.threads[0].dead
    assert fault <= d.regs.rip < fault + 0x40    # the faulting instruction
    assert d.threads[0].instruction_pointer == d.regs.rip
    with pytest.raises(RuntimeError):
        d.cont()
    with pytest.raises(RuntimeError):
        d.memory[fault, 1, "absolute"]
    d.kill()                                     # a dead process: nothing to do


@pytest.mark.timeout(30)
def test_registers_stay_readable_after_kill(compat):
    d = compat("spin")
    d.run()
    d.cont()
    d.interrupt()
    rip = d.regs.rip
    d.kill()
    assert d.instruction_pointer == rip
    d.syscall_arg0, d.syscall_number, d.regs.rsp


@pytest.mark.timeout(30)
def test_kill_after_detach_raises(compat):
    d = compat("spin")
    d.run()
    pid = d.pid
    d.detach()
    try:
        with pytest.raises(RuntimeError):
            d.kill()
        with pytest.raises(RuntimeError):
            d.regs.rip
    finally:
        os.kill(pid, 9)


@pytest.mark.timeout(30)
def test_threads_that_ended_stay_listed(compat):
    d = compat("threads")
    d.run()
    d.cont()
    d.wait()
    assert d.dead and d.exit_code == 3
    threads = d.threads
    assert len(threads) == 4
    assert threads[0].tid == d.pid
    assert all(t.dead for t in threads)
    assert all(t.exit_code in (0, 3) for t in threads[1:])  # (a late one ends with the process)


# ------------------------------------------------------------------ pipes

@pytest.mark.timeout(30)
def test_receiving_from_a_stopped_process(compat):
    d = compat()
    pipes = d.run()
    d.bp("work")
    d.cont()
    d.wait()
    assert pipes.recvline() == b"ready"          # written before the stop
    assert pipes.recv(timeout=0.1) == b""        # nothing more: recv gives b""
    with pytest.raises(RuntimeError):
        pipes.recvline(timeout=0.1)              # stopped: RuntimeError at the timeout
    assert pipes.recvline(timeout=0.1, optional=True) == b""
    d.cont()
    assert pipes.recvline() == b"bye"
    d.kill()


# ------------------------------------------------------------------ signals and syscalls

@pytest.mark.timeout(30)
def test_signals_to_block_set_before_run(compat):
    d = compat("signals")
    d.signals_to_block = ["SIGUSR1", "SIGUSR2"]
    assert d.signals_to_block == ["SIGUSR1", "SIGUSR2"]
    d.run()
    d.cont()
    d.wait()
    assert d.exit_code == 3                      # neither signal reached it


@pytest.mark.timeout(30)
def test_a_looping_signal_hijack_chain_raises(compat):
    d = compat("signals")
    d.run()
    d.hijack_signal("SIGUSR1", "SIGUSR2", recursive=True)
    d.hijack_signal("SIGUSR2", "SIGUSR1", recursive=True)
    d.cont()
    with pytest.raises(RuntimeError, match="loop"):
        d.wait()
    assert not d.dead                            # stopped, usable
    d.kill()


@pytest.mark.timeout(30)
def test_a_looping_syscall_hijack_chain_raises(compat):
    d = compat("syscalls")
    d.run()
    d.hijack_syscall("getpid", "getppid", recursive=True)
    d.hijack_syscall("getppid", "getpid", recursive=True)
    d.cont()
    with pytest.raises(RuntimeError, match="loop"):
        d.wait()
    assert not d.dead
    d.kill()


@pytest.mark.timeout(30)
def test_a_recursive_syscall_hijack_chain_is_followed(compat):
    d = compat("syscalls")
    pipes = d.run()
    seen = []
    d.hijack_syscall("getpid", "getppid", recursive=True)
    d.hijack_syscall("getppid", "gettid", recursive=True)
    d.handle_syscall("gettid", on_exit=lambda t, h: seen.append(t.syscall_return))
    d.cont()
    d.wait()
    assert d.exit_code == 3
    assert seen == [d.pid] * 6                   # every getpid and getppid ran gettid
    assert pipes.recvline() == b"ready"


@pytest.mark.timeout(30)
def test_a_handler_without_callbacks_counts_completed_syscalls(compat):
    d = compat("syscalls")
    d.run()
    handler = d.handle_syscall("getpid")
    d.cont()
    assert handler.hit_on_enter(d) and handler.hit_count == 0
    d.cont()
    assert handler.hit_on_exit(d) and handler.hit_count == 1
    d.kill()


@pytest.mark.timeout(30)
def test_env_given_to_debugger_must_be_a_dict(target):
    with pytest.raises(TypeError):
        debugger([target("compat")], env="A=1")
    assert debugger([target("compat")]).env is None
    assert debugger([target("compat")], env={"A": "1"}).env == {"A": "1"}


@pytest.mark.timeout(30)
def test_memory_index_with_a_file_and_no_size(compat):
    d = compat()
    d.run()
    assert d.memory[0, "binary"] == b"\x7f"      # [address, file]: one byte
    assert d.memory[0, 4, "binary"] == b"\x7fELF"
    assert d.memory[0:4, "binary"] == b"\x7fELF"
    with pytest.raises(ValueError):
        d.memory["no_such_symbol", 4]
    with pytest.raises(TypeError):
        d.memory[0, 4.0]
    d.kill()


@pytest.mark.timeout(30)
def test_a_diff_goes_from_the_older_snapshot_whichever_is_given_first(compat):
    d = compat()
    d.run()
    d.bp("work")
    first = d.create_snapshot(level="writable")
    d.cont()
    d.wait()
    second = d.create_snapshot(level="writable")
    for diff in (first.diff(second), second.diff(first)):
        assert diff.snapshot1 is first and diff.snapshot2 is second
        rip_before, rip_after = diff.registers[d.pid]["rip"]
        assert rip_after == d.resolve_symbol("work")
    thread_diff = d.threads[0].create_snapshot().diff(first.threads[0])
    assert thread_diff.snapshot1 is first.threads[0]
    d.kill()


@pytest.mark.timeout(30)
def test_detach_lets_a_running_process_reach_its_next_stop(compat):
    d = compat()
    pipes = d.run()
    bp = d.bp("work")
    d.cont()
    d.detach()                                   # waits for the breakpoint first
    assert bp.hit_count == 1
    assert pipes.recvline() == b"ready"
    assert pipes.recvline() == b"bye"            # it ran on untraced, past the int3 it hit
