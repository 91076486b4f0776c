"""The pure ptrace state machine (runtime/tracker.py): tables of the corner
cases the runtime handles, and properties over random states.

No process is traced here: Task and Proc are plain data, and the tracker
makes no system call (a test below checks it imports nothing that could)."""
import ast
import pathlib
import signal

import pytest
from hypothesis import given, settings, strategies as st

from tether.config import Settings
from tether.events.decode import EVENT_STOP, Stop, decode_stop, stop_of
from tether.runtime import tracker
from tether.runtime.tracker import ChildPlan, FirstStop, Gate, Route
from tether.state.process import Proc
from tether.state.states import ProcState, TaskState
from tether.state.task import ORIG_RAX_OFFSET, RIP_OFFSET, Task

PID = 1000


def status(sig, event=0):
    """A WIFSTOPPED wait status."""
    return (event << 16) | (sig << 8) | 0x7F


EXITED = stop_of(Stop.EXITED, 0)
KILLED = stop_of(Stop.KILLED, signal.SIGKILL)
TRAP = decode_stop(status(signal.SIGTRAP))
SYSCALL = decode_stop(status(signal.SIGTRAP | 0x80))
SIGUSR1 = decode_stop(status(signal.SIGUSR1))
SIGSTOP_DELIVERY = decode_stop(status(signal.SIGSTOP))
GROUP_STOP = decode_stop(status(signal.SIGSTOP, EVENT_STOP))
INTERRUPT = decode_stop(status(signal.SIGTRAP, EVENT_STOP))
FORK = decode_stop(status(signal.SIGTRAP, 1))
VFORK = decode_stop(status(signal.SIGTRAP, 2))
CLONE = decode_stop(status(signal.SIGTRAP, 3))
EXEC = decode_stop(status(signal.SIGTRAP, 4))
VFORK_DONE = decode_stop(status(signal.SIGTRAP, 5))
EXIT_EVENT = decode_stop(status(signal.SIGTRAP, 6))
SECCOMP = decode_stop(status(signal.SIGTRAP, 7))
# Not a wait status: a write's wait for its turn on an attributed stream
# (runtime/output_turns.py), kept pending like a syscall stop.
OUTPUT_TURN = stop_of(Stop.OUTPUT_TURN)


def make_proc(state=ProcState.RUNNING, threads=1, config=None, pid=PID):
    """A process with `threads` tasks (tids pid, pid+1, ...), all stopped."""
    proc = Proc(pid, config or Settings(), state=state)
    for i in range(threads):
        task = Task(pid + i, proc, TaskState.STOPPED)
        proc.tasks[task.tid] = task
    return proc


def leader(proc):
    return proc.tasks[proc.pid]


# ---------------------------------------------------------------- decoding
def test_statuses_decode_to_the_kinds_the_tracker_routes():
    assert SIGSTOP_DELIVERY.kind is Stop.SIGNAL      # a SIGSTOP on its way: a signal-delivery-stop
    assert GROUP_STOP.kind is Stop.GROUP_STOP        # ... delivered: the job-control stop
    assert INTERRUPT.kind is Stop.INTERRUPT          # PTRACE_INTERRUPT, or a new tracee's first stop
    assert decode_stop(status(signal.SIGTRAP)) is TRAP  # (memoised: one shared value per status)
    assert FORK.needs_message and CLONE.needs_message and EXEC.needs_message
    assert not TRAP.needs_message and not EXITED.needs_message
    assert CLONE.with_message((PID + 1, 1)).message == (PID + 1, 1)


