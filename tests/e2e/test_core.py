"""End-to-end tests of the core life cycle (issue 2): run, entry point,
ASLR, argv/env/path, timeout, attach/detach, kill/terminate, process state,
interrupt, ASAP mode, kill_on_exit.

Every test drives a real program compiled from tests/targets/*.c and finds
addresses from the ELF file or /proc, never hard-coded."""
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time

import pytest

from tether import debugger


# --------------------------------------------------------------------------
# Independent oracles: ELF header and /proc, read without tether.

def elf_type_and_entry(path):
    """(e_type, e_entry) from the ELF64 header (ELF spec: e_type at offset 16,
    e_entry at offset 24)."""
    with open(path, "rb") as f:
        header = f.read(32)
    assert header[:4] == b"\x7fELF"
    (e_type,) = struct.unpack_from("<H", header, 16)
    (e_entry,) = struct.unpack_from("<Q", header, 24)
    return e_type, e_entry


def proc_maps(pid):
    """[(start, end, perms, path)] from /proc/pid/maps."""
    result = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5].strip() if len(parts) > 5 else ""
            result.append((start, end, parts[1], path))
    return result


def load_base(pid, path):
    """Lowest address the file `path` is mapped at in process `pid`."""
    real = os.path.realpath(path)
    starts = [s for s, _, _, p in proc_maps(pid) if p == real]
    assert starts, f"{real} is not mapped in {pid}"
    return min(starts)


def map_of(pid, address):
    """The /proc/pid/maps entry that contains `address`, or None."""
    for entry in proc_maps(pid):
        if entry[0] <= address < entry[1]:
            return entry
    return None


