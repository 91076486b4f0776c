"""The ptrace state machine of tasks and processes, as pure decisions.

Given the state of a Task / Proc (plain data, see tether.state) and a decoded
stop (tether.events.decode.StopEvent), these functions say what the stop
means and what to do: which handler takes it, whether a thread may be
restarted now, whether an all-stop or a held step-over is complete, how a
new task is to be treated, what an exec or a death takes away. They change
only the bookkeeping fields of the objects they are given and make no
system call, so every corner case is unit-tested with tables
(tests/unit/test_tracker.py). The runtime modules act on the answers.

The kernel facts behind each rule are in docs/edge-cases.md."""
import struct
from enum import IntEnum

from ..arch.amd64.registers import ORIG_RAX_OFFSET as _ORIG_RAX
from ..arch.amd64.registers import RIP_OFFSET as _RIP
from ..events.decode import (
    STOP_CLONE,
    STOP_EXEC,
    STOP_EXIT_EVENT,
    STOP_EXITED,
    STOP_FORK,
    STOP_GROUP_STOP,
    STOP_INTERRUPT,
    STOP_OUTPUT_TURN,
    STOP_SECCOMP,
    STOP_SIGNAL,
    STOP_SYSCALL,
    STOP_TRAP,
    STOP_VFORK,
    STOP_VFORK_DONE,
    Stop,
)
from ..state.states import (
    PROC_DETACHING,
    PROC_RUNNING,
    PROC_STARTING,
    PROC_STEPPING,
    PROC_STOPPED,
    PROC_STOPPING,
    TASK_DEAD,
    TASK_EXITING,
    TASK_LISTENING,
    TASK_NEW,
    TASK_RUNNING,
    TASK_STOPPED,
)


class Route(IntEnum):
    """Which handler takes a stop of a known task."""
    DIED = 1         # its death report
    FIRST_STOP = 2   # the first stop of a task announced by its creator's event
    HOLD = 3         # kept in task.pending: its process is being stopped, or held for a step-over
    TRAP = 4         # SIGTRAP: a breakpoint, a hardware debug trap, or a real SIGTRAP
    STEP_DONE = 5    # SIGTRAP ending a single step we asked for
    SYSCALL = 6      # syscall-enter or -exit stop, or a seccomp stop of our filter (an entry)
    SIGNAL = 7       # signal-delivery-stop
    INTERRUPT = 8    # PTRACE_INTERRUPT's stop (or the end of a PTRACE_LISTEN)
    GROUP_STOP = 9   # job-control stop
    NEW_CHILD = 10   # PTRACE_EVENT_FORK / VFORK / CLONE
    EXEC = 11        # PTRACE_EVENT_EXEC
    VFORK_DONE = 12  # PTRACE_EVENT_VFORK_DONE
    EXIT_EVENT = 13  # PTRACE_EVENT_EXIT: about to exit
    OTHER = 14       # the program's own seccomp filter's stops, anything newer: just resume
    OUTPUT_TURN = 15  # a write to an attributed output stream waits for its turn (output_turns.py)


(ROUTE_DIED, ROUTE_FIRST_STOP, ROUTE_HOLD, ROUTE_TRAP, ROUTE_STEP_DONE, ROUTE_SYSCALL,
 ROUTE_SIGNAL, ROUTE_INTERRUPT, ROUTE_GROUP_STOP, ROUTE_NEW_CHILD, ROUTE_EXEC,
 ROUTE_VFORK_DONE, ROUTE_EXIT_EVENT, ROUTE_OTHER, ROUTE_OUTPUT_TURN) = Route  # (as module constants: see state/states.py)

# An 8-byte register out of the register block (3x faster than int.from_bytes
# of a slice, and this runs at every breakpoint hit).
_u64 = struct.Struct("<Q").unpack_from

# Task.stepping of a thread running a breakpoint's instruction in the
# displaced-step slot (runtime/displaced.py).
STEP_DISPLACED = "displaced"