# ---------------------------------------------------------------- routing
ROUTES = [
    # (process state, task state, stepping, step lock held by another, stop) -> route
    (ProcState.RUNNING, TaskState.STOPPED, None, False, TRAP, Route.TRAP),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, SYSCALL, Route.SYSCALL),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, SIGUSR1, Route.SIGNAL),
    # Group-stop vs signal-delivery-stop of the same signal.
    (ProcState.RUNNING, TaskState.STOPPED, None, False, SIGSTOP_DELIVERY, Route.SIGNAL),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, GROUP_STOP, Route.GROUP_STOP),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, INTERRUPT, Route.INTERRUPT),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, FORK, Route.NEW_CHILD),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, VFORK, Route.NEW_CHILD),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, CLONE, Route.NEW_CHILD),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, EXEC, Route.EXEC),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, VFORK_DONE, Route.VFORK_DONE),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, EXIT_EVENT, Route.EXIT_EVENT),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, SECCOMP, Route.OTHER),
    # Deaths first, whatever the state (an exit race: killed while held).
    (ProcState.RUNNING, TaskState.STOPPED, None, False, EXITED, Route.DIED),
    (ProcState.STOPPING, TaskState.STOPPED, None, True, KILLED, Route.DIED),
    (ProcState.RUNNING, TaskState.NEW, None, False, KILLED, Route.DIED),
    # A task announced by its creator's event: its first stop, whatever it is
    # (a SIGSTOP sent to a new child before it first ran is its first stop too).
    (ProcState.RUNNING, TaskState.NEW, None, False, INTERRUPT, Route.FIRST_STOP),
    (ProcState.RUNNING, TaskState.NEW, None, False, SIGSTOP_DELIVERY, Route.FIRST_STOP),
    (ProcState.STOPPING, TaskState.NEW, None, False, TRAP, Route.FIRST_STOP),
    # Being stopped for the user: breakpoint hits, syscalls and signals wait.
    (ProcState.STOPPING, TaskState.STOPPED, None, False, TRAP, Route.HOLD),
    (ProcState.STOPPING, TaskState.STOPPED, None, False, SYSCALL, Route.HOLD),
    (ProcState.STOPPED, TaskState.STOPPED, None, False, SIGUSR1, Route.HOLD),
    # ... but not the end of a step we asked for, nor events or interrupts.
    (ProcState.STOPPING, TaskState.STOPPED, "over", False, TRAP, Route.STEP_DONE),
    (ProcState.STOPPING, TaskState.STOPPED, None, False, INTERRUPT, Route.INTERRUPT),
    (ProcState.STOPPING, TaskState.STOPPED, None, False, CLONE, Route.NEW_CHILD),
    (ProcState.STOPPING, TaskState.STOPPED, None, False, EXEC, Route.EXEC),
    (ProcState.STOPPING, TaskState.STOPPED, None, False, GROUP_STOP, Route.GROUP_STOP),
    # Another thread steps over a lifted int3: this one's hits etc. wait.
    (ProcState.RUNNING, TaskState.STOPPED, None, True, TRAP, Route.HOLD),
    (ProcState.RUNNING, TaskState.STOPPED, None, True, SYSCALL, Route.HOLD),
    (ProcState.RUNNING, TaskState.STOPPED, None, True, SIGUSR1, Route.HOLD),
    (ProcState.RUNNING, TaskState.STOPPED, None, True, INTERRUPT, Route.INTERRUPT),
    (ProcState.RUNNING, TaskState.STOPPED, None, True, EXIT_EVENT, Route.EXIT_EVENT),
    # The single steps: ours over a breakpoint, the user's.
    (ProcState.RUNNING, TaskState.STOPPED, "over", False, TRAP, Route.STEP_DONE),
    (ProcState.STEPPING, TaskState.STOPPED, "user", False, TRAP, Route.STEP_DONE),
    # A signal arriving instead of the step's trap is a signal.
    (ProcState.STEPPING, TaskState.STOPPED, "user", False, SIGUSR1, Route.SIGNAL),
    (ProcState.RUNNING, TaskState.STOPPED, "over", False, SYSCALL, Route.SYSCALL),
    # A write waiting for its turn: handled when its process runs, else kept.
    (ProcState.RUNNING, TaskState.STOPPED, None, False, OUTPUT_TURN, Route.OUTPUT_TURN),
    (ProcState.STOPPING, TaskState.STOPPED, None, False, OUTPUT_TURN, Route.HOLD),
    (ProcState.STOPPED, TaskState.STOPPED, None, False, OUTPUT_TURN, Route.HOLD),
    (ProcState.RUNNING, TaskState.STOPPED, None, True, OUTPUT_TURN, Route.HOLD),
    # In the displaced-step slot: the first stop, whatever it is, takes the
    # thread out of it first (even while held or stopped for the user) ...
    (ProcState.RUNNING, TaskState.STOPPED, tracker.STEP_DISPLACED, False, TRAP, Route.STEP_DONE),
    (ProcState.RUNNING, TaskState.STOPPED, tracker.STEP_DISPLACED, False, SIGUSR1, Route.STEP_DONE),
    (ProcState.STOPPING, TaskState.STOPPED, tracker.STEP_DISPLACED, False, INTERRUPT, Route.STEP_DONE),
    (ProcState.RUNNING, TaskState.STOPPED, tracker.STEP_DISPLACED, True, INTERRUPT, Route.STEP_DONE),
    (ProcState.RUNNING, TaskState.STOPPED, tracker.STEP_DISPLACED, True, TRAP, Route.STEP_DONE),
    (ProcState.RUNNING, TaskState.STOPPED, tracker.STEP_DISPLACED, False, GROUP_STOP, Route.STEP_DONE),
    (ProcState.RUNNING, TaskState.STOPPED, tracker.STEP_DISPLACED, False, EXIT_EVENT, Route.STEP_DONE),
    # ... but its death is its death.
    (ProcState.RUNNING, TaskState.STOPPED, tracker.STEP_DISPLACED, False, KILLED, Route.DIED),
]


@pytest.mark.parametrize("proc_state, task_state, stepping, locked, ev, expected", ROUTES)
def test_route(proc_state, task_state, stepping, locked, ev, expected):
    proc = make_proc(proc_state, threads=2)
    task = leader(proc)
    task.state = task_state
    task.stepping = stepping
    if locked:
        proc.step_lock = proc.tasks[PID + 1]
    assert tracker.route(task, ev) is expected


SECCOMP_ROUTES = [
    # (our filter?, process state, step lock held by another) -> route
    (True, ProcState.RUNNING, False, Route.SYSCALL),    # our filter's stop: a syscall's entry
    (False, ProcState.RUNNING, False, Route.OTHER),     # the program's own filter: resume
    (True, ProcState.STOPPING, False, Route.HOLD),      # kept like a syscall stop
    (True, ProcState.RUNNING, True, Route.HOLD),
    (False, ProcState.STOPPED, False, Route.HOLD),
]


@pytest.mark.parametrize("ours, proc_state, locked, expected", SECCOMP_ROUTES)
def test_route_of_a_seccomp_stop(ours, proc_state, locked, expected):
    proc = make_proc(proc_state, threads=2,
                     config=Settings(syscall_filter=frozenset({59}) if ours else None))
    assert proc.seccomp is ours
    task = leader(proc)
    task.state = TaskState.STOPPED
    if locked:
        proc.step_lock = proc.tasks[PID + 1]
    assert tracker.route(task, SECCOMP) is expected


def test_exec_keeps_the_execing_threads_syscall_so_its_exit_stop_is_asked_for():
    proc = make_proc(threads=3)
    execing = proc.tasks[PID + 2]
    execing.in_syscall, execing.syscall_nr = True, 59
    lead = leader(proc)
    lead.in_syscall, lead.syscall_nr = True, 0     # the leader was blocked in a read
    tracker.exec_vanished(proc, PID + 2)
    assert lead.in_syscall and lead.syscall_nr == 59
    proc = make_proc(threads=1)
    lead = leader(proc)
    lead.in_syscall, lead.syscall_nr = True, 59
    tracker.exec_vanished(proc, PID)
    assert lead.in_syscall and lead.syscall_nr == 59
    tracker.exec_vanished(proc, PID + 7)            # the exec'ing thread is unknown
    assert not lead.in_syscall


def test_the_owner_of_the_step_lock_is_not_held_by_it():
    proc = make_proc(threads=2)
    task = leader(proc)
    proc.step_lock = task
    task.stepping = "over"
    assert tracker.route(task, TRAP) is Route.STEP_DONE
    task.stepping = None  # (waiting for the others to be held)
    assert tracker.route(task, SIGUSR1) is Route.SIGNAL


def test_a_fresh_stop_forgets_the_registers_of_the_previous_one():
    proc = make_proc()
    task = leader(proc)
    task.state = TaskState.RUNNING
    task.use_registers(bytearray(216), changed=True)
    tracker.route(task, SIGUSR1)
    assert task.stopped and task.gpr_cache is None and not task.gpr_changed


