"""End-to-end tests for execve under the debugger (issue 5, SPEC 2.9,
docs/edge-cases.md §3, §8c, §11-§14). Targets: mp_exec.c and mp_exec_target.c (both
non-PIE, so code of the two images overlaps), mp_thread_exec.c,
mp_forkexec.c, mp_forkloop.c.

Semantics assumed (tether extras from helpers/API.md): the process keeps its
Debugger object across exec; its breakpoints on the old image are dropped;
`d.exec_count` counts exec events; `d.exe` is the current executable;
`d.on_exec(cb)` calls cb(dbg) on the tracer thread with the process stopped
right after the exec, where the callback may read memory and set
breakpoints on the new image (like any callback).
"""
import os
import struct
import subprocess
import time

import pytest

from tether import debugger
from procutil import kill_tree, resume, task_tids



def live_tids(d):
    return sorted(t.tid for t in d.threads if not t.dead)


def elf_bytes_at(path, vaddr, size):
    """Bytes a non-PIE ELF64 file maps at `vaddr` (ELF spec: program headers,
    PT_LOAD maps p_filesz bytes from p_offset at p_vaddr)."""
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and p_vaddr <= vaddr and vaddr + size <= p_vaddr + p_filesz:
            start = p_offset + vaddr - p_vaddr
            return data[start:start + size]
    raise ValueError(f"{vaddr:#x} is not in a PT_LOAD segment of {path}")


def elf_entry(path):
    with open(path, "rb") as f:
        return struct.unpack_from("<Q", f.read(64), 0x18)[0]


def map_paths(dbg):
    out = set()
    for m in dbg.maps:
        name = getattr(m, "backing_file", None) or getattr(m, "path", None) or ""
        if name.startswith("/"):
            out.add(os.path.realpath(name))
    return out


# --- single-threaded exec (docs/edge-cases.md §11) -------------------------------------

@pytest.mark.parametrize("fast_memory", [False, True])
def test_exec_keeps_debugger_drops_breakpoints_reloads_maps(launch, target, capfd, fast_memory):
    dest = target("mp_exec_target")
    native = subprocess.run([dest, "a", "b"], capture_output=True)
    d = launch("mp_exec", dest, "a", "b", fast_memory=fast_memory)
    d.run(redirect_pipes=False)
    pid = d.pid
    stale = d.breakpoint("never_called", file="binary")
    first = d.breakpoint("first_marker", file="binary")
    entry = elf_entry(dest)
    seen = {}

    def on_exec(dbg):
        seen["same"] = dbg is d
        seen["count"] = dbg.exec_count
        seen["exe"] = os.path.realpath(dbg.exe)
        seen["bps"] = len(dbg.breakpoints)
        seen["maps"] = map_paths(dbg)
        # The old breakpoint's address now holds the new image's nop sled...
        seen["at_stale"] = dbg.memory[stale.address, 16, "absolute"]
        # ... and the new entry point holds the new program's bytes.
        seen["at_entry"] = dbg.memory[entry, 16, "absolute"]

    d.on_exec(on_exec)
    d.cont()
    d.wait()
    assert first.hit_on(d)
    assert d.exec_count == 0
    d.cont()
    d.wait()
    assert d.dead and d.pid == pid
    assert d.exit_code == native.returncode == 12
    assert capfd.readouterr().out.encode() == native.stdout
    assert seen["same"] is True
    assert seen["count"] == 1 and d.exec_count == 1
    assert seen["exe"] == os.path.realpath(dest) == os.path.realpath(d.exe)
    assert seen["bps"] == 0
    assert os.path.realpath(dest) in seen["maps"]
    assert os.path.realpath(target("mp_exec")) not in seen["maps"]
    assert seen["at_stale"] == b"\x90" * 16
    assert seen["at_entry"] == elf_bytes_at(dest, entry, 16)
    assert stale.hit_count == 0


def test_breakpoints_on_the_new_image_work_after_exec(launch, target):
    dest = target("mp_exec_target")
    d = launch("mp_exec", dest)
    d.run(redirect_pipes=False)
    made = {}
    marks = []

    def on_exec(dbg):
        # Symbols are those of the new image: t1 does not exist in mp_exec.
        made["sync"] = dbg.breakpoint("t1", file="binary")
        made["async"] = dbg.breakpoint("target_mark", file="binary",
                                       callback=lambda t, b: marks.append(t.tid))

    d.on_exec(on_exec)
    d.cont()
    d.wait()
    assert not d.dead
    assert made["sync"].hit_on(d)
    assert d.regs.rip == made["sync"].address
    d.cont()
    d.wait()
    assert d.exit_code == 12
    assert marks == [d.pid]


