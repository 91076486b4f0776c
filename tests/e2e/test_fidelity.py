"""A program behaves under tether as it does without it (README "Fidelity"):
each test runs the same thing with and without tether and compares.

Attributes a script changes in itself (mask, nice, affinity...) and the
absence of a child subreaper need a script of their own: fidelity_script.py,
run as a subprocess."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

import pytest

from procutil import proc_state
from tether import debugger
from tether.commlink.pipes import PipeClosedError

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
PIPEFAIL = ["bash", "-c", "set -o pipefail; yes | head -1 >/dev/null"]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def script(*args, timeout=60):
    """Run fidelity_script.py; its JSON report."""
    r = subprocess.run([sys.executable, str(HERE / "fidelity_script.py"), *args],
                       capture_output=True, text=True, timeout=timeout, env=_env())
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def traced_exit(argv, **kwargs):
    """(exit code, signal) of `argv` run under tether to its end, every child
    followed and let run."""
    d = debugger(argv, **kwargs)
    try:
        d.run(redirect_pipes=False)
        d.on_fork(lambda parent, child: child.cont())
        d.cont()
        d.wait()
        return d.exit_code, d.exit_signal
    finally:
        d.kill()


def reap(pid):
    """Reap `pid` if it is a zombie child of this (subreaper) test process."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def sig_bits(text):
    return int(text, 16)


# --- signal dispositions ---------------------------------------------------------------

@pytest.mark.timeout(30)
def test_yes_head_under_pipefail_exits_141_as_untraced():
    # Python ignores SIGPIPE; a program inheriting that would see EPIPE
    # instead of dying, and the pipeline would exit 1.
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN
    untraced = subprocess.run(PIPEFAIL).returncode
    assert untraced == 141
    assert traced_exit(PIPEFAIL) == (141, None)


# --- everything a child inherits from its creator's thread -----------------------------

@pytest.mark.timeout(60)
def test_inherited_attributes_are_those_of_a_subprocess_child(target, tmp_path):
    report = script("probe", target("fidelity_probe"), str(tmp_path))
    for name in ("default", "close_fds", "pass_fds"):
        assert report[name]["tether"] == report[name]["popen"], name
    seen = report["default"]["tether"]
    # What the script changed in itself reached the program...
    blocked = sig_bits(seen["SigBlk"])
    assert blocked & (1 << (signal.SIGUSR1 - 1)) and blocked & (1 << (signal.SIGRTMIN + 3 - 1))
    ignored = sig_bits(seen["SigIgn"])
    assert ignored & (1 << (signal.SIGHUP - 1))
    # ...but not what Python or tether's own thread changed.
    assert not ignored & (1 << (signal.SIGPIPE - 1)) and not ignored & (1 << (signal.SIGXFSZ - 1))
    assert sig_bits(seen["SigCgt"]) == 0
    assert seen["sched"] == f"{os.SCHED_OTHER}/0/3"  # not the tracer thread's SCHED_BATCH
    assert seen["ppid"] == str(report["pid"])
    assert seen["umask"] == "027"
    # Inheritable fds pass, tether's own and the script's private ones don't.
    assert seen["fds"].split(",") == [str(report["shared"])]
    assert report["close_fds"]["tether"]["fds"] == ""
    assert report["pass_fds"]["tether"]["fds"] == str(report["private"])


# --- fds -------------------------------------------------------------------------------

@pytest.fixture
def fd_with_data():
    """A pipe's read end holding b"hi\\n" (not inheritable, Python's default)."""
    r, w = os.pipe()
    os.write(w, b"hi\n")
    os.close(w)
    yield r
    os.close(r)


def traced_output(argv, **kwargs):
    d = debugger(argv, **kwargs)
    try:
        io = d.run()
        d.cont()
        d.wait()
        try:
            return d.exit_code, io.recv(4096, timeout=5)
        except PipeClosedError:
            return d.exit_code, b""  # it wrote nothing
    finally:
        d.kill()


@pytest.mark.timeout(30)
def test_cat_of_an_inherited_fd(fd_with_data):
    os.set_inheritable(fd_with_data, True)
    argv = ["cat", f"/dev/fd/{fd_with_data}"]
    assert traced_output(argv) == (0, b"hi\n")


@pytest.mark.timeout(30)
def test_a_private_fd_is_not_passed_unless_asked(fd_with_data):
    argv = ["cat", f"/dev/fd/{fd_with_data}"]
    untraced = subprocess.run(argv, close_fds=False, capture_output=True).returncode
    assert untraced == 1  # cat: no such file
    assert traced_output(argv)[0] == untraced
    assert traced_output(argv, pass_fds=[fd_with_data]) == (0, b"hi\n")


@pytest.mark.timeout(30)
def test_close_fds_closes_inheritable_ones(fd_with_data):
    os.set_inheritable(fd_with_data, True)
    argv = ["cat", f"/dev/fd/{fd_with_data}"]
    untraced = subprocess.run(argv, close_fds=True, capture_output=True).returncode
    assert untraced == 1
    d = debugger(argv, close_fds=True)
    assert d.close_fds is True
    try:
        d.run()
        d.cont()
        d.wait()
        assert d.exit_code == untraced
    finally:
        d.kill()