def test_a_pending_stop_keeps_what_the_user_changed_while_stopped():
    proc = make_proc()
    task = leader(proc)
    task.use_registers(bytearray(216), changed=True)   # e.g. the user set rip
    assert tracker.route(task, SIGUSR1, False) is Route.SIGNAL
    assert task.gpr_cache is not None and task.gpr_changed


def test_death_reports_keep_the_exit_code_or_signal():
    proc = make_proc()
    task = leader(proc)
    tracker.note_died(task, stop_of(Stop.EXITED, 3))
    assert task.dead and task.exit_code == 3 and task.exit_signal is None
    other = Task(PID + 7, proc, TaskState.RUNNING)
    tracker.note_died(other, stop_of(Stop.KILLED, signal.SIGKILL))
    assert other.dead and other.exit_signal == signal.SIGKILL and other.exit_code is None


# ---------------------------------------------------------------- resuming
GATES = [
    # (process state, task state, stepping, lock by another, pending) -> gate
    (ProcState.RUNNING, TaskState.STOPPED, None, False, None, Gate.RESTART),
    (ProcState.RUNNING, TaskState.RUNNING, None, False, None, Gate.NOTHING),
    (ProcState.RUNNING, TaskState.DEAD, None, False, None, Gate.NOTHING),
    (ProcState.RUNNING, TaskState.LISTENING, None, False, None, Gate.NOTHING),
    (ProcState.RUNNING, TaskState.STOPPED, None, True, None, Gate.HELD),
    (ProcState.RUNNING, TaskState.STOPPED, None, False, SIGUSR1, Gate.PENDING),
    (ProcState.STOPPING, TaskState.STOPPED, None, False, None, Gate.KEEP_STOPPED),
    (ProcState.STOPPED, TaskState.STOPPED, None, False, TRAP, Gate.KEEP_STOPPED),
    # During the user's step only the stepping thread runs.
    (ProcState.STEPPING, TaskState.STOPPED, "user", False, None, Gate.RESTART),
    (ProcState.STEPPING, TaskState.STOPPED, None, False, None, Gate.KEEP_STOPPED),
    # A followed child before its first stop, a child being let go.
    (ProcState.STARTING, TaskState.STOPPED, None, False, None, Gate.STAY),
    (ProcState.DETACHING, TaskState.STOPPED, None, False, None, Gate.STAY),
]


@pytest.mark.parametrize("proc_state, task_state, stepping, locked, pending, expected", GATES)
def test_resume_gate(proc_state, task_state, stepping, locked, pending, expected):
    proc = make_proc(proc_state, threads=2)
    task = leader(proc)
    task.state = task_state
    task.stepping = stepping
    task.pending = pending
    if locked:
        proc.step_lock = proc.tasks[PID + 1]
    assert tracker.resume_gate(task) is expected


@pytest.mark.parametrize("rip, orig_rax, expected", [
    (0x1000, -1, 0x1000),  # stopped by the int3 (or a step, or an interrupt) on it
    (0x1000, 39, None),    # stopped inside a syscall: the call finishes or restarts first
    (0x1000, 0, None),     # (syscall number 0 is read)
    (0x1000, -2, 0x1000),  # (any negative orig_rax: not in a syscall)
    (0x2000, -1, None),    # not on a breakpoint
])
def test_step_over_address(rip, orig_rax, expected):
    gpr = bytearray(216)
    gpr[RIP_OFFSET:RIP_OFFSET + 8] = rip.to_bytes(8, "little")
    gpr[ORIG_RAX_OFFSET:ORIG_RAX_OFFSET + 8] = (orig_rax & (2**64 - 1)).to_bytes(8, "little")
    assert tracker.step_over_address({0x1000: 0x55}, gpr) == expected


def _lock_table():
    # (state of the other thread, its flags) -> may the owner step now?
    return [
        (TaskState.STOPPED, {}, True),
        (TaskState.DEAD, {}, True),
        (TaskState.EXITING, {}, True),
        (TaskState.LISTENING, {}, True),
        (TaskState.RUNNING, {"in_vfork": True}, True),   # blocked in vfork: can't reach the int3
        (TaskState.RUNNING, {}, False),
        (TaskState.NEW, {}, False),                       # its first stop is still to come
    ]


@pytest.mark.parametrize("other_state, flags, ready", _lock_table())
def test_step_lock_ready(other_state, flags, ready):
    proc = make_proc(threads=2)
    owner, other = leader(proc), proc.tasks[PID + 1]
    proc.step_lock = owner
    other.state = other_state
    for name, value in flags.items():
        setattr(other, name, value)
    assert tracker.step_lock_ready(proc) is ready
    owner.stepping = "over"  # already stepping: nothing more to start
    assert tracker.step_lock_ready(proc) is False


def test_step_lock_not_ready_without_an_owner_or_while_it_runs():
    proc = make_proc(threads=2)
    assert not tracker.step_lock_ready(proc)
    proc.step_lock = leader(proc)
    leader(proc).state = TaskState.RUNNING
    assert not tracker.step_lock_ready(proc)


@pytest.mark.parametrize("other_state, flags, done", [
    (TaskState.STOPPED, {}, True),
    (TaskState.RUNNING, {}, False),
    (TaskState.LISTENING, {}, False),   # interrupted out of its job-control stop: wait for that stop
    (TaskState.NEW, {}, False),
    (TaskState.RUNNING, {"in_vfork": True}, True),
    (TaskState.EXITING, {}, True),
    (TaskState.DEAD, {}, True),
])
def test_all_stopped(other_state, flags, done):
    proc = make_proc(ProcState.STOPPING, threads=2)
    other = proc.tasks[PID + 1]
    other.state = other_state
    for name, value in flags.items():
        setattr(other, name, value)
    assert tracker.all_stopped(proc) is done
    proc.state = ProcState.RUNNING   # only an all-stop under way completes
    assert tracker.all_stopped(proc) is False


def test_an_all_stop_interrupts_running_and_listening_threads_only():
    proc = make_proc(threads=5)
    states = [TaskState.RUNNING, TaskState.LISTENING, TaskState.STOPPED, TaskState.EXITING,
              TaskState.RUNNING]
    for task, state in zip(proc.tasks.values(), states):
        task.state = state
    proc.tasks[PID + 4].in_vfork = True
    assert [t.tid for t in tracker.to_interrupt_for_all_stop(proc)] == [PID, PID + 1]


# ---------------------------------------------------------------- births
@pytest.mark.parametrize("kind, makes_thread, seen, expected", [
    (Stop.FORK, 0, None, PID + 5),
    (Stop.FORK, -1, None, PID + 5),    # the fork system call: no clone flags to read
    (Stop.VFORK, -1, PID, PID + 5),
    (Stop.VFORK, 0, None, PID + 5),
    (Stop.FORK, 1, None, PID),         # clone(CLONE_THREAD | SIGCHLD): a thread announced as a fork
    (Stop.CLONE, 1, None, PID),        # CLONE_THREAD
    (Stop.CLONE, 0, None, PID + 5),    # clone() without CLONE_THREAD makes a process
    (Stop.CLONE, -1, PID, PID),        # flags unreadable: /proc's Tgid decides
    (Stop.CLONE, -1, PID + 5, PID + 5),
    (Stop.CLONE, -1, None, PID),       # gone already: only the event kind is left
])
def test_thread_group(kind, makes_thread, seen, expected):
    assert tracker.thread_group(kind, PID, PID + 5, makes_thread, seen) == expected


@pytest.mark.parametrize("follow, mode, detach_on_fork, shared, expected", [
    (True, "parent", False, False, ChildPlan.FOLLOW),
    (True, "parent", False, True, ChildPlan.FOLLOW),
    (True, "child", True, False, ChildPlan.FOLLOW),     # gdb: follow the child, let the parent go
    (True, "parent", True, False, ChildPlan.LET_GO),    # gdb: detach-on-fork in parent mode
    (False, "parent", False, False, ChildPlan.LET_GO),
    (False, "parent", False, True, ChildPlan.HIDE),      # vfork / CLONE_VM child not followed
    (True, "parent", True, True, ChildPlan.HIDE),
])
def test_child_plan(follow, mode, detach_on_fork, shared, expected):
    config = Settings(follow_children=follow, follow_fork_mode=mode, detach_on_fork=detach_on_fork)
    parent = make_proc(config=config)
    assert tracker.child_plan(parent, shared) is expected


