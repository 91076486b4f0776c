"""Breakpoints on consecutive instructions (issue 23): a breakpoint reached
by the internal single step over another breakpoint is a hit like any other.

Target: adjacent_bps.c. loop(n) runs n iterations of three labelled
instructions that the step-over emulator does not handle (add, xor, lea), so
stepping over one breakpoint lands the thread on the next one's address.
straight() has no branches and is called 7 times. The oracles are
independent of tether: gdb's own hit counts, and objdump's list of
straight()'s instructions."""
import re
import shutil
import subprocess

import pytest

from tether import debugger
from procutil import load_base, nm_offsets, shutdown

LABELS = ("adj_first", "adj_second", "adj_third")
CALLS = 7


def gdb_hit_counts(path, n, tmp_path):
    """How often gdb reports each breakpoint on LABELS hit in `path n`."""
    script = []
    for label in LABELS:
        script += [f"break *{label}", "commands", "silent", "continue", "end"]
    script += ["run", "info breakpoints"]
    commands = tmp_path / "hits.gdb"
    commands.write_text("\n".join(script) + "\n")
    out = subprocess.run(["gdb", "-nx", "-batch", "-q", "-x", str(commands), "--args", path, str(n)],
                         capture_output=True, text=True, timeout=120).stdout
    counts = [int(m) for m in re.findall(r"breakpoint already hit (\d+) time", out)]
    assert len(counts) == len(LABELS), out
    return dict(zip(LABELS, counts))


def instructions_of(path, function):
    """Offsets of every instruction of `function`, from objdump."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True,
                         text=True, check=True).stdout
    body = out.split(f"<{function}>:\n", 1)[1].split("\n\n", 1)[0]
    return [int(line.split(":")[0], 16) for line in body.splitlines() if line.strip()]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("with_callback", [True, False])
def test_consecutive_breakpoints_in_a_loop_match_gdb(target, tmp_path, with_callback):
    if shutil.which("gdb") is None:
        pytest.fail("gdb is needed as the oracle of this test")
    path = target("adjacent_bps")
    n = 300
    expected = gdb_hit_counts(path, n, tmp_path)
    assert expected == {label: n for label in LABELS}  # (the oracle is sane)
    d = debugger([path, str(n)])
    try:
        d.run()
        nm = nm_offsets(path)
        base = load_base(d.pid, path)
        seen = []
        bps = {}
        for label in LABELS:
            cb = (lambda t, bp: seen.append(bp.address)) if with_callback else None
            bps[label] = d.breakpoint(base + nm[label], callback=cb, file="absolute")
        if with_callback:
            d.cont()
            d.wait()
        else:
            stops = []
            d.cont()
            d.wait()
            while not d.dead:
                stops.append(d.regs.rip)
                d.cont()
                d.wait()
            # Every stop was at one of them, in program order.
            order = [base + nm[label] for label in LABELS]
            assert stops == order * n
        assert d.dead and d.exit_code == 0
        assert {label: bps[label].hit_count for label in LABELS} == expected
        if with_callback:
            assert seen == [base + nm[label] for label in LABELS] * n
    finally:
        shutdown(d)


@pytest.mark.timeout(120)
def test_a_breakpoint_on_every_instruction_reports_every_instruction(target):
    path = target("adjacent_bps")
    offsets = instructions_of(path, "straight")
    assert len(offsets) > 10
    d = debugger([path, "5"])
    try:
        d.run()
        base = load_base(d.pid, path)
        hits = []
        bps = [d.breakpoint(base + off, callback=lambda t, bp: hits.append(bp.address),
                            file="absolute") for off in offsets]
        d.cont()
        d.wait()
        assert d.dead and d.exit_code == 0
        assert [bp.hit_count for bp in bps] == [CALLS] * len(offsets)
        assert hits == [base + off for off in offsets] * CALLS
    finally:
        shutdown(d)
