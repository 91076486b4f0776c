"""The process tree's life: births (fork, vfork, clone), first stops, execs
and deaths of traced threads and processes. Runs only on the tracer thread;
the tracker (tracker.py) decides what each event means, this module does it."""
import os
import sys

from .. import _native as native
from ..arch import arch_of_process
from ..events.decode import STOP_CLONE, STOP_VFORK
from ..events.message import with_event_message
from ..ptrace import (
    BASE_OPTIONS,
    O_EXITKILL,
    O_TRACEEXIT,
    PTRACE_DETACH,
    PTRACE_SETOPTIONS,
    THREAD_OPTIONS,
    thread_group_of,
)
from ..state.address_space import AddressSpace
from ..state.process import Proc
from ..state.states import (
    GONE,
    PROC_DEAD,
    PROC_DETACHED,
    PROC_DETACHING,
    PROC_RUNNING,
    PROC_STARTING,
    PROC_STEPPING,
    PROC_STOPPED,
    PROC_STOPPING,
    TASK_NEW,
)
from ..state.task import Task
from . import decision_log, tracker
from .listener import callback_raised, thread_context
from .registry import UNKNOWN_START, start_ticks
from .tracker import (
    FIRST_DETACH,
    FIRST_DIED,
    FIRST_REPORT,
    FIRST_RUN_HIDDEN,
    PLAN_FOLLOW,
    PLAN_HIDE,
    PLAN_LET_GO,
)

_PLAN_TEXT = {PLAN_FOLLOW: "followed", PLAN_HIDE: "traced out of sight until it execs (it shares "
              "the parent's memory)", PLAN_LET_GO: "let go (not followed)"}


# SIGCHLD's si_code for a child that ended (CLD_EXITED, CLD_KILLED,
# CLD_DUMPED), not one that stopped or continued.
_CHILD_ENDED = frozenset((1, 2, 3))