_BY_KIND = {
    STOP_SYSCALL: ROUTE_SYSCALL,
    STOP_SIGNAL: ROUTE_SIGNAL,
    STOP_INTERRUPT: ROUTE_INTERRUPT,
    STOP_GROUP_STOP: ROUTE_GROUP_STOP,
    STOP_FORK: ROUTE_NEW_CHILD,
    STOP_VFORK: ROUTE_NEW_CHILD,
    STOP_CLONE: ROUTE_NEW_CHILD,
    STOP_EXEC: ROUTE_EXEC,
    STOP_VFORK_DONE: ROUTE_VFORK_DONE,
    STOP_EXIT_EVENT: ROUTE_EXIT_EVENT,
    STOP_SECCOMP: ROUTE_OTHER,
    STOP_OUTPUT_TURN: ROUTE_OUTPUT_TURN,
}


def route(task, ev, fresh: bool = True) -> Route:
    """Which handler takes stop `ev` of `task`. Called once per wait report
    (fresh), and again for an event kept pending while the thread was held
    (not fresh: it has been stopped all along, its registers, maybe changed
    by the user since, are kept). A fresh stop takes the state transition:
    the task is in a ptrace-stop we hold, its registers not yet read."""
    if ev.is_exit:
        return ROUTE_DIED
    if task.state is TASK_NEW:
        return ROUTE_FIRST_STOP  # (first_stop below takes the transition)
    if fresh:
        task.state = TASK_STOPPED
        task.gpr_cache = task.xstate_cache = None
        task.gpr_changed = task.xstate_changed = False
        if task.stepping is STEP_DISPLACED:
            # In the displaced-step slot: its first stop, whatever it is,
            # takes it out (Stops.on_step_done) before anything else
            # (docs/edge-cases.md §40).
            return ROUTE_STEP_DONE
    kind = ev.kind
    if ev.deferrable:
        proc = task.proc
        lock = proc.step_lock
        if lock is not None and lock is not task:
            # Another thread steps over a lifted int3: hold this event.
            return ROUTE_HOLD
        if task.stepping is None:
            state = proc.state
            if state is PROC_STOPPING or state is PROC_STOPPED:
                # Seen while stopping the process for the user: keep it for
                # the next resume (a breakpoint hit is reported then).
                return ROUTE_HOLD
            if kind is STOP_TRAP:
                return ROUTE_TRAP
        elif kind is STOP_TRAP:
            return ROUTE_STEP_DONE
        if kind is STOP_SYSCALL or (kind is STOP_SECCOMP and proc.seccomp):
            # Under our filter a seccomp stop is the syscall's entry; a
            # program's own SECCOMP_RET_TRACE (no filter of ours: syscall
            # stops are on) comes after the entry's syscall stop: resume.
            return ROUTE_SYSCALL
    return _BY_KIND.get(kind, ROUTE_OTHER)


def note_died(task, ev) -> None:
    task.state = TASK_DEAD
    if ev.kind is STOP_EXITED:
        task.exit_code = ev.value
    else:
        task.exit_signal = ev.value


# ---------------------------------------------------------------- resuming
class Gate(IntEnum):
    """May a stopped task be restarted now?"""
    NOTHING = 0       # not stopped (or dead): nothing to do
    HELD = 1          # another thread steps over a lifted int3: stay, and see if that step may go
    KEEP_STOPPED = 2  # its process is (being) stopped for the user: stay, and see if the all-stop is done
    STAY = 3          # its process is not running for another reason (starting, detaching...)
    PENDING = 4       # an event it reported while held is handled first
    RESTART = 5



GATE_NOTHING, GATE_HELD, GATE_KEEP_STOPPED, GATE_STAY, GATE_PENDING, GATE_RESTART = Gate  # (as module constants: see state/states.py)

def resume_gate(task) -> Gate:
    """May stopped `task` be restarted now (see Gate)?"""
    if task.state is not TASK_STOPPED:
        return GATE_NOTHING
    proc = task.proc
    lock = proc.step_lock
    state = proc.state
    if lock is None and state is PROC_RUNNING and task.pending is None:
        return GATE_RESTART  # (the common case, first)
    if lock is not None and lock is not task:
        return GATE_HELD
    if state is not PROC_RUNNING and not (state is PROC_STEPPING and task.stepping is not None):
        if state is PROC_STOPPING or state is PROC_STOPPED or state is PROC_STEPPING:
            return GATE_KEEP_STOPPED
        return GATE_STAY
    if task.pending is not None:
        return GATE_PENDING
    return GATE_RESTART