def proc_state(pid):
    """The one-letter state of `pid` from /proc/pid/stat, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


def wait_until(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def expected_entry(path, pid):
    e_type, e_entry = elf_type_and_entry(path)
    # ET_DYN (3) is relocated by its load base; ET_EXEC (2) is not.
    return e_entry + (load_base(pid, path) if e_type == 3 else 0)


# --------------------------------------------------------------------------

@pytest.fixture
def new_debugger():
    """A factory for debuggers that are always killed and terminated."""
    made = []

    def make(*args, **kwargs):
        d = debugger(*args, **kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        cleanup(d)


def cleanup(d):
    try:
        d.terminate()
    except Exception:
        pass


# --------------------------------------------------------------------------
# run() and the entry point

@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["basic", "static_hello", "nopie_hello"])
def test_run_stops_at_binary_entry_point(target, new_debugger, name):
    path = target(name)
    d = new_debugger([path])
    io = d.run()
    assert io is not None
    assert not d.running and not d.dead
    assert d.regs.rip == expected_entry(path, d.pid)
    # The process really is in a ptrace stop.
    assert proc_state(d.pid) == "t"


@pytest.mark.timeout(30)
def test_no_continue_to_entrypoint_stops_in_the_loader(target, new_debugger):
    path = target("basic")
    d = new_debugger([path], continue_to_binary_entrypoint=False)
    d.run()
    rip = d.regs.rip
    assert rip != expected_entry(path, d.pid)
    entry = map_of(d.pid, rip)
    assert entry is not None and "ld-linux" in os.path.basename(entry[3])
    # From there, continuing reaches main and the program runs normally.
    bp = d.breakpoint("main", file="binary")
    d.cont()
    d.wait()
    assert d.regs.rip == bp.address
    assert bp.hit_count == 1


@pytest.mark.timeout(30)
def test_no_continue_to_entrypoint_static_binary_stops_at_entry(target, new_debugger):
    # A static binary has no loader: its first instruction is the entry point.
    path = target("static_hello")
    d = new_debugger([path], continue_to_binary_entrypoint=False)
    d.run()
    assert d.regs.rip == expected_entry(path, d.pid)


# --------------------------------------------------------------------------
# ASLR

def _bases(new_debugger, path, aslr):
    d = new_debugger([path], aslr=aslr)
    d.run()
    libc = [p for _, _, _, p in proc_maps(d.pid) if "libc.so" in p]
    bases = (load_base(d.pid, path), load_base(d.pid, libc[0]))
    cleanup(d)
    return bases


@pytest.mark.timeout(40)
def test_aslr_false_gives_equal_bases(target, new_debugger):
    path = target("basic")
    first = _bases(new_debugger, path, aslr=False)
    second = _bases(new_debugger, path, aslr=False)
    assert first == second


@pytest.mark.timeout(60)
def test_aslr_true_randomizes_bases(target, new_debugger):
    with open("/proc/sys/kernel/randomize_va_space") as f:
        if f.read().strip() == "0":
            pytest.skip("ASLR is disabled system-wide")
    path = target("basic")
    seen = {_bases(new_debugger, path, aslr=True) for _ in range(4)}
    # Four equal randomized bases would be a ~2^-28 coincidence per run.
    assert len(seen) > 1


@pytest.mark.timeout(30)
def test_aslr_false_does_not_leak_into_later_aslr_true_run(target, new_debugger):
    path = target("basic")
    fixed = _bases(new_debugger, path, aslr=False)
    randomized = {_bases(new_debugger, path, aslr=True) for _ in range(3)}
    assert randomized != {fixed}


# --------------------------------------------------------------------------
# argv, env, path

@pytest.mark.timeout(30)
def test_argv_and_env_reach_the_program(target, new_debugger):
    path = target("basic")
    d = new_debugger([path, "one", "two words"], env={"TETHER_TEST_VAR": "hello env"})
    io = d.run()
    d.cont()
    out = io.recvuntil(b"done\n", timeout=10)
    d.wait()
    assert b"argc=3\n" in out
    assert f"argv[0]={path}\n".encode() in out
    assert b"argv[1]=one\n" in out
    assert b"argv[2]=two words\n" in out
    assert b"env=hello env\n" in out
    assert d.exit_code == 7


@pytest.mark.timeout(30)
def test_empty_env_means_no_variables(target, new_debugger, monkeypatch):
    monkeypatch.setenv("TETHER_TEST_VAR", "from the parent")
    path = target("basic")
    d = new_debugger([path], env={})
    io = d.run()
    d.cont()
    out = io.recvuntil(b"done\n", timeout=10)
    assert b"env=(unset)\n" in out


@pytest.mark.timeout(60)
def test_program_dying_before_its_entry_point_says_why(new_debugger, tmp_path):
    # The dynamic loader runs before the program's entry point: with a library
    # missing it prints why and exits 127 there.
    (tmp_path / "gone.c").write_text("int gone(void) { return 7; }\n")
    (tmp_path / "main.c").write_text("int gone(void);\nint main(void) { return gone(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp_path / "libgone.so"),
                    str(tmp_path / "gone.c")], check=True, timeout=60)
    subprocess.run(["gcc", "-o", str(tmp_path / "needs_gone"), str(tmp_path / "main.c"),
                    f"-L{tmp_path}", "-lgone"], check=True, timeout=60)
    (tmp_path / "libgone.so").unlink()
    d = new_debugger([str(tmp_path / "needs_gone")])
    with pytest.raises(RuntimeError, match=r"died before reaching its entry point \(exit code 127.*libgone\.so"):
        d.run()
    assert d.dead and d.exit_code == 127
    # The Debugger is still usable: with the library back, it starts.
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp_path / "libgone.so"),
                    str(tmp_path / "gone.c")], check=True, timeout=60)
    d.env = {"LD_LIBRARY_PATH": str(tmp_path)}
    d.run()
    d.cont()
    d.wait()
    assert d.dead and d.exit_code == 7


@pytest.mark.timeout(30)
def test_default_env_is_inherited(target, new_debugger, monkeypatch):
    monkeypatch.setenv("TETHER_TEST_VAR", "from the parent")
    path = target("basic")
    d = new_debugger([path])
    io = d.run()
    d.cont()
    out = io.recvuntil(b"done\n", timeout=10)
    assert b"env=from the parent\n" in out


@pytest.mark.timeout(30)
def test_env_is_none_until_given_and_a_given_one_is_edited_in_place(target, new_debugger,
                                                                    monkeypatch):
    # As in libdebug: no env given -> d.env is None and run() passes the
    # script's; a dict set there is the program's, and edits to it count.
    monkeypatch.setenv("TETHER_TEST_VAR", "from the parent")
    d = new_debugger([target("basic")])
    assert d.env is None
    with pytest.raises(TypeError):
        d.env = "TETHER_TEST_VAR=x"
    with pytest.raises(TypeError):
        new_debugger([target("basic")], env=["TETHER_TEST_VAR=x"])
    d.env = dict(os.environ)
    d.env["TETHER_TEST_VAR"] = "edited"
    io = d.run()
    d.cont()
    out = io.recvuntil(b"done\n", timeout=10)
    assert b"env=edited\n" in out
    assert os.environ["TETHER_TEST_VAR"] == "from the parent"  # a copy was edited


@pytest.mark.timeout(30)
def test_path_is_executed_and_argv0_is_kept(target, new_debugger):
    path = target("basic")
    d = new_debugger(["pretend-name", "x"], path=path)
    io = d.run()
    d.cont()
    out = io.recvuntil(b"done\n", timeout=10)
    assert b"argv[0]=pretend-name\n" in out
    assert b"argv[1]=x\n" in out
    d.wait()
    assert d.exit_code == 7


@pytest.mark.timeout(30)
def test_argv_as_plain_string(target, new_debugger):
    path = target("basic")
    d = new_debugger(path)
    io = d.run()
    d.cont()
    out = io.recvuntil(b"done\n", timeout=10)
    assert b"argc=1\n" in out


# --------------------------------------------------------------------------
# Life cycle and state

@pytest.mark.timeout(30)
def test_exit_code_and_state_properties(target, new_debugger):
    path = target("basic")
    d = new_debugger([path])
    d.run()
    pid = d.pid
    assert pid == d.process_id
    assert proc_state(pid) == "t"
    assert not d.dead and not d.running
    assert d.zombie is False
    assert len(d.threads) == 1 and d.threads[0].tid == pid
    d.cont()
    d.wait()
    assert d.dead
    assert not d.running
    assert d.exit_code == 7
    assert d.exit_signal is None
    # The exited process was reaped: no zombie is left behind.
    assert wait_until(lambda: proc_state(pid) is None, timeout=3)


@pytest.mark.timeout(30)
def test_exit_signal_of_a_killed_program(target, new_debugger):
    d = new_debugger([target("spin")])
    d.run()
    pid = d.pid
    d.cont()
    time.sleep(0.2)
    os.kill(pid, signal.SIGTERM)
    d.wait()
    # SIGTERM is first reported as a stop (the debugger may show it); the
    # next resume delivers it and the program dies of it.
    if not d.dead:
        assert d.signal_number == signal.SIGTERM
        d.cont()
        d.wait()
    assert d.dead
    assert d.exit_signal == "SIGTERM"
    assert d.exit_code is None


@pytest.mark.timeout(40)
def test_same_debugger_runs_twice(target, new_debugger):
    path = target("basic")
    d = new_debugger([path])
    io = d.run()
    first_pid = d.pid
    d.cont()
    assert b"done" in io.recvuntil(b"done\n", timeout=10)
    d.wait()
    assert d.exit_code == 7

    io = d.run()
    assert d.pid != first_pid
    assert d.regs.rip == expected_entry(path, d.pid)
    bp = d.breakpoint("g")
    d.cont()
    d.wait()
    assert d.regs.rip == bp.address
    bp.disable()
    d.cont()
    assert b"f=9\n" in io.recvuntil(b"done\n", timeout=10)
    d.wait()
    assert d.exit_code == 7


@pytest.mark.timeout(30)
def test_run_timeout_kills_a_looping_program(target, new_debugger):
    d = new_debugger([target("spin")])  # spins forever
    start = time.monotonic()
    d.run(timeout=1)
    pid = d.pid
    d.cont()
    d.wait()
    elapsed = time.monotonic() - start
    assert 0.8 <= elapsed < 15
    assert wait_until(lambda: d.dead, timeout=5)
    assert wait_until(lambda: proc_state(pid) is None, timeout=5)


@pytest.mark.timeout(30)
def test_kill_a_running_program_in_asap_mode(target, new_debugger):
    # (Without ASAP mode kill() waits for the next stop, as in libdebug:
    # test_libdebug_compat.py.)
    d = new_debugger([target("spin")], auto_interrupt_on_command=True)
    d.run()
    pid = d.pid
    d.cont()
    time.sleep(0.2)
    d.kill()
    assert d.dead
    assert d.exit_signal in (None, "SIGKILL")
    assert wait_until(lambda: proc_state(pid) is None, timeout=3)


@pytest.mark.timeout(30)
def test_kill_a_stopped_program(target, new_debugger):
    d = new_debugger([target("basic")])
    d.run()
    pid = d.pid
    d.breakpoint("g")
    d.cont()
    d.wait()
    d.kill()
    assert d.dead
    assert wait_until(lambda: proc_state(pid) is None, timeout=3)


@pytest.mark.timeout(30)
def test_terminate_ends_the_process(target):
    d = debugger([target("spin")])
    try:
        d.run()
        pid = d.pid
        d.cont()
        time.sleep(0.1)
    finally:
        d.terminate()
    assert wait_until(lambda: proc_state(pid) is None, timeout=3)


@pytest.mark.timeout(30)
def test_interrupt_a_spinning_program(target, new_debugger):
    path = target("spin")
    d = new_debugger([path])
    d.run()
    d.cont()
    time.sleep(0.3)
    d.interrupt()
    assert not d.running
    assert proc_state(d.pid) == "t"
    entry = map_of(d.pid, d.regs.rip)
    assert entry is not None and "x" in entry[2]
    ticks1 = int.from_bytes(d.memory["ticks", 8, "binary"], "little")
    assert ticks1 > 0
    # Stopped means stopped: the counter does not move.
    time.sleep(0.1)
    assert int.from_bytes(d.memory["ticks", 8, "binary"], "little") == ticks1
    d.cont()
    time.sleep(0.2)
    d.interrupt()
    ticks2 = int.from_bytes(d.memory["ticks", 8, "binary"], "little")
    assert ticks2 > ticks1


@pytest.mark.timeout(30)
def test_asap_mode_interrupts_on_command(target, new_debugger):
    d = new_debugger([target("spin")], auto_interrupt_on_command=True)
    d.run()
    d.cont()
    time.sleep(0.2)
    # No wait()/interrupt(): the command itself stops the program.
    rip = d.regs.rip
    assert map_of(d.pid, rip) is not None
    assert not d.running
    ticks1 = int.from_bytes(d.memory["ticks", 8, "binary"], "little")
    d.cont()
    time.sleep(0.2)
    ticks2 = int.from_bytes(d.memory["ticks", 8, "binary"], "little")
    assert ticks2 > ticks1 > 0


@pytest.mark.timeout(30)
def test_default_mode_waits_for_the_stop_before_a_command(target, new_debugger):
    # Without ASAP mode, a command after cont() waits until the program
    # stops by itself (here: at a breakpoint).
    d = new_debugger([target("basic")])
    d.run()
    bp = d.breakpoint("g")
    d.cont()
    assert d.regs.rip == bp.address
    assert bp.hit_count == 1


# --------------------------------------------------------------------------
# attach / detach

def _start_spin(path, seconds, *extra):
    proc = subprocess.Popen([path, str(seconds), *extra], stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"
    return proc


@pytest.mark.timeout(30)
def test_attach_then_detach_leaves_the_process_running(target, new_debugger):
    path = target("spin")
    proc = _start_spin(path, 1.5)
    try:
        d = new_debugger()
        d.attach(proc.pid)
        assert d.pid == proc.pid
        assert proc_state(proc.pid) == "t"
        assert map_of(proc.pid, d.regs.rip) is not None
        ticks = int.from_bytes(d.memory["ticks", 8, "binary"], "little")
        for _ in range(100):
            if ticks > 0:
                break
            # On a loaded machine the attach can come before the first tick
            # (it prints "ready" before its loop): let it run a little.
            d.cont()
            time.sleep(0.02)
            d.interrupt()
            ticks = int.from_bytes(d.memory["ticks", 8, "binary"], "little")
        assert ticks > 0
        d.detach()
        # Running again, and not left in a stop.
        assert wait_until(lambda: proc_state(proc.pid) in ("R", "S"), timeout=3)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert out.startswith(b"finished ")
        assert int(out.split()[1]) > ticks
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(30)
def test_attach_breakpoint_then_detach_removes_it(target, new_debugger):
    path = target("spin")
    proc = _start_spin(path, 1.0)
    try:
        d = new_debugger()
        d.attach(proc.pid)
        bp = d.breakpoint("tick", file="binary")
        d.cont()
        d.wait()
        assert d.regs.rip == bp.address
        assert bp.hit_count >= 1
        d.detach()
        # Had the int3 stayed in memory, the program would die of SIGTRAP.
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert out.startswith(b"finished ")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(30)
def test_attach_then_kill(target, new_debugger):
    proc = _start_spin(target("spin"), 0)
    try:
        d = new_debugger()
        d.attach(proc.pid)
        d.kill()
        assert d.dead
        assert wait_until(lambda: proc_state(proc.pid) in (None, "Z"), timeout=5)
        # The tracer lives in this process, which is also the real parent, so
        # the kernel reports the death once: if the debugger consumed it,
        # Popen sees ECHILD and reports 0; otherwise it sees the SIGKILL.
        assert proc.wait(timeout=5) in (0, -signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------
# kill_on_exit: checked in a separate Python process that exits on its own.

_SCRIPT = textwrap.dedent("""
    import sys
    from tether import debugger
    path, donefile, pidfile, koe = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    d = debugger([path, "0.7", donefile], kill_on_exit=koe)
    assert d.kill_on_exit is koe
    d.run(redirect_pipes=False)
    with open(pidfile, "w") as f:
        f.write(str(d.pid))
    d.cont()
    # The script ends here, with the program still running.