@pytest.mark.timeout(30)
def test_bad_pass_fds_are_refused_and_the_debugger_stays_usable(fd_with_data):
    with pytest.raises(TypeError, match="pass_fds entries must be ints"):
        debugger(["true"], pass_fds=["3"])
    with pytest.raises(TypeError, match="sequence of fds"):
        debugger(["true"], pass_fds=3)
    with pytest.raises(ValueError, match="-1"):
        debugger(["true"], pass_fds=[-1])
    closed = os.dup(fd_with_data)
    os.close(closed)
    d = debugger(["cat", f"/dev/fd/{fd_with_data}"], pass_fds=(closed,))
    try:
        with pytest.raises(OSError, match=f"pass_fds: fd {closed} is not open"):
            d.run()
        with pytest.raises(TypeError):
            d.pass_fds = [None]
        assert d.pass_fds == (closed,)
        d.pass_fds = {fd_with_data, fd_with_data}
        assert d.pass_fds == (fd_with_data,)
        io = d.run()
        d.cont()
        d.wait()
        assert d.exit_code == 0 and io.recv(4096, timeout=5) == b"hi\n"
    finally:
        d.kill()


@pytest.mark.timeout(60)
def test_stdio_pipes_that_got_fds_0_to_2_are_installed():
    # The script closed its stdin: the pipe made for the program's stdin is
    # fd 0 itself, which a plain dup2(0, 0) would leave close-on-exec.
    assert script("closed_stdin") == {"line": "through stdin"}


# --- what is executed ------------------------------------------------------------------

@pytest.mark.timeout(30)
def test_a_shebang_script_runs_as_untraced(tmp_path):
    prog = tmp_path / "greet"
    prog.write_text('#!/bin/sh\necho "$0 says $1"\nexit 3\n')
    prog.chmod(0o755)
    untraced = subprocess.run([str(prog), "hi"], capture_output=True)
    assert (untraced.returncode, untraced.stdout) == (3, f"{prog} says hi\n".encode())
    assert traced_output([str(prog), "hi"]) == (untraced.returncode, untraced.stdout)
    assert debugger([str(prog)]).path == str(prog)


@pytest.mark.timeout(30)
def test_a_script_with_a_missing_interpreter_is_refused_clearly(tmp_path):
    prog = tmp_path / "broken"
    prog.write_text("#!/no/such/shell\n")
    prog.chmod(0o755)
    d = debugger([str(prog)])
    with pytest.raises(FileNotFoundError, match="interpreter '/no/such/shell' does not exist"):
        d.run()
    d.argv = ["true"]  # still usable
    d.run()
    d.kill()


@pytest.mark.timeout(30)
def test_path_is_the_absolute_path_found_through_path():
    d = debugger(["sh", "-c", "exit 4"])
    assert d.path == shutil.which("sh") and os.path.isabs(d.path)
    try:
        d.run()
        with open(f"/proc/{d.pid}/cmdline", "rb") as f:
            assert f.read() == b"sh\0-c\0exit 4\0"  # argv[0] as given, as execvp keeps it
        assert d.path == shutil.which("sh")
        d.cont()
        d.wait()
        assert d.exit_code == 4
    finally:
        d.kill()
    assert debugger(["no-such-program-xyz"]).path == "no-such-program-xyz"


# --- orphans ---------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_an_untraced_daemon_of_the_script_leaves_no_zombie(target):
    report = script("daemon", target("spin"))
    try:
        # Its parent is where it would be without tether (this test process,
        # a child subreaper: conftest.py), never the script.
        assert report["orphan_ppid"] != report["pid"]
        assert report["zombies"] == []
    finally:
        reap(report["orphan"])


@pytest.mark.timeout(60)
def test_orphans_of_traced_processes_are_seen_to_their_end_without_a_subreaper(target):
    report = script("orphans", target("mp_orphan"))
    try:
        assert report["codes"] == [0, 2, 5]
        assert report["zombies"] == []
    finally:
        for pid in report["orphans"]:
            reap(pid)
    assert all(proc_state(pid) is None for pid in report["orphans"])


# --- the tether command ----------------------------------------------------------------

def tether_cli_in_sh(command, timeout=60):
    """Run a sh command line in which $TETHER is `python -m tether`."""
    env = _env()
    env["TETHER"] = f"{sys.executable} -m tether"
    return subprocess.run(["sh", "-c", command], capture_output=True, timeout=timeout, env=env)


@pytest.mark.timeout(60)
def test_cli_pipefail_status_and_inherited_fd_3(tmp_path):
    r = tether_cli_in_sh("$TETHER trace -o /dev/null -- " + " ".join(
        ["bash", "-c", "'set -o pipefail; yes | head -1 >/dev/null'"]))
    assert r.returncode == 141, r.stderr
    data = tmp_path / "data"
    data.write_text("from fd 3\n")
    r = tether_cli_in_sh(f"$TETHER trace -o /dev/null -- cat /dev/fd/3 3<{data}")
    assert (r.returncode, r.stdout) == (0, b"from fd 3\n"), r.stderr


@pytest.mark.timeout(60)
def test_cli_program_inherits_what_it_would_from_the_shell(target, tmp_path):
    probe = target("fidelity_probe")
    plain, traced = tmp_path / "plain", tmp_path / "traced"
    r = tether_cli_in_sh(f"exec 5</dev/null; trap '' HUP; {probe} {plain}; "
                         f"$TETHER trace -o /dev/null -- {probe} {traced}")
    assert r.returncode == 0, r.stderr
    seen = [dict(line.split("=", 1) for line in p.read_text().splitlines()) for p in (plain, traced)]
    for s in seen:
        del s["ppid"]  # the shell, or tether
    assert seen[1] == seen[0]
    assert seen[1]["fds"] == "5"
