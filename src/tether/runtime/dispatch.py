"""The one way a stop goes through tether.

    wait status --decode_stop--> StopEvent --tracker.route--> one handler --> Resumer.resume

`dispatch(tid, status)` is called by the tracer thread's loop for every wait
report. The status is decoded once (with the event message for fork, vfork,
clone and exec), the tracker says which handler takes it, and the handler
acts; whether the thread can then be restarted in a single native call is
decided in one place, Resumer.restart. An event kept pending while a thread
was held comes back through `handle` when the thread may go on."""
from .. import _native as native
from ..events.decode import STOP_EXIT_EVENT, STOP_SYSCALL, decode_stop, decoded
from ..ptrace import PTRACE_CONT
from ..state.states import TASK_EXITING
from . import decision_log
from .tracker import (
    ROUTE_DIED,
    ROUTE_EXEC,
    ROUTE_EXIT_EVENT,
    ROUTE_FIRST_STOP,
    ROUTE_GROUP_STOP,
    ROUTE_HOLD,
    ROUTE_INTERRUPT,
    ROUTE_NEW_CHILD,
    ROUTE_OTHER,
    ROUTE_OUTPUT_TURN,
    ROUTE_SIGNAL,
    ROUTE_STEP_DONE,
    ROUTE_SYSCALL,
    ROUTE_TRAP,
    ROUTE_VFORK_DONE,
    route,
)


class Dispatcher:
    def __init__(self, registry, resumer, stops, tree):
        self.registry = registry
        self.resumer = resumer
        self.stops = stops
        self.tree = tree
        # Route -> handler(task, ev), a list indexed by the route's number.
        # One table for fresh and pending stops.
        by_route = {
            ROUTE_DIED: tree.task_died,
            ROUTE_FIRST_STOP: tree.first_stop,
            ROUTE_HOLD: self._hold,
            ROUTE_TRAP: stops.on_trap,
            ROUTE_STEP_DONE: stops.on_step_done,
            ROUTE_SYSCALL: stops.on_syscall,
            ROUTE_SIGNAL: stops.on_signal,
            ROUTE_INTERRUPT: stops.on_interrupt,
            ROUTE_GROUP_STOP: stops.on_group_stop,
            ROUTE_NEW_CHILD: tree.on_new_child,
            ROUTE_EXEC: tree.on_exec,
            ROUTE_VFORK_DONE: tree.on_vfork_done,
            ROUTE_EXIT_EVENT: stops.on_exit_event,
            ROUTE_OTHER: stops.on_other,
            ROUTE_OUTPUT_TURN: stops.output.on_turn,
        }
        self.handlers = [by_route.get(r) for r in range(max(by_route) + 1)]
        self._tasks = registry.tasks   # (the registry's dict, never replaced)

    def dispatch(self, tid: int, status: int) -> None:
        ev = decoded.get(status)
        if ev is None:
            ev = decode_stop(status)
        task = self._tasks.get(tid)
        if task is None:
            self._unknown(tid, ev)
            return
        r = route(task, ev)
        if decision_log.ON:
            decision_log.routed(task, ev, r)
        try:
            self.handlers[r](task, ev)
        except ProcessLookupError:
            self._vanished(task)
        proc = task.proc
        if proc.step_lock is not None:
            self.resumer.check_step_lock(proc)

    def handle_pending(self, task, ev) -> None:
        """Handle stop `ev` that `task` reported while it was held, now that
        it may go on (it has been stopped all along: its registers, maybe
        changed by the user since, are kept)."""
        r = route(task, ev, False)
        if decision_log.ON:
            decision_log.routed(task, ev, r)
        try:
            self.handlers[r](task, ev)
        except ProcessLookupError:
            self._vanished(task)

    def _vanished(self, task) -> None:
        """A ptrace request on `task` failed with ESRCH while its stop was
        being handled: it was killed meanwhile (SIGKILL ends a ptrace-stop
        from outside, docs/edge-cases.md §15). Its death report will come;
        until then it counts as exiting, so no one waits for it to stop or
        reads its registers, and a step-over it held is given up."""
        task.state = TASK_EXITING
        task.pending = None
        task.stepping = None
        proc = task.proc
        if task.step_address is not None:
            address, task.step_address = task.step_address, None
            proc.aspace.rearm(address)   # (other threads may live on)
        if proc.step_lock is task:
            self.resumer.release_step_lock(proc)
        self.resumer.check_all_stopped(proc)

    def _hold(self, task, ev) -> None:
        task.pending = ev
        proc = task.proc
        if ev.kind is STOP_SYSCALL and proc.output_watch is not None:
            # A write's return is recorded now, so that the other writers of
            # the stream need not wait for this process's cont()
            # (docs/edge-cases.md §35).
            self.stops.output.at_held_exit(task)
        if proc.step_lock is not None and proc.step_lock is not task:
            self.resumer.check_step_lock(proc)
        else:
            self.resumer.check_all_stopped(proc)

    def _unknown(self, tid: int, ev) -> None:
        registry = self.registry
        if ev.is_exit:
            registry.take_first_stop(tid)
            registry.gone.pop(tid, None)  # reaped: the tid may be reused from now on
        elif registry.is_gone(tid) or ev.kind is STOP_EXIT_EVENT:
            # A thread we let go of (or that vanished in an exec) still
            # reports a stop, or a thread we never heard of is exiting (its
            # creator was killed before reporting it): let it run to its end.
            # An exit stop left alone would hold the whole group's death for
            # good, since SIGKILL does not end it (docs/edge-cases.md §15).
            registry.take_first_stop(tid)
            try:
                native.ptrace(PTRACE_CONT, tid, 0, 0)
            except OSError:
                pass
        else:
            # The first stop of a new tracee can come before its creator's
            # fork/clone event (docs/edge-cases.md §1): keep it until the event
            # (or until its creator is gone: Tree.let_go_unclaimed, now if we
            # let go of its creator already).
            creator = registry.hold_first_stop(tid, ev)
            if creator is not None and creator not in registry.procs and registry.is_gone(creator):
                self.tree.let_go_unclaimed()
