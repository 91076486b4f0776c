"""Helpers shared by the end-to-end tests: /proc readers, bounded waits, and
tree clean-up that can't hang the session."""
import os
import signal
import subprocess
import threading
import time


def sig_num(sig):
    """libdebug reports signals by name ("SIGSEGV"); accept a number too."""
    if sig is None:
        return None
    if isinstance(sig, str):
        return int(signal.Signals[sig.upper()])
    return int(sig)


def proc_stat(pid):
    """Fields of /proc/<pid>/stat after the command name, None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()


def proc_state(pid):
    """One-letter state of /proc/<pid> (or of a stat path given as a str), None if gone."""
    path = pid if isinstance(pid, str) else f"/proc/{pid}/stat"
    try:
        with open(path) as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


def ppid_of(pid):
    stat = proc_stat(pid)
    return int(stat[1]) if stat else None


def tracer_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def task_tids(pid):
    return {int(t) for t in os.listdir(f"/proc/{pid}/task")}


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.005)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def tree(d):
    """d and every Debugger below it."""
    out = [d]
    for c in list(d.children):
        out.extend(tree(c))
    return out


def kill_tree(d, timeout=10.0):
    """Kill d and everything below it. If tether has not managed within
    `timeout` (a stuck tracer), SIGKILL what is left directly so that one
    hang does not hang the rest of the session."""
    everyone = tree(d)

    def kill_all():
        for x in everyone:
            try:
                x.terminate()  # kills at once (kill() would wait for a stop)
            except Exception:  # already dead, detached or never started
                pass

    worker = threading.Thread(target=kill_all, daemon=True)
    worker.start()
    worker.join(timeout)
    for x in everyone:  # whatever tether left alive (it should be nothing)
        try:
            if proc_state(x.pid) not in (None, "Z"):
                os.kill(x.pid, signal.SIGKILL)
        except Exception:
            pass


def reap(pid, timeout=5.0):
    """Reap `pid` if it is our own child (e.g. a process tether detached);
    return its wait status, or None if someone else reaped it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if got == pid:
            return status
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not end")


def resume(parent, child):
    """on_fork callback: let every new child run at once."""
    child.cont()


def shutdown(d):
    """Kill the process if it is still there and release the debugger.
    Cleanup only: it never raises, the leak check in conftest still applies."""
    try:
        d.terminate()
    except Exception:
        pass


def nm_offsets(path):
    out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    return {p[2]: int(p[0], 16) for p in (line.split() for line in out.splitlines()) if len(p) == 3}


def load_base(pid, path):
    real = os.path.realpath(path)
    with open(f"/proc/{pid}/maps") as f:
        return min(int(line.split("-")[0], 16) for line in f
                   if len(line.split(None, 5)) > 5 and line.split(None, 5)[5].strip() == real)