""")


def _run_script_and_watch(path, tmp_path, kill_on_exit):
    donefile = tmp_path / "done"
    pidfile = tmp_path / "pid"
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        res = subprocess.run(
            [sys.executable, str(script), path, str(donefile), str(pidfile), "1" if kill_on_exit else "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=20)
    except subprocess.TimeoutExpired as e:
        # The script hung on its way out; do not leave the program behind.
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        pytest.fail(f"the script did not exit within 20 s (kill_on_exit={kill_on_exit}); "
                    f"stderr: {(e.stderr or b'').decode(errors='replace')}")
    assert res.returncode == 0, res.stderr.decode()
    pid = int(pidfile.read_text())
    return pid, donefile


def _reap_if_ours(pid):
    # If this test process happens to be a subreaper, the orphan is ours to reap.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


@pytest.mark.timeout(40)
def test_kill_on_exit_true_kills_the_program(target, tmp_path):
    pid, donefile = _run_script_and_watch(target("spin"), tmp_path, True)
    try:
        assert wait_until(lambda: proc_state(pid) in (None, "Z"), timeout=5)
        time.sleep(1.5)  # the program would have finished by now
        assert not donefile.exists()
    finally:
        if proc_state(pid) not in (None, "Z"):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: (_reap_if_ours(pid), proc_state(pid))[1] is None, timeout=3)


@pytest.mark.timeout(40)
def test_kill_on_exit_false_lets_the_program_finish(target, tmp_path):
    pid, donefile = _run_script_and_watch(target("spin"), tmp_path, False)
    try:
        assert wait_until(donefile.exists, timeout=10)
        assert donefile.read_text() == "done\n"
    finally:
        if proc_state(pid) not in (None, "Z"):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: (_reap_if_ours(pid), proc_state(pid))[1] is None, timeout=3)


@pytest.mark.timeout(30)
def test_kill_on_exit_property_is_writable(target, new_debugger):
    d = new_debugger([target("basic")])
    assert d.kill_on_exit is True
    d.kill_on_exit = False
    assert d.kill_on_exit is False
    d.kill_on_exit = True
    assert d.kill_on_exit is True


# --------------------------------------------------------------------------
# escape_antidebug

@pytest.mark.timeout(30)
@pytest.mark.parametrize("escape", [False, True])
def test_escape_antidebug(target, new_debugger, escape):
    # antidebug.c calls ptrace(PTRACE_TRACEME), which fails under a tracer
    # unless the debugger fakes its success.
    d = new_debugger([target("antidebug")], escape_antidebug=escape)
    io = d.run()
    d.cont()
    line = io.recvline(timeout=10)
    d.wait()
    assert line == (b"traceme=0" if escape else b"traceme=-1")
    assert d.dead and d.exit_code == 0


@pytest.mark.timeout(30)
def test_escape_antidebug_set_after_run_takes_effect(target, new_debugger):
    # Set on a running Debugger, it must turn syscall stops on by itself.
    d = new_debugger([target("antidebug")])
    io = d.run()
    d.escape_antidebug = True
    assert d.escape_antidebug is True
    d.cont()
    line = io.recvline(timeout=10)
    d.wait()
    assert line == b"traceme=0"
    with pytest.raises(TypeError):
        d.escape_antidebug = 1