class Tree:
    def __init__(self, registry, resumer, detach):
        self.registry = registry
        self.resumer = resumer
        self.detach = detach  # the session's: lets a stopped process go

    # ------------------------------------------------------------------ births
    def on_new_child(self, parent_task, ev) -> None:
        """PTRACE_EVENT_FORK / VFORK / CLONE of `parent_task`, with its event
        message (events/message.py): (new tid, makes_thread), or None if the
        new task is gone already."""
        ev = with_event_message(parent_task.tid, ev)
        registry = self.registry
        parent = parent_task.proc
        if ev.message is None:
            self.resumer.resume(parent_task)
            return
        new_tid, makes_thread = ev.message
        kind = ev.kind
        tgid = tracker.thread_group(kind, parent.pid, new_tid, makes_thread,
                                    thread_group_of(new_tid)
                                    if makes_thread < 0 and kind is STOP_CLONE else None)
        if tgid == parent.pid:  # a new thread
            task = Task(new_tid, parent, TASK_NEW)
            task.options = parent_task.options  # auto-attached tasks inherit their creator's options
            registry.add(task)
            if parent_task.tid == parent.pid and not parent_task.options & O_TRACEEXIT:
                # Its first other thread (if it is the only one that can
                # make one): the leader needs its exit stop from now on.
                self.set_role_options(parent_task)
        else:  # a new process
            shared = kind is STOP_VFORK or native.same_vm(parent.pid, new_tid)
            plan = tracker.child_plan(parent, shared)
            child = Proc(new_tid, parent.config.for_child(), parent=parent,
                         aspace=parent.aspace if shared else None, arch=parent.arch)
            if not shared:
                # fork copied our int3s into the child: put the original bytes
                # back before it runs one instruction (blank slate, docs/edge-cases.md §7).
                parent.aspace.scrub_copy(child.mem)
            if kind is STOP_VFORK:
                parent_task.in_vfork = True
            registry.note_seen(new_tid)
            task = Task(new_tid, child, TASK_NEW)
            task.options = parent_task.options
            registry.add(task)
            registry.procs[new_tid] = child
            child.inherit_hooks_from(parent)
            if decision_log.LIFE_ON:
                decision_log.lifecycle(new_tid, "born (%s of %d): %s", kind.name.lower(), parent.pid,
                                       _PLAN_TEXT[plan])
            if plan is PLAN_FOLLOW:
                self._follow(parent, child, kind)
            elif plan is PLAN_HIDE:
                # Traced out of sight, stepped over our int3s, until it execs
                # (then it is let go) or exits.
                child.set_state(PROC_RUNNING)
                child.hidden = True
            else:
                child.set_state(PROC_DETACHING)
        early = registry.take_first_stop(new_tid)
        if early is not None:
            self.first_stop(task, early)
        self.resumer.resume(parent_task)
        if parent.detach_when_stopped and parent.state is PROC_RUNNING:
            self.resumer.stop_process(parent)

    def _follow(self, parent, child, kind) -> None:
        cfg = parent.config
        child.set_state(PROC_STARTING)
        child.vfork_parent_of = parent if kind is STOP_VFORK else None
        parent.children.append(child)
        if parent.listener is not None:
            parent.listener.child_followed(child)
            if cfg.inherit_stopping_events or cfg.follow_fork_mode == "child":
                child.inherit_events_pending = True
        if cfg.follow_fork_mode == "child" and cfg.detach_on_fork:
            # gdb's follow-fork-mode child + detach-on-fork on: the parent
            # goes free once it is stopped.
            parent.detach_when_stopped = True

    def first_stop(self, task, ev) -> None:
        plan = tracker.first_stop(task, ev)
        if plan is FIRST_DIED:
            self.task_died(task, ev)
            return
        proc = task.proc
        if plan is FIRST_DETACH:
            # (no options to set: it is let go now, with one call)
            self.detach_new_child(task)
            return
        self.set_role_options(task)
        if plan is FIRST_RUN_HIDDEN:
            self.resumer.resume(task)
        elif plan is FIRST_REPORT:
            proc.set_state(PROC_STOPPED)
            proc.last_task = task
            task.stop_reason = "fork"
            parent = proc.parent
            if proc.inherit_events_pending and parent.listener is not None:
                proc.inherit_events_pending = False
                proc.listener.inherit_events_from(parent)
            for hook in proc.hooks["fork"]:
                self.run_hook(parent, hook, parent.debugger, proc.debugger)
            if proc.stop_when_started:
                proc.stop_when_started = False
                if proc.state is PROC_RUNNING or proc.state is PROC_STEPPING:
                    self.resumer.stop_process(proc)
        else:  # a new thread
            if proc.hooks["thread"]:
                for hook in proc.hooks["thread"]:
                    self.run_hook(proc, hook, proc.debugger, thread_context(task))
            self.resumer.resume(task)
            if proc.state is PROC_STOPPING:
                self.resumer.check_all_stopped(proc)

    @staticmethod
    def set_role_options(task) -> None:
        """The leader of a process gets PTRACE_O_TRACEEXIT, no other thread
        does (see THREAD_OPTIONS). Options are inherited from
        the creating thread, so they are set again on a new thread or process
        at its first stop, on a leader making its first other thread, and on
        the thread that exec'd (the only one left)."""
        want = (BASE_OPTIONS if tracker.wants_exit_stops(task) else THREAD_OPTIONS) \
            | (task.options & O_EXITKILL)
        if want == task.options:
            return
        try:
            native.ptrace(PTRACE_SETOPTIONS, task.tid, 0, want)
        except OSError:
            return  # gone: its death report follows
        task.options = want

    def let_go_unclaimed(self) -> None:
        """New tracees whose creator died or was let go before reporting
        them wait in their first stop, and no event will ever claim them:
        they go on untraced, as they would have without us. (The sweep runs
        when a traced process ends or is let go; a child reported in the
        moment between its creator's fork and that sweep is claimed by its
        event as usual.)"""
        registry = self.registry
        for tid in registry.unclaimed_births():
            registry.take_first_stop(tid)
            try:
                native.ptrace(PTRACE_DETACH, tid, 0, 0)
            except OSError:
                pass

    def detach_new_child(self, task) -> None:
        proc = task.proc
        try:
            native.ptrace(PTRACE_DETACH, task.tid, 0, tracker.detach_signal(task))
        except OSError:
            pass
        proc.set_state(PROC_DETACHED)
        self.registry.forget(proc)

    def check_untraced_child(self, task) -> None:
        """A SIGCHLD about a child we never heard of: it was created with
        CLONE_UNTRACED, which the kernel reports to no tracer (docs/edge-cases.md §28).
        We can't follow it any more (it has changed state already); say so."""
        registry = self.registry
        try:
            _, code, child_pid, _ = native.getsiginfo(task.tid)
        except OSError:
            return
        if child_pid <= 0 or code <= 0 or child_pid in registry.procs:
            return
        # Set lookups first: every child we let go of ends with a SIGCHLD
        # here (is_gone reads /proc, and the children list grows with every fork).
        if child_pid in registry.seen_pids:
            if code in _CHILD_ENDED:
                # It is dead: its ids need no keeping (our tables stay as
                # small as the number of live processes, docs/edge-cases.md §38).
                registry.child_ended(child_pid)
            return
        if child_pid in registry.reported_untraced or registry.is_gone(child_pid):
            return
        known = any(c.pid == child_pid for c in task.proc.children)
        started = start_ticks(child_pid)
        if known or started <= task.proc.traced_since \
                or (task.proc.attached and started == UNKNOWN_START):
            # Known, or born before we attached (not ours to see; a child of
            # an attached process that is gone already can't be told).
            return
        registry.note_untraced(child_pid)
        import warnings
        message = (f"tether: untraced child {child_pid} of process {task.proc.pid}: it was created "
                   "with CLONE_UNTRACED, which hides it from every tracer")
        print(message, file=sys.stderr, flush=True)
        warnings.warn(message, RuntimeWarning, stacklevel=1)

    # ------------------------------------------------------------------ exec
    def on_exec(self, task, ev) -> None:
        """PTRACE_EVENT_EXEC, with its event message (events/message.py): the
        tid that called execve (it now has the pid as its tid)."""
        ev = with_event_message(task.tid, ev)
        proc = task.proc
        if proc.hidden:
            # Its own address space now: nothing of ours left in it.
            proc.aspace = AddressSpace(proc.mem)
            proc.set_state(PROC_STOPPED)
            self.detach(proc)
            return
        former = ev.message if ev.message is not None else task.tid
        for gone in tracker.exec_vanished(proc, former):
            self.registry.forget_task(gone.tid, let_go=True)
        self.set_role_options(task)
        proc.exec_count += 1
        if decision_log.LIFE_ON:
            decision_log.lifecycle(proc.pid, "exec'd a new program (exec #%d)", proc.exec_count)
        # The new program may be of another architecture (a 64-bit process
        # exec'ing a 32-bit one, or back): asked of its ELF header, and the
        # syscall numbers follow (docs/edge-cases.md §36).
        arch = arch_of_process(proc.pid)
        if arch is not proc.arch:
            renumber_syscalls(proc, arch)
        proc.mem.reopen()
        # The old image and its int3s are gone: drop everything address-based.
        proc.aspace = AddressSpace(proc.mem)
        proc.breakpoints.clear()
        proc.internal_breakpoints.clear()
        proc.hw_slots = [None, None, None, None]
        proc.vfork_parent_of = None
        if proc.listener is not None:
            proc.listener.image_replaced()
        for hook in proc.hooks["exec"]:
            self.run_hook(proc, hook, proc.debugger)
        self.resumer.resume(task)

    def on_vfork_done(self, task, ev) -> None:
        """The vfork child exec'd or exited: its parent runs again."""
        task.in_vfork = False
        self.resumer.resume(task)

    # ------------------------------------------------------------------ deaths
    def task_died(self, task, ev) -> None:
        tracker.note_died(task, ev)
        proc = task.proc
        registry = self.registry
        registry.tasks.pop(task.tid, None)
        if proc.step_lock is task:
            self.resumer.release_step_lock(proc)
        if proc.aspace.slot_owner is task or proc.aspace.slot_waiting:
            self.resumer.displacer.abandon(task)  # (the threads waiting for its slot go on)
        if task.tid != proc.pid:
            proc.tasks.pop(task.tid, None)
            if proc.listener is not None:
                proc.listener.thread_ended(task)
            if proc.hooks["thread_exit"]:
                for hook in proc.hooks["thread_exit"]:
                    self.run_hook(proc, hook, proc.debugger, thread_context(task))
            # A thread ends without an exit stop (THREAD_OPTIONS): its death
            # may be what an all-stop or a held step-over was waiting for.
            if proc.step_lock is not None:
                self.resumer.check_step_lock(proc)
            if proc.state is PROC_STOPPING:
                self.resumer.check_all_stopped(proc)
            return
        for other in tracker.process_died(proc):
            registry.tasks.pop(other.tid, None)
        proc.set_state(PROC_DEAD)
        proc.exit_code = task.exit_code
        proc.exit_signal = task.exit_signal
        if decision_log.LIFE_ON:
            if task.exit_signal is None:
                decision_log.lifecycle(proc.pid, "exited with code %s", task.exit_code)
            else:
                decision_log.lifecycle(proc.pid, "killed by signal %d", task.exit_signal)
        proc.mem.close()
        registry.procs.pop(proc.pid, None)
        if registry.early:
            # Killed between creating a process and reporting the fork?
            self.let_go_unclaimed()
        # Only processes whose real parent (a tracee) died can be ours to reap;
        # an attached process's parent is someone else, who will reap it.
        if proc.parent is not None and proc.parent.state is PROC_DEAD:
            reap_orphan(proc.pid)
        for child in proc.children:
            if child.state is PROC_DEAD:
                reap_orphan(child.pid)
        for hook in proc.hooks["exit"]:
            self.run_hook(proc, hook, proc.debugger)

    def run_hook(self, proc, hook, *args) -> None:
        proc.in_callback += 1
        try:
            hook(*args)
        except Exception as e:
            callback_raised(proc, e, "a lifecycle callback")
            if proc.state not in GONE:
                self.resumer.stop_process(proc)  # as for a stop's callback (stops.py)
        finally:
            proc.in_callback -= 1


