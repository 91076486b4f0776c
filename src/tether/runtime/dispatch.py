"""The one way a stop goes through tether.

    wait status --decode_stop--> StopEvent --tracker.route--> one handler --> Resumer.resume

`dispatch(tid, status)` is called by the tracer thread's loop for every wait
report. The status is decoded once (with the event message for fork, vfork,
clone and exec), the tracker says which handler takes it, and the handler
acts; whether the thread can then be restarted in a single native call is
decided in one place, Resumer.restart. An event kept pending while a thread
was held comes back through `handle` when the thread may go on."""
from .. import _native as native
from ..events.decode import Stop, decode_stop
from ..ptrace import PTRACE_CONT
from ..state.states import TaskState
from . import tracker
from .tracker import Route


class Dispatcher:
    def __init__(self, registry, resumer, stops, tree):
        self.registry = registry
        self.resumer = resumer
        self.stops = stops
        self.tree = tree
        self._by_route = {
            Route.TRAP: stops.on_trap,
            Route.STEP_DONE: stops.on_step_done,
            Route.SYSCALL: stops.on_syscall,
            Route.INTERRUPT: stops.on_interrupt,
            Route.GROUP_STOP: stops.on_group_stop,
            Route.EXIT_EVENT: stops.on_exit_event,
            Route.VFORK_DONE: tree.on_vfork_done,
            Route.OTHER: stops.on_other,
        }

    def dispatch(self, tid: int, status: int) -> None:
        ev = decode_stop(status)
        if ev.needs_message:
            ev = _with_message(tid, ev)
        task = self.registry.tasks.get(tid)
        if task is None:
            self._unknown(tid, ev)
            return
        if not ev.is_exit and task.state is not TaskState.NEW:
            tracker.note_stopped(task)
        self.handle(task, ev)
        proc = task.proc
        if proc.step_lock is not None:
            self.resumer.check_step_lock(proc)

    def handle(self, task, ev) -> None:
        """Hand stop `ev` of `task` to its handler (also for an event that
        was kept pending: then the task has been stopped all along)."""
        r = tracker.route(task, ev)
        handler = self._by_route.get(r)
        if handler is not None:
            handler(task)
        elif r is Route.SIGNAL:
            self.stops.on_signal(task, ev.value)
        elif r is Route.HOLD:
            task.pending = ev
            proc = task.proc
            if proc.step_lock is not None and proc.step_lock is not task:
                self.resumer.check_step_lock(proc)
            else:
                self.resumer.check_all_stopped(proc)
        elif r is Route.NEW_CHILD:
            self.tree.on_new_child(task, ev)
        elif r is Route.EXEC:
            self.tree.on_exec(task, ev)
        elif r is Route.FIRST_STOP:
            self.tree.first_stop(task, ev)
        else:  # Route.DIED
            self.tree.task_died(task, ev)

    def _unknown(self, tid: int, ev) -> None:
        registry = self.registry
        if ev.is_exit:
            registry.early.pop(tid, None)
            registry.gone.pop(tid, None)  # reaped: the tid may be reused from now on
        elif registry.is_gone(tid):
            # A thread we let go of (or that vanished in an exec) still
            # reports a stop: let it run to its end.
            try:
                native.ptrace(PTRACE_CONT, tid, 0, 0)
            except OSError:
                pass
        else:
            # The first stop of a new tracee can come before its creator's
            # fork/clone event (docs/edge-cases.md §1): keep it until the event.
            registry.early[tid] = ev


def _with_message(tid: int, ev):
    """The event message of a fork/vfork/clone stop (new tid, and whether a
    clone made a thread: 1, 0, or -1 if its flags could not be read) or of an
    exec stop (the tid that called execve). None if it can't be read."""
    try:
        if ev.kind is Stop.CLONE:
            return ev.with_message(native.clone_event(tid))
        if ev.kind is Stop.EXEC:
            return ev.with_message(native.geteventmsg(tid))
        return ev.with_message((native.geteventmsg(tid), 0))
    except OSError:
        return ev.with_message(None)