def _new_task(proc_state, tid_offset=0, hidden=False):
    proc = make_proc(proc_state)
    proc.hidden = hidden
    task = Task(PID + tid_offset, proc, TaskState.NEW) if tid_offset else leader(proc)
    task.state = TaskState.NEW
    proc.tasks[task.tid] = task
    return task


@pytest.mark.parametrize("proc_state, tid_offset, hidden, ev, plan, pending", [
    (ProcState.STARTING, 0, False, INTERRUPT, FirstStop.REPORT, None),
    # A signal sent right after fork can be the child's first stop: kept for its first resume.
    (ProcState.STARTING, 0, False, SIGSTOP_DELIVERY, FirstStop.REPORT, SIGSTOP_DELIVERY),
    (ProcState.STARTING, 0, False, SIGUSR1, FirstStop.REPORT, SIGUSR1),
    (ProcState.DETACHING, 0, False, INTERRUPT, FirstStop.DETACH, None),
    (ProcState.DETACHING, 0, False, SIGUSR1, FirstStop.DETACH, SIGUSR1),
    (ProcState.RUNNING, 0, True, INTERRUPT, FirstStop.RUN_HIDDEN, None),
    (ProcState.RUNNING, 3, False, INTERRUPT, FirstStop.NEW_THREAD, None),
    (ProcState.STOPPING, 3, False, INTERRUPT, FirstStop.NEW_THREAD, None),
    # Killed before its first stop.
    (ProcState.STARTING, 0, False, KILLED, FirstStop.DIED, None),
    (ProcState.RUNNING, 3, False, EXITED, FirstStop.DIED, None),
])
def test_first_stop(proc_state, tid_offset, hidden, ev, plan, pending):
    task = _new_task(proc_state, tid_offset, hidden)
    assert tracker.first_stop(task, ev) is plan
    assert task.pending == pending
    if plan is not FirstStop.DIED:
        assert task.state is TaskState.STOPPED
    if plan is FirstStop.NEW_THREAD:
        assert task.dr_dirty  # a new thread starts with clear debug registers


def test_detach_passes_on_the_signal_it_would_have_received():
    task = leader(make_proc())
    assert tracker.detach_signal(task) == 0
    task.deliver_signal = signal.SIGUSR2
    assert tracker.detach_signal(task) == signal.SIGUSR2
    task.pending = SIGUSR1          # a signal-delivery-stop seen while held
    assert tracker.detach_signal(task) == signal.SIGUSR1
    task.pending = TRAP             # a held breakpoint hit is not a signal to pass on
    assert tracker.detach_signal(task) == signal.SIGUSR2


# ---------------------------------------------------------------- exec and death
def test_exec_from_a_non_leader_thread():
    proc = make_proc(threads=4)
    execing = proc.tasks[PID + 2]
    execing.options = 0x1234
    lead = leader(proc)
    lead.state = TaskState.EXITING    # the old leader may have reported its exit stop
    lead.pending = SIGUSR1
    lead.stepping = "over"
    lead.in_syscall = True
    gone = tracker.exec_vanished(proc, PID + 2)
    assert sorted(t.tid for t in gone) == [PID + 1, PID + 2, PID + 3]
    assert all(t.dead for t in gone)
    assert list(proc.tasks) == [PID]                  # only the pid is left ...
    assert lead.options == 0x1234                     # ... standing for the thread that exec'd
    assert lead.state is TaskState.STOPPED and lead.pending is None and lead.stepping is None
    assert not lead.in_syscall and lead.dr_dirty      # exec clears the debug registers


def test_exec_from_the_leader_keeps_its_task():
    proc = make_proc(threads=2)
    lead = leader(proc)
    lead.options = 7
    lead.pending = SIGUSR1
    gone = tracker.exec_vanished(proc, PID)
    assert [t.tid for t in gone] == [PID + 1]
    assert lead.options == 7 and lead.pending == SIGUSR1