def renumber_syscalls(proc, arch) -> None:
    """`proc` now runs a program of architecture `arch`: its syscall
    handlers, hijacks and pprint filters, kept across exec, follow their
    syscalls' names into the new table (write is 1 on x86-64, 4 on i386).
    A handler whose call (or hijack target) the new table lacks is put
    aside (`proc.dormant_syscalls`), and comes back at an exec into a
    program that has it."""
    old = proc.arch

    def renumber(nr):
        try:
            return arch.syscall_number(old.syscall_name(nr))
        except ValueError:
            return None
    # (handler, name of its hijack target or None), the put-aside ones too
    entries = [(h, None if h.hijack_to is None else old.syscall_name(h.hijack_to))
               for h in proc.syscall_handlers.values()] + list(proc.dormant_syscalls)
    handlers, dormant = {}, []
    table = arch.syscalls.SYSCALL_NUMBERS
    for handler, target in entries:
        if handler.syscall_name not in table or (target is not None and target not in table):
            dormant.append((handler, target))
            continue
        handler.syscall_number = table[handler.syscall_name]
        if target is not None:
            handler.hijack_to = table[target]
        handlers[handler.syscall_number] = handler
    proc.syscall_handlers = handlers
    proc.dormant_syscalls = tuple(dormant)
    for task in proc.tasks.values():
        if task.in_syscall and task.syscall_nr is not None:
            # Its execve returns in the new program: the exit stop is matched
            # against the new numbers.
            nr = renumber(task.syscall_nr)
            task.syscall_nr = task.syscall_nr if nr is None else nr
    for name in ("pprint_only", "pprint_hidden"):
        numbers = getattr(proc, name)
        if numbers is not None:
            setattr(proc, name, {n for n in map(renumber, numbers) if n is not None})
    proc.arch = arch


def reap_orphan(pid: int) -> None:
    """A dead tracee whose parent died before it: reap it if it was
    reparented to the script's process (when that is a pid namespace's init,
    or a child subreaper by its own choice), or it stays a zombie for good.
    Elsewhere it is not our child, and its new parent reaps it (§26)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass

