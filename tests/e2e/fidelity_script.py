"""A user's script, run by test_fidelity.py as a process of its own (so that
what it changes in itself, and whether it is a child subreaper, touch no
other test). Prints one JSON object.

    fidelity_script.py probe PROBE OUTDIR
        Change every attribute a child inherits from its creating thread,
        then run tests/targets/fidelity_probe with subprocess and under tether
        (default fds, close_fds=True, pass_fds) and report both outputs.
    fidelity_script.py daemon TARGET
        With a program traced (so tether's session exists), start an untraced
        `sh` that leaves a short-lived background process behind and exits;
        report the orphan's parent and this script's zombie children once the
        orphan has exited.
    fidelity_script.py closed_stdin
        Close this script's fd 0, so that run()'s stdin pipe gets fd 0
        itself, and echo a line through `cat` under tether.
    fidelity_script.py orphans MP_ORPHAN
        Trace tests/targets/mp_orphan (its middle process and grandchild
        outlive their parents) from a script that is not a child subreaper,
        and report the exit codes tether saw.
"""
import json
import os
import signal
import subprocess
import sys
import time

from tether import debugger


def parse(path):
    with open(path) as f:
        return dict(line.split("=", 1) for line in f.read().splitlines())


def run_to_end(argv, **kwargs):
    d = debugger(argv, **kwargs)
    d.run(redirect_pipes=False)
    d.cont()
    d.wait()
    if not d.dead or d.exit_code != 0:
        raise SystemExit(f"{argv} under tether: exit {d.exit_code}, signal {d.exit_signal}")


def probe(program, outdir):
    # Start tether's tracer thread first, so it predates the changes below
    # (a thread created later would inherit them whatever tether did).
    run_to_end(["true"])
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGRTMIN + 3})
    signal.signal(signal.SIGHUP, signal.SIG_IGN)        # ignored: stays ignored
    signal.signal(signal.SIGUSR2, lambda *_: None)     # handled: default after exec
    os.nice(3)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[-1]})
    os.umask(0o027)
    shared = os.open("/dev/null", os.O_RDONLY)
    os.set_inheritable(shared, True)
    private = os.open("/dev/null", os.O_RDONLY)         # Python's default: not inheritable
    report = {"pid": os.getpid(), "shared": shared, "private": private}
    # (cwd=: subprocess would otherwise take glibc's posix_spawn, whose child
    # ignores glibc's two internal signals, 32 and 33, when the parent has
    # handlers for them, where a fork + exec child, subprocess's in every
    # other case, has them at their default; tether does the latter. From
    # Python 3.13 on, close_fds=True takes posix_spawn too: it gets cwd= as well.)
    for name, popen_kwargs, tether_kwargs in [
            ("default", {"close_fds": False, "cwd": os.getcwd()}, {}),
            ("close_fds", {"close_fds": True, "cwd": os.getcwd()}, {"close_fds": True}),
            ("pass_fds", {"pass_fds": (private,)}, {"pass_fds": (private,)})]:
        plain, traced = (os.path.join(outdir, f"{name}.{how}") for how in ("popen", "tether"))
        subprocess.run([program, plain], check=True, **popen_kwargs)
        run_to_end([program, traced], **tether_kwargs)
        report[name] = {"popen": parse(plain), "tether": parse(traced)}
    return report


def zombie_children():
    """Pids of this process's children that are zombies."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat and stat[1] == str(os.getpid()) and stat[0] == "Z":
                found.append(int(entry))
    return found


def read_stat(pid):
    """(state, ppid, ...) of /proc/<pid>/stat, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def daemon(program):
    d = debugger([program])
    d.run(redirect_pipes=False)  # traced and stopped at its entry point
    try:
        # The background job is orphaned when sh exits: dash runs `(cmd) &`
        # as one process, so $! is the orphan itself.
        sh = subprocess.run(["sh", "-c", "(sleep 0.3) & echo $!"], capture_output=True,
                            text=True, check=True)
        orphan = int(sh.stdout)
        deadline = time.monotonic() + 20  # (a hang guard, not a timing check)
        while True:
            stat = read_stat(orphan)
            if stat is None or stat[0] == "Z" or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        return {"pid": os.getpid(), "orphan": orphan,
                "orphan_state": None if stat is None else stat[0],
                "orphan_ppid": None if stat is None else int(stat[1]),
                "zombies": zombie_children()}
    finally:
        d.kill()


def orphans(program):
    d = debugger([program])
    d.run(redirect_pipes=False)
    d.on_fork(lambda parent, child: child.cont())
    d.cont()
    d.wait()
    deadline = time.monotonic() + 20  # (a hang guard)
    while not (d.children and d.children[0].children and d.children[0].children[0].dead):
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    mid = d.children[0] if d.children else None
    grandchild = mid.children[0] if mid and mid.children else None
    return {"pid": os.getpid(), "codes": [d.exit_code, mid and mid.exit_code,
                                          grandchild and grandchild.exit_code],
            "orphans": [p.pid for p in (mid, grandchild) if p is not None],
            "zombies": zombie_children()}


def closed_stdin():
    os.close(0)
    d = debugger(["cat"])
    try:
        io = d.run()
        io.sendline(b"through stdin")
        d.cont()
        return {"line": io.recvline(timeout=10).decode()}
    finally:
        d.terminate()


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    print(json.dumps({"probe": probe, "daemon": daemon, "orphans": orphans,
                      "closed_stdin": closed_stdin}[mode](*args)))
