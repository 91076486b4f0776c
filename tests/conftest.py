"""Shared test fixtures: compile C targets once per session, and check that no
test leaves a traced (state 't'/'T') or zombie descendant behind."""
import ctypes
import os
import pathlib
import signal
import subprocess
import time

import pytest

TARGETS_DIR = pathlib.Path(__file__).parent / "targets"


def _become_child_subreaper() -> None:
    """The test process adopts the orphans of everything the tests start
    (tether itself doesn't: docs/edge-cases.md §26). So they stay its
    descendants, which the leak check below sees, and an orphan's zombie is
    reaped here rather than left under an init that may not reap (this
    machine's doesn't)."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


_become_child_subreaper()
BIN_DIR = TARGETS_DIR / "bin"

# Per-target extra flags: a target may declare them on its first line as
#   // cflags: -pthread -static
def _cflags_of(source: pathlib.Path) -> list[str]:
    first = source.read_text().splitlines()[0] if source.stat().st_size else ""
    if first.startswith("// cflags:"):
        return first[len("// cflags:"):].split()
    return []


def compile_target(name: str) -> str:
    """Compile tests/targets/<name>.c with gcc, or <name>.cpp with g++ (once),
    and return the binary's path. "<name>.m32" is <name>.c built as a 32-bit
    (i386) program: gcc -m32 (gcc-multilib)."""
    extra = []
    if name.endswith(".m32"):
        extra = ["-m32"]
        src = TARGETS_DIR / f"{name[:-4]}.c"
    else:
        src = TARGETS_DIR / f"{name}.c"
    compiler = "gcc"
    if not src.exists() and src.with_suffix(".cpp").exists():
        src, compiler = src.with_suffix(".cpp"), "g++"
    out = BIN_DIR / name
    BIN_DIR.mkdir(exist_ok=True)
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        tmp = BIN_DIR / f"{name}.tmp{os.getpid()}"
        cmd = [compiler, "-g", "-O0", "-fno-omit-frame-pointer", "-o", str(tmp), str(src)] + _cflags_of(src) \
            + extra
        subprocess.run(cmd, check=True)
        os.replace(tmp, out)
    return str(out)


@pytest.fixture(scope="session")
def target():
    """`target("name")` -> path of the compiled tests/targets/name.c."""
    return compile_target


def _descendants_of(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of every live descendant of `pid`, via /proc."""
    parents = {}
    states = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        states[int(entry)] = rest[0]
        parents[int(entry)] = int(rest[1])
    found = []
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p:
                found.append((child, states[child]))
                frontier.append(child)
    return found


def _leftovers() -> list[tuple[int, str]]:
    """Descendants of this test process that are stopped or zombies.

    Processes tether traces are children of this process (or reparented to it:
    it is a child subreaper), so leaks show up here."""
    return [(p, s) for p, s in _descendants_of(os.getpid()) if s in ("t", "T", "Z")]


@pytest.fixture(autouse=True)
def no_leaked_processes():
    yield
    # Give a just-killed tree a moment to be reaped.
    deadline = time.monotonic() + 2.0
    left = _leftovers()
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = _leftovers()
    if left:
        # Clean up so that one leaking test doesn't fail every later one:
        # kill what is left, then reap what became our zombie children.
        for p, _ in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)
        for p, _ in _descendants_of(os.getpid()):
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass
        pytest.fail(f"test left processes stopped or unreaped: {left}")
