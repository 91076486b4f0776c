"""End-to-end tests for job control under the debugger (issue 5, SPEC 2.11,
docs/edge-cases.md §17, §18, §19). Target: mp_jobctl.c, whose exit code says whether
the *program* saw the same stops and continues it would see natively.

Semantics assumed: a group-stop of a traced process (SIGSTOP, SIGTSTP...)
is passed on to the program as job control, never reported to the script
as a breakpoint-like stop of its own; the real parent's waitpid(WUNTRACED
/ WCONTINUED) sees exactly what it would see without a debugger.
"""
import os
import signal
import time

import pytest

from procutil import proc_state, resume



def run_mode(launch, mode, follow):
    d = launch("mp_jobctl", mode, follow_children=follow)
    d.run(redirect_pipes=False)
    d.on_fork(resume)
    d.cont()
    d.wait()
    assert d.dead
    for c in d.children:
        c.wait()
    return d


@pytest.mark.parametrize("follow", [True, False])
def test_child_that_stops_itself_is_seen_stopped_once_by_its_parent(launch, capfd, follow):
    # docs/edge-cases.md §18: raise(SIGSTOP) in the child; the parent's
    # waitpid(WUNTRACED) reports one stop with signal 19, then SIGCONT.
    d = run_mode(launch, "selfstop", follow)
    out = capfd.readouterr().out
    assert d.exit_code == 0, out
    assert out.count("stopped sig=") == 1 and "stopped sig=19" in out
    if follow:
        assert d.children[0].exit_code == 0


@pytest.mark.parametrize("follow", [True, False])
def test_sigtstp_with_a_handler_runs_the_handler_and_stops_nobody(launch, capfd, follow):
    # docs/edge-cases.md §18 variant (strace#96).
    d = run_mode(launch, "tstp", follow)
    out = capfd.readouterr().out
    assert d.exit_code == 0, out
    assert "stopped" not in out


@pytest.mark.parametrize("follow", [True, False])
def test_parent_stops_and_continues_its_own_child(launch, capfd, follow):
    # The program SIGSTOPs its ticking child, checks it really stands still,
    # SIGCONTs it, checks it ticks again: exit 0 only if all held.
    d = run_mode(launch, "parentstop", follow)
    assert d.exit_code == 0, capfd.readouterr().out
    if follow:
        assert d.children[0].exit_signal in ("SIGTERM", signal.SIGTERM, int(signal.SIGTERM))


def test_real_parent_sees_no_stop_the_debugger_caused(launch, capfd):
    # docs/edge-cases.md §17: the child is followed from its first instruction; the
    # parent, looping on waitpid(WUNTRACED|WCONTINUED), must see only the exit.
    d = run_mode(launch, "nostop", True)
    out = capfd.readouterr().out
    assert d.exit_code == 0, out
    assert "stopped" not in out and "continued" not in out
    assert "ended status=0" in out


def test_real_parent_sees_no_stop_while_the_child_is_held_by_the_script(launch, capfd):
    # The followed child is held in its first stop by the script for a
    # while: that is a ptrace stop, invisible to waitpid(WUNTRACED).
    d = launch("mp_jobctl", "nostop")
    d.run(redirect_pipes=False)
    d.cont()
    deadline = time.monotonic() + 10
    while not d.children:
        assert time.monotonic() < deadline, "the child never showed up"
        time.sleep(0.005)
    c = d.children[0]
    time.sleep(0.2)
    assert proc_state(c.pid) == "t"
    c.cont()
    d.wait()
    out = capfd.readouterr().out
    assert d.exit_code == 0, out
    assert "stopped" not in out and "continued" not in out


def test_sigcont_from_outside_does_not_resume_a_process_held_at_a_breakpoint(launch):
    # docs/edge-cases.md §19: SIGCONT wakes a group-stopped process as it is sent, but
    # a ptrace stop holds. The SIGUSR1 sent after it is delivered once on cont().
    d = launch("mp_jobctl", "hold")
    d.run(redirect_pipes=False)
    bp = d.breakpoint("hold_here", file="binary")
    d.cont()
    d.wait()
    assert bp.hit_on(d)
    os.kill(d.pid, signal.SIGCONT)
    os.kill(d.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # observe for a while: still held
        assert proc_state(d.pid) == "t"
        assert not d.running
        time.sleep(0.01)
    assert d.regs.rip == bp.address
    d.cont()
    d.wait()
    assert d.exit_code == 11  # 10 + one run of the SIGUSR1 handler