def test_exec_frees_hardware_breakpoint_slots(launch, target):
    # docs/edge-cases.md §8c: exec clears the debug registers. f1..f4 of mp_exec lie
    # in mp_exec_target's nop sled, so stale slots would fire there.
    dest = target("mp_exec_target")
    d = launch("mp_exec", dest)
    d.run(redirect_pipes=False)
    old = [d.breakpoint(f"f{i}", hardware=True, file="binary") for i in range(1, 5)]
    hits = []
    errors = []

    def on_exec(dbg):
        try:
            for i in range(1, 5):
                dbg.breakpoint(f"t{i}", hardware=True, file="binary",
                               callback=lambda t, b, i=i: hits.append(i))
        except Exception as exc:  # e.g. "no free debug register"
            errors.append(exc)

    d.on_exec(on_exec)
    d.cont()
    d.wait()
    assert errors == []
    assert d.exit_code == 12
    assert hits == [1, 2, 3, 4]
    assert [b.hit_count for b in old] == [0, 0, 0, 0]


# --- exec from a thread (docs/edge-cases.md §12, §13) ------------------------------------------

def test_exec_from_a_non_leader_thread(launch, capfd):
    d = launch("mp_thread_exec", "one", "/bin/echo", "x")
    d.run(redirect_pipes=False)
    pid = d.pid
    seen = []
    d.on_exec(lambda dbg: seen.append((dbg.pid, live_tids(dbg))))
    d.cont()
    d.wait()
    assert d.dead and d.pid == pid
    assert d.exit_code == 0
    assert capfd.readouterr().out == "x\n"
    assert seen == [(pid, [pid])]  # one thread left, with the leader's tid
    assert d.exec_count == 1


def test_exec_from_a_non_leader_thread_then_stop_in_the_new_image(launch, target):
    dest = target("mp_exec_target")
    d = launch("mp_thread_exec", "one", dest)
    d.run(redirect_pipes=False)
    pid = d.pid
    made = {}
    d.on_exec(lambda dbg: made.setdefault("bp", dbg.breakpoint("target_mark", file="binary")))
    d.cont()
    d.wait()
    assert made["bp"].hit_on(d)
    assert live_tids(d) == [pid]
    assert task_tids(pid) == {pid}
    assert d.regs.rip == made["bp"].address  # the thread's registers work
    d.cont()
    d.wait()
    assert d.exit_code == 12


def test_two_threads_exec_at_the_same_time(launch):
    d = launch("mp_thread_exec", "both", "/bin/true")
    d.run(redirect_pipes=False)
    counts = []
    d.on_exec(lambda dbg: counts.append(len(live_tids(dbg))))
    d.cont()
    d.wait()
    assert d.exit_code == 0
    assert d.exec_count == 1
    assert counts == [1]


# --- exec in a child (docs/edge-cases.md §14) ------------------------------------------------

def test_child_that_execs_first_thing_keeps_its_debugger(launch, target, capfd):
    dest = target("mp_exec_target")
    d = launch("mp_forkexec", dest, "z")
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    execs = []
    d.on_exec(lambda dbg: execs.append(dbg.pid))  # inherited by the child
    d.cont()
    d.wait()
    assert d.exit_code == 52
    c = d.children[0]
    c.wait()
    assert c.exit_code == 12 and c.exit_signal is None
    assert c.exec_count == 1 and d.exec_count == 0
    assert os.path.realpath(c.exe) == os.path.realpath(dest)
    assert execs == [c.pid]
    assert "target says hi z" in capfd.readouterr().out


# --- attach, then every fork and exec (docs/edge-cases.md §3) --------------------------------------

@pytest.mark.timeout(60)
def test_attach_then_no_fork_or_exec_is_missed(target):
    p = subprocess.Popen([target("mp_forkloop")])
    d = debugger(target("mp_forkloop"))
    try:
        time.sleep(0.05)
        d.attach(p.pid)
        forks_before = struct.unpack("<q", d.memory["forks", 8, "binary"])[0]
        execs = []
        d.on_fork(resume)
        d.on_exec(lambda dbg: execs.append(dbg.pid))
        d.cont()
        time.sleep(1.0)  # ~100 fork+exec rounds at 10 ms
        d.interrupt()
        forks_after = struct.unpack("<q", d.memory["forks", 8, "binary"])[0]
        assert struct.unpack("<q", d.memory["bad", 8, "binary"])[0] == 0
        done = forks_after - forks_before
        assert done > 5
        # A child forked just before the interrupt may not be counted yet; one
        # forked just before the attach (the parent stopped on its way out
        # of fork(), before counting it) is counted but was never ours.
        assert done - 1 <= len(d.children) <= done + 1
        for c in d.children:
            c.wait()
        finished = [c for c in d.children if c.dead]
        assert len(finished) >= done - 1
        for c in finished:
            assert c.exit_code == 0
            assert c.exec_count == 1
        assert sorted(execs) == sorted(c.pid for c in finished)
    finally:
        kill_tree(d)
        p.kill()
        p.wait(timeout=5)