def test_exit_stops_for_leaders_and_the_death_of_a_process():
    proc = make_proc(threads=1)
    assert tracker.wants_exit_stops(leader(proc))
    proc.tasks[PID + 1] = Task(PID + 1, proc)
    assert tracker.wants_exit_stops(leader(proc))
    assert not tracker.wants_exit_stops(proc.tasks[PID + 1])
    tasks = tracker.process_died(proc)
    assert len(tasks) == 2 and all(t.dead for t in tasks)


# ---------------------------------------------------------------- properties
PROC_STATES = st.sampled_from(list(ProcState))
TASK_STATES = st.sampled_from(list(TaskState))
STOPS = st.sampled_from([EXITED, KILLED, TRAP, SYSCALL, SIGUSR1, SIGSTOP_DELIVERY, GROUP_STOP,
                         INTERRUPT, FORK, VFORK, CLONE, EXEC, VFORK_DONE, EXIT_EVENT, SECCOMP,
                         OUTPUT_TURN])


@st.composite
def situations(draw):
    proc = make_proc(draw(PROC_STATES), threads=draw(st.integers(1, 4)))
    for task in proc.tasks.values():
        task.state = draw(TASK_STATES)
        task.stepping = draw(st.sampled_from([None, "over", "user", tracker.STEP_DISPLACED]))
        task.in_vfork = draw(st.booleans())
        task.pending = draw(st.sampled_from([None, SIGUSR1, TRAP, OUTPUT_TURN]))
    if draw(st.booleans()):
        proc.step_lock = draw(st.sampled_from(list(proc.tasks.values())))
    return proc, draw(st.sampled_from(list(proc.tasks.values())))


@settings(max_examples=400, deadline=None)
@given(situations(), STOPS)
def test_route_is_total_and_consistent(situation, ev):
    proc, task = situation
    r = tracker.route(task, ev)
    if ev.is_exit:
        assert r is Route.DIED
    elif task.state is TaskState.NEW:
        assert r is Route.FIRST_STOP
    elif r is Route.HOLD:
        # Only a signal, a syscall stop or a trap is ever held back.
        assert ev.deferrable
        held_by_lock = proc.step_lock is not None and proc.step_lock is not task
        assert held_by_lock or proc.state in (ProcState.STOPPING, ProcState.STOPPED)
    elif r is Route.STEP_DONE:
        assert task.stepping is not None
        assert ev.kind is Stop.TRAP or task.stepping is tracker.STEP_DISPLACED
    if task.stepping is tracker.STEP_DISPLACED and not ev.is_exit and task.state is not TaskState.NEW:
        assert r is Route.STEP_DONE  # (out of the slot before anything else)


@settings(max_examples=400, deadline=None)
@given(situations())
def test_resume_gate_restarts_only_what_may_run(situation):
    proc, task = situation
    gate = tracker.resume_gate(task)
    if gate is Gate.RESTART:
        assert task.state is TaskState.STOPPED and task.pending is None
        assert proc.step_lock in (None, task)
        assert proc.state is ProcState.RUNNING or (
            proc.state is ProcState.STEPPING and task.stepping is not None)
    if task.state is not TaskState.STOPPED:
        assert gate is Gate.NOTHING


@settings(max_examples=400, deadline=None)
@given(situations())
def test_a_complete_all_stop_leaves_no_thread_able_to_run(situation):
    proc, _ = situation
    if tracker.all_stopped(proc):
        assert proc.state is ProcState.STOPPING
        assert not [t for t in proc.tasks.values()
                    if t.state in (TaskState.RUNNING, TaskState.LISTENING, TaskState.NEW)
                    and not t.in_vfork]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFFFFFF))
def test_every_wait_status_decodes_or_is_rejected_clearly(value):
    try:
        ev = decode_stop(value)
    except ValueError as e:
        assert "unknown ptrace event" in str(e) or "not an exit, a death or a stop" in str(e)
        return
    assert isinstance(ev.kind, Stop)
    task = leader(make_proc())
    assert isinstance(tracker.route(task, ev), Route)


def test_the_tracker_makes_no_system_calls():
    source = pathlib.Path(tracker.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported <= {"enum", "struct", "..arch.amd64.registers", "..events.decode", "..state.states"}, imported
