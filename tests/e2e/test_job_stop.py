"""A tracee that stops itself by job control (SIGSTOP, SIGTSTP without a
handler) is a stop the script can see and end (issue 17, item 5;
docs/edge-cases.md §18). Target: job_stop.c, which raise()s the signal
with N spinning threads, then prints "after" and exits 3 once continued."""
import os
import signal

import pytest

from procutil import proc_state, wait_for


def _stopped_by_job_control(d, io):
    d.cont()
    d.wait(timeout=20)
    assert d.job_stopped and not d.running and not d.dead
    assert io.recvline(timeout=10) == b"before"


@pytest.mark.timeout(60)
# (SIGSTOP only: the kernel discards SIGTSTP, SIGTTIN and SIGTTOU sent to a
# process whose process group is orphaned, as a test run without a shell
# parent may be; the TSTP path is the same group-stop as SIGSTOP's.)
@pytest.mark.parametrize("threads,sig", [(0, "STOP"), (3, "STOP"), (8, "STOP")])
def test_wait_returns_at_a_job_stop_and_cont_continues_it(launch, threads, sig):
    d = launch("job_stop", threads, sig)
    io = d.run()
    _stopped_by_job_control(d, io)
    # Every thread is readable: the main one sits in raise().
    assert len(d.threads) == threads + 1
    assert all(isinstance(t.regs.rip, int) for t in d.threads)
    assert proc_state(d.pid) == "t"
    d.cont()
    d.wait(timeout=20)
    assert d.dead and d.exit_code == 3
    assert io.recvline(timeout=10) == b"after"


@pytest.mark.timeout(60)
def test_wait_again_without_cont_returns_at_once(launch):
    d = launch("job_stop", 1)
    io = d.run()
    _stopped_by_job_control(d, io)
    d.wait(timeout=5)   # still stopped: nothing to wait for
    assert d.job_stopped
    d.cont()
    d.wait(timeout=20)
    assert d.exit_code == 3


@pytest.mark.timeout(60)
def test_sigcont_from_outside_ends_the_job_stop_as_without_a_debugger(launch):
    # Nothing read, nothing resumed by the script: the threads wait in the
    # kernel's group-stop, so anyone's SIGCONT continues the program.
    d = launch("job_stop", 2)
    io = d.run()
    _stopped_by_job_control(d, io)
    os.kill(d.pid, signal.SIGCONT)
    # (wait() would return at once until tether has seen the continue.)
    wait_for(lambda: not d.job_stopped, what="the end of the job stop")
    d.wait(timeout=20)
    assert d.dead and d.exit_code == 3
    assert io.recvline(timeout=10) == b"after"


@pytest.mark.timeout(60)
def test_breakpoint_after_the_job_stop_is_hit_once_continued(launch):
    d = launch("job_stop", 2)
    io = d.run()
    bp = d.breakpoint("stopped_here")
    _stopped_by_job_control(d, io)
    assert bp.hit_count == 0
    d.cont()
    d.wait(timeout=20)
    assert not d.job_stopped and bp.hit_count == 1 and d.regs.rip == bp.address
    d.cont()
    d.wait(timeout=20)
    assert d.exit_code == 3


@pytest.mark.timeout(60)
def test_kill_of_a_job_stopped_process(launch):
    d = launch("job_stop", 2)
    io = d.run()
    _stopped_by_job_control(d, io)
    d.kill()
    assert d.dead and d.exit_signal == "SIGKILL"


@pytest.mark.timeout(60)
def test_detach_leaves_a_job_stopped_process_stopped_until_sigcont(launch):
    d = launch("job_stop", 1)
    io = d.run()
    _stopped_by_job_control(d, io)
    d.regs.rip  # (its threads are now in a ptrace-stop, not only the group-stop)
    pid = d.pid
    d.detach()
    # Untraced now, and still stopped by job control, as it would be.
    wait_for(lambda: proc_state(pid) == "T", what="a job-stopped process")
    os.kill(pid, signal.SIGCONT)
    wait_for(lambda: proc_state(pid) in ("Z", None), what="its exit")
    assert io.recvline(timeout=10) == b"after"