def step_over_address(installed, gpr):
    """The breakpoint address a stopped thread (registers `gpr`) must step
    over before it runs, or None. Resuming a thread whose rip is on one of
    our int3s runs the original instruction instead (the hit was reported
    already), unless the thread is stopped inside a system call: orig_rax is
    the syscall number from the syscall's entry until the return to user
    mode (and -1 for stops from int3, single-step or an interrupt), and then
    the call finishes or restarts (rip moved back by the kernel) before the
    instruction at rip runs, so the int3 must stay to be hit when the thread
    gets there."""
    rip = _u64(gpr, _RIP)[0]
    if rip not in installed or gpr[_ORIG_RAX + 7] < 0x80:  # (orig_rax >= 0: by its sign byte)
        return None
    return rip


def runs(task) -> bool:
    """Is the task running user code (able to reach a breakpoint)?"""
    return not (task.state is TASK_DEAD or task.state is TASK_STOPPED or task.in_vfork
                or task.state is TASK_EXITING or task.state is TASK_LISTENING)


def step_lock_ready(proc) -> bool:
    """Every other thread is held: the owner of the step-over lock may lift
    its int3 and step."""
    owner = proc.step_lock
    if owner is None or owner.state is not TASK_STOPPED or owner.stepping is not None:
        return False
    for t in proc.tasks.values():
        if t is not owner and (runs(t) or t.state is TASK_NEW):
            return False
    return True


def to_interrupt_for_all_stop(proc) -> list:
    """The threads an all-stop must interrupt."""
    return [t for t in proc.tasks.values()
            if (t.state is TASK_RUNNING or t.state is TASK_LISTENING) and not t.in_vfork]


def all_stopped(proc) -> bool:
    """An all-stop under way is complete: every thread that can stop has
    (a thread blocked in vfork, or exiting, cannot and need not)."""
    if proc.state is not PROC_STOPPING:
        return False
    for t in proc.tasks.values():
        if t.state is TASK_DEAD or t.in_vfork or t.state is TASK_EXITING:
            continue
        if t.state is not TASK_STOPPED:
            return False
    return True


def job_stopped(proc) -> bool:
    """The whole process sits in a job-control stop (SIGSTOP, SIGTSTP...):
    every thread that can stop has reported its group-stop and waits in
    PTRACE_LISTEN (docs/edge-cases.md §18). The user sees it stopped."""
    if proc.state is not PROC_RUNNING:
        return False
    waiting = False
    for t in proc.tasks.values():
        if t.state is TASK_DEAD or t.in_vfork or t.state is TASK_EXITING:
            continue
        if t.state is not TASK_LISTENING or not t.group_stopped:
            return False
        waiting = True
    return waiting


# ---------------------------------------------------------------- births
class ChildPlan(IntEnum):
    """What to do with a new process."""
    FOLLOW = 1   # followed (it gets a Debugger)
    HIDE = 2     # not followed but it runs in our memory: traced out of sight
    LET_GO = 3   # not followed: detached at its first stop



PLAN_FOLLOW, PLAN_HIDE, PLAN_LET_GO = ChildPlan  # (as module constants: see state/states.py)

def thread_group(kind: Stop, parent_pid: int, new_tid: int, makes_thread: int, tgid_seen):
    """The thread group of a new task. The CLONE_THREAD flag decides, read
    from the creator's clone/clone3 arguments (makes_thread 1/0), whatever
    event announced it: a legacy clone(CLONE_THREAD | SIGCHLD) thread is
    reported as a fork (docs/edge-cases.md §6). With no flags to read
    (makes_thread -1), a fork or vfork event made a process (the fork and
    vfork system calls); for a clone event `tgid_seen`, the Tgid in /proc,
    decides, and if the task is already gone the event kind is all that is
    left."""
    if makes_thread > 0:
        return parent_pid
    if makes_thread == 0 or kind is not STOP_CLONE:
        return new_tid
    if tgid_seen is not None:
        return tgid_seen
    return parent_pid


def child_plan(parent, shared: bool) -> ChildPlan:
    """What to do with a new process of `parent` (thread_group said it is
    one); `shared`: it runs in `parent`'s memory (vfork, CLONE_VM)."""
    cfg = parent.config
    if cfg.follow_children and not (cfg.follow_fork_mode == "parent" and cfg.detach_on_fork):
        return PLAN_FOLLOW
    # An unfollowed child that runs in our memory (vfork before its exec,
    # clone(CLONE_VM)) would die on our int3s if let go.
    return PLAN_HIDE if shared else PLAN_LET_GO


class FirstStop(IntEnum):
    DIED = 1       # its first report is its death
    DETACH = 2     # a child we let go of
    RUN_HIDDEN = 3  # a child traced out of sight: it runs
    NEW_THREAD = 4  # a new thread: it runs if its process runs
    REPORT = 5      # a followed child: stopped, waiting for its Debugger's cont()



FIRST_DIED, FIRST_DETACH, FIRST_RUN_HIDDEN, FIRST_NEW_THREAD, FIRST_REPORT = FirstStop  # (as module constants: see state/states.py)

def first_stop(task, ev) -> FirstStop:
    """The first stop of a task announced by its creator's event (or the
    creator's event arriving after the new task's first stop). A stop other
    than the usual PTRACE_EVENT_STOP (e.g. a signal sent right after fork)
    is kept to be handled as its first event when it is resumed."""
    if ev.is_exit:
        return FIRST_DIED
    task.state = TASK_STOPPED
    if ev.kind is not STOP_INTERRUPT:
        task.pending = ev
    proc = task.proc
    if proc.state is PROC_DETACHING:
        return FIRST_DETACH
    if proc.hidden:
        return FIRST_RUN_HIDDEN
    if proc.state is PROC_STARTING:
        return FIRST_REPORT
    # A new thread (it gets the process's hardware breakpoints first).
    task.dr_dirty = True
    return FIRST_NEW_THREAD


# ---------------------------------------------------------------- exec and death
def exec_vanished(proc, former_tid: int) -> list:
    """After an exec only the thread that called it is left, under the pid
    as its tid; every other thread is gone without a report we can count on.
    Returns the Tasks that vanished; if the exec came from another thread,
    the leader's Task now stands for that thread and takes its options."""
    task = proc.tasks[proc.pid]
    execing = proc.tasks.get(former_tid)
    if execing is not None and execing is not task:
        task.options = execing.options
    # The Task is the exec'ing thread, inside its execve (its exit stop is to
    # come: under a seccomp filter it is asked for only if its entry was seen).
    in_execve = execing is not None and execing.in_syscall
    nr = execing.syscall_nr if in_execve else task.syscall_nr
    gone = [t for tid, t in proc.tasks.items() if tid != proc.pid]
    for t in gone:
        t.state = TASK_DEAD
        del proc.tasks[t.tid]
    if former_tid != task.tid:
        # The old leader may have reported PTRACE_EVENT_EXIT: the Task is the
        # exec'ing thread now.
        task.pending = None
        task.stepping = None
        task.state = TASK_STOPPED
    task.in_syscall = in_execve
    task.syscall_nr = nr
    task.dr_dirty = True
    return gone


def detach_signal(task) -> int:
    """The signal to pass on when letting `task` go: one it reported while
    held (a signal-delivery-stop not yet handled: untraced, the thread would
    have received it), else the one it was about to be resumed with."""
    if task.pending is not None and task.pending.kind is STOP_SIGNAL:
        return task.pending.value
    return task.deliver_signal


def wants_exit_stops(task) -> bool:
    """Only the leader of a process gets exit stops (see
    tether.ptrace.THREAD_OPTIONS)."""
    return task.tid == task.proc.pid


def process_died(proc) -> list:
    """The leader's death is reported last, after every other thread's
    (the kernel delays reaping a group leader), so the whole process is gone.
    Marks every task dead and returns them."""
    tasks = list(proc.tasks.values())
    for t in tasks:
        t.state = TASK_DEAD
    return tasks
