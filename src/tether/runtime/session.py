"""The process tree: every traced thread and process, their births, execs and
deaths. Runs only on the tracer thread (see tracer.py)."""
import errno
import os
import signal

from .. import _native as native
from ..events.decode import Stop, decode, is_exit
from ..ptrace import (BASE_OPTIONS, O_EXITKILL, PTRACE_CONT, PTRACE_DETACH, PTRACE_INTERRUPT,
                      PTRACE_SEIZE, PTRACE_SETOPTIONS, THREAD_OPTIONS, thread_group_of)
from ..state.address_space import AddressSpace
from ..state.process import Proc
from ..state.task import Task
from . import quiet
from .control import Control

# The wait status of a SIGTRAP signal-delivery-stop (WIFSTOPPED, SIGTRAP, no
# event bits): how a breakpoint hit is reported.
TRAP_STOP = (signal.SIGTRAP << 8) | 0x7F
# A syscall-stop, entry or exit: SIGTRAP | 0x80 thanks to PTRACE_O_TRACESYSGOOD.
SYSCALL_STOP = ((signal.SIGTRAP | 0x80) << 8) | 0x7F


class Session:
    def __init__(self, tracer):
        self.tracer = tracer
        self.tasks: dict = {}      # tid -> Task, every live traced thread
        self.procs: dict = {}      # pid -> Proc, every live traced process
        self.early: dict = {}      # tid -> wait status of a new tracee seen before its creator's event
        # tid -> clock tick (since boot) when we let that thread go (detached,
        # or vanished in an exec). The kernel hands a tid out again once the
        # thread is reaped (pid_max may be only 32768), so an entry only
        # stands for threads born before that tick (see _is_gone).
        self.gone: dict = {}
        self.seen_pids: set = set()  # every process ever traced (for the untraced-child check)
        self.reported_untraced: set = set()
        self.control = Control(self)
        self.printer = None        # the pprint_syscalls printer, set by the facade
        self.changed = False       # a process changed state since the last notify
        Proc.on_state_change = self._mark_changed
        try:
            native.set_child_subreaper()
        except OSError:
            pass

    def _mark_changed(self) -> None:
        self.changed = True

    # ------------------------------------------------------------------ events
    def dispatch(self, tid: int, status: int) -> None:
        task = self.tasks.get(tid)
        if task is not None:
            # The hot events first, each on a short path that declines (having
            # changed nothing) when the stop needs the general handling below.
            if status == TRAP_STOP:
                if self.control.fast_breakpoint(task):
                    return
            elif status == SYSCALL_STOP:
                proc = task.proc
                if proc._state == "running" and proc.step_lock is None \
                        and task.stepping is None and task.pending is None \
                        and not task.awaiting_first_stop:
                    # What the general path below does for such a stop,
                    # without decoding the status.
                    task.stopped = True
                    task.listening = False
                    task._gpr = task._xstate = None
                    task._gpr_dirty = task._xstate_dirty = False
                    self.control.on_syscall(task)
                    if task.proc.step_lock is not None:
                        self.control.check_step_lock(task.proc)
                    return
            elif status == quiet.CLONE_EVENT_STOP:
                if quiet.thread_born(self, task):
                    return
            elif status == quiet.NEW_TASK_STOP:
                if task.awaiting_first_stop and quiet.thread_started(self, task):
                    return
            elif status & 0x7F != 0x7F:  # WIFEXITED or WIFSIGNALED
                if quiet.thread_ended(self, task, status):
                    return
        kind, value = decode(status)
        if task is None:
            if is_exit(kind):
                self.early.pop(tid, None)
                self.gone.pop(tid, None)  # reaped: the tid may be reused from now on
            elif self._is_gone(tid):
                # A thread we let go of (or that vanished in an exec) still
                # reports a stop: let it run to its end.
                try:
                    native.ptrace(PTRACE_CONT, tid, 0, 0)
                except OSError:
                    pass
            else:
                # The first stop of a new tracee can come before its creator's
                # fork/clone event (EDGE_CASES 1): keep it until the event.
                self.early[tid] = status
            return
        if kind is Stop.EXITED or kind is Stop.KILLED:
            self.task_died(task, kind, value)
            return
        task.stopped = True
        task.listening = False
        task._gpr = task._xstate = None   # (Task.forget_registers, inlined: every stop)
        task._gpr_dirty = task._xstate_dirty = False
        proc = task.proc
        if task.awaiting_first_stop:
            self.first_stop(task, kind, value)
        elif kind is Stop.SYSCALL and proc._state == "running" and proc.step_lock is None \
                and task.stepping is None and task.pending is None:
            self.control.on_syscall(task)  # the other hot path: what on_stop would pick
        else:
            self.control.on_stop(task, kind, value)
        if task.proc.step_lock is not None:
            self.control.check_step_lock(task.proc)

    def _is_gone(self, tid: int) -> bool:
        """Is `tid` a thread we let go of? Not if the thread now called so was
        born after we let that one go: it is a new one with a recycled tid
        (e.g. a new tracee whose first stop came before its creator's clone
        event; resumed as a gone thread, it would lose that stop and run one
        byte past the int3 of a breakpoint it hits before the clone event)."""
        let_go_at = self.gone.get(tid)
        if let_go_at is None:
            return False
        started = _start_ticks(tid)
        if let_go_at < started < _UNKNOWN_START:
            del self.gone[tid]
            return False
        return True

    def pump_until(self, predicate, timeout=None, give_up=None) -> None:
        """Handle events on the tracer thread until predicate() holds (used by
        kill, stepping and detach, which must see a process through to an end).
        With a timeout, give_up() is asked every `timeout` seconds whether to
        stop waiting (a wake-up timer interrupts the wait)."""
        import time
        deadline = None if timeout is None else time.monotonic() + timeout
        armed = False
        try:
            while not predicate():
                if deadline is not None and time.monotonic() >= deadline:
                    if give_up is not None and give_up():
                        return
                    deadline = time.monotonic() + timeout
                if deadline is not None and not armed:
                    native.wake_after(max(deadline - time.monotonic(), 1e-6))
                    armed = True
                event = self.tracer.next_event()
                if event is None:
                    armed = False  # woken (by the timer or a caller): re-arm
                    continue
                tid, status = event
                if tid == -1:
                    return
                if tid:
                    self.dispatch(tid, status)
        finally:
            if armed:
                native.wake_after(0)
            self.tracer.notify()

    # ------------------------------------------------------------------ start
    def spawn(self, config, path, argv, env, aslr, pipes) -> Proc:
        """Fork + exec `path` as a tracee of this thread; returns it stopped at
        the first instruction of the new program (its exec stop)."""
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe()
        child_in, child_out, child_err = pipes
        # None: the script's own environment, which spawn reads in C.
        envlist = None if env is None else [f"{k}={v}" for k, v in env.items()]
        try:
            pid, *stack = native.spawn(path, argv, envlist, aslr, child_in, child_out, child_err,
                                       go_r, err_w)
        finally:
            os.close(go_r)
            os.close(err_w)
        options = THREAD_OPTIONS | (O_EXITKILL if config.kill_on_exit else 0)  # one thread so far
        status = None
        try:
            try:
                native.ptrace(PTRACE_SEIZE, pid, 0, options)
            except OSError:
                os.kill(pid, signal.SIGKILL)  # never let it run untraced
                raise
            finally:
                os.write(go_w, b"g")  # the child may exec now
                os.close(go_w)
            _, status = native.wait_pid(pid)
        finally:
            # The child runs on a stack in our memory until its exec or death.
            if status is None:  # an error above: make sure it is gone first
                try:
                    os.kill(pid, signal.SIGKILL)
                    native.wait_pid(pid)
                except OSError:
                    pass
            native.free_stack(*stack)
        failure = os.read(err_r, 4)
        os.close(err_r)
        kind, value = decode(status)
        if kind is not Stop.EXEC:
            if not is_exit(kind):
                os.kill(pid, signal.SIGKILL)
                native.wait_pid(pid)
            if len(failure) == 4:
                code = int.from_bytes(failure, "little")
                raise OSError(code, f"cannot execute {path}: {os.strerror(code)}")
            raise RuntimeError(f"{path} did not start (wait status {status:#x})")
        proc = Proc(pid, config)
        task = Task(pid, proc)
        task.options = options
        task.stopped = True
        proc.tasks[pid] = task
        self.tasks[pid] = task
        self.procs[pid] = proc
        proc.state = "stopped"
        proc.last_task = task
        return proc

    def attach(self, config, pid: int) -> Proc:
        proc = Proc(pid, config)
        proc.state = "stopping"
        proc.traced_since = _uptime_ticks()
        was_stopped = _proc_state(pid) == "T"
        seen = set()
        while True:  # threads may be created while we attach: rescan until stable
            try:
                tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
            except FileNotFoundError:
                raise ValueError(f"process {pid} does not exist") from None
            new = [t for t in tids if t not in seen and t not in proc.tasks]
            if not new:
                break
            for tid in new:
                seen.add(tid)
                try:
                    options = BASE_OPTIONS if tid == pid else THREAD_OPTIONS  # (see THREAD_OPTIONS)
                    native.ptrace(PTRACE_SEIZE, tid, 0, options)
                    native.ptrace(PTRACE_INTERRUPT, tid, 0, 0)
                except OSError as e:
                    if e.errno == errno.ESRCH:
                        continue  # the thread exited meanwhile
                    if e.errno == errno.EPERM and not proc.tasks:
                        raise PermissionError(
                            e.errno, f"not permitted to trace process {pid} (already traced, or "
                            "protected)") from None
                    if e.errno == errno.EPERM:
                        continue  # auto-attached already through its creator's clone event
                    raise
                task = Task(tid, proc)
                task.options = options
                proc.tasks[tid] = task
                self.tasks[tid] = task
        if not proc.tasks:
            raise ValueError(f"process {pid} does not exist")
        self.procs[pid] = proc
        if was_stopped:
            # It was stopped by job control: the user attaching to run it expects
            # it to run on cont() (gdb does the same).
            os.kill(pid, signal.SIGCONT)
        return proc

    # ------------------------------------------------------------------ running
    def resume_process(self, proc) -> None:
        """The user's cont(): every stopped thread of `proc` goes on (or handles
        the event it reported while the process was being stopped)."""
        if proc._state in ("dead", "detached"):
            # It died (e.g. SIGKILL from outside) after the user's thread
            # checked it and before we got here: wait() reports the death.
            return
        proc.state = "running"
        proc.last_task = None
        for t in proc.tasks.values():
            t.stop_reason = None
        for t in list(proc.tasks.values()):
            if t.stopped and not t.dead:
                try:
                    self.control.resume(t)
                except ProcessLookupError:
                    t.stopped = False  # killed meanwhile: its death report follows
                if proc._state != "running":
                    break  # a pending event stopped it again

    def resume_thread(self, task) -> None:
        """Scheduler locking: only this thread goes on."""
        proc = task.proc
        if proc._state in ("dead", "detached"):
            return  # see resume_process
        proc.state = "running"
        proc.last_task = None
        self.control.resume(task)

    # ------------------------------------------------------------------ births
    def on_new_child(self, parent_task, kind) -> None:
        parent = parent_task.proc
        # fork/vfork always make a process; only a clone event needs the
        # thread group to tell a thread from a process (EDGE_CASES 6).
        try:
            if kind is not Stop.CLONE:
                new_tid = tgid = native.geteventmsg(parent_task.tid)
            else:
                new_tid, makes_thread = native.clone_event(parent_task.tid)
        except OSError:
            self.control.resume(parent_task)
            return
        if kind is Stop.CLONE:
            if makes_thread < 0:
                tgid = thread_group_of(new_tid)
            else:
                tgid = parent.pid if makes_thread else new_tid
        if tgid is None:
            # Already gone (killed before its first stop): only the event kind is left to go by.
            tgid = parent.pid if kind is Stop.CLONE else new_tid
        if tgid == parent.pid:
            task = Task(new_tid, parent)
            task.options = parent_task.options  # auto-attached children inherit them
            task.awaiting_first_stop = True
            parent.tasks[new_tid] = task
            self.tasks[new_tid] = task
            if parent_task.tid == parent.pid:
                # Its first other thread (if it is the only one that can
                # make one): the leader needs its exit stop from now on.
                self.set_role_options(parent_task)
        else:
            shared = kind is Stop.VFORK or native.same_vm(parent.pid, new_tid)
            child = Proc(new_tid, parent.config.for_child(), parent=parent,
                         aspace=parent.aspace if shared else None)
            if not shared:
                # fork copied our int3s into the child: put the original bytes
                # back before it runs one instruction (blank slate, EDGE_CASES 7).
                for address, original in parent.aspace.installed.items():
                    try:
                        child.mem.write(address, bytes((original,)))
                    except OSError:
                        pass
            if kind is Stop.VFORK:
                parent_task.in_vfork = True
            self.seen_pids.add(new_tid)
            task = Task(new_tid, child)
            task.options = parent_task.options
            task.awaiting_first_stop = True
            child.tasks[new_tid] = task
            self.tasks[new_tid] = task
            self.procs[new_tid] = child
            child.inherit_hooks_from(parent)
            cfg = parent.config
            follow = cfg.follow_children and not (cfg.follow_fork_mode == "parent" and cfg.detach_on_fork)
            if follow:
                child.state = "starting"
                child.vfork_parent_of = parent if kind is Stop.VFORK else None
                parent.children.append(child)
                if parent.debugger is not None:
                    parent.debugger._adopt_child(child)
                if (cfg.inherit_stopping_events or cfg.follow_fork_mode == "child") \
                        and parent.debugger is not None:
                    child.inherit_events_pending = True
                if cfg.follow_fork_mode == "child" and cfg.detach_on_fork:
                    # gdb's follow-fork-mode child + detach-on-fork on: the
                    # parent goes free once it is stopped.
                    parent.detach_when_stopped = True
            elif shared:
                # An unfollowed child that runs in our memory (vfork before its
                # exec, clone(CLONE_VM)) would die on our int3s if let go. Keep
                # tracing it out of sight, stepping it over them, until it
                # execs (then it is let go) or exits.
                child.state = "running"
                child.hidden = True
            else:
                child.state = "detaching"
        status = self.early.pop(new_tid, None)
        if status is not None:
            task.stopped = True
            self.first_stop(task, *decode(status))
        self.control.resume(parent_task)
        if parent.detach_when_stopped and parent._state == "running":
            self.control.stop_process(parent)
            self.control.check_all_stopped(parent)

    def first_stop(self, task, kind, value) -> None:
        task.awaiting_first_stop = False
        if is_exit(kind):
            self.task_died(task, kind, value)
            return
        self.set_role_options(task)
        if kind is not Stop.INTERRUPT:
            # Something else came first (e.g. a signal sent right after fork,
            # EDGE_CASES 2): handle it as the first event when it is resumed.
            task.pending = (kind, value)
        proc = task.proc
        if proc._state == "detaching":
            self.detach_new_child(task)
        elif proc.hidden:
            self.control.resume(task)
        elif proc._state == "starting":
            proc.state = "stopped"
            proc.last_task = task
            task.stop_reason = "fork"
            if proc.inherit_events_pending and proc.parent.debugger is not None:
                proc.inherit_events_pending = False
                proc.debugger._inherit_events_from(proc.parent.debugger)
            for hook in list(proc.hooks["fork"]):
                self._run_hook(proc.parent, hook, proc.parent.debugger, proc.debugger)
            if proc.stop_when_started:
                proc.stop_when_started = False
                if proc._state in ("running", "stepping"):
                    self.control.stop_process(proc)
        else:
            # A new thread: runs if its process runs, and gets the process's
            # hardware breakpoints first.
            task.dr_dirty = True
            if proc.hooks["thread"]:
                from ..thread_context import context_of
                for hook in list(proc.hooks["thread"]):
                    self._run_hook(proc, hook, proc.debugger, context_of(task))
            self.control.resume(task)
            self.control.check_all_stopped(proc)

    @staticmethod
    def set_role_options(task) -> None:
        """The leader of a process with other threads gets PTRACE_O_TRACEEXIT,
        no other thread does (see THREAD_OPTIONS). Options are inherited from
        the creating thread, so they are set again on a new thread or process
        at its first stop, on a leader making its first other thread, and on
        the thread that exec'd (the only one left)."""
        proc = task.proc
        leader_of_many = task.tid == proc.pid and len(proc.tasks) > 1
        want = (BASE_OPTIONS if leader_of_many else THREAD_OPTIONS) | (task.options & O_EXITKILL)
        if want == task.options:
            return
        try:
            native.ptrace(PTRACE_SETOPTIONS, task.tid, 0, want)
        except OSError:
            return  # gone: its death report follows
        task.options = want

    def detach_new_child(self, task) -> None:
        proc = task.proc
        sig = 0
        if task.pending is not None and task.pending[0] is Stop.SIGNAL:
            sig = task.pending[1]
        try:
            native.ptrace(PTRACE_DETACH, task.tid, 0, sig)
        except OSError:
            pass
        proc.state = "detached"
        self._forget(proc)

    def _forget(self, proc) -> None:
        now = _uptime_ticks()
        for tid in list(proc.tasks):
            self.tasks.pop(tid, None)
            self.gone[tid] = now
        self.procs.pop(proc.pid, None)

    def check_untraced_child(self, task) -> None:
        """A SIGCHLD about a child we never heard of: it was created with
        CLONE_UNTRACED, which the kernel reports to no tracer (EDGE_CASES 28).
        We can't follow it any more (it has changed state already); say so."""
        try:
            _, code, child_pid, _ = native.getsiginfo(task.tid)
        except OSError:
            return
        if child_pid <= 0 or child_pid in self.procs or self._is_gone(child_pid) \
                or child_pid in self.reported_untraced or code <= 0:
            return
        # seen_pids first: a set lookup (the children list grows with every fork).
        known = child_pid in self.seen_pids or any(c.pid == child_pid for c in task.proc.children)
        if known or _start_ticks(child_pid) < task.proc.traced_since:
            return  # known, or born before we attached (not ours to see)
        self.reported_untraced.add(child_pid)
        import sys
        import warnings
        message = (f"tether: untraced child {child_pid} of process {task.proc.pid}: it was created "
                   "with CLONE_UNTRACED, which hides it from every tracer")
        print(message, file=sys.stderr, flush=True)
        warnings.warn(message, RuntimeWarning, stacklevel=1)

    # ------------------------------------------------------------------ exec
    def on_exec(self, task) -> None:
        proc = task.proc
        if proc.hidden:
            # Its own address space now: nothing of ours left in it.
            proc.aspace = AddressSpace(proc.mem)
            proc.state = "stopped"
            self.detach(proc)
            return
        try:
            former = native.geteventmsg(task.tid)
        except OSError:
            former = task.tid
        # After exec only the thread that called it is left, and it now has the
        # pid as its tid (ptrace(2), "execve(2) under ptrace"). `task` is the
        # Task registered under the pid; the other threads are gone without
        # reports we can count on.
        execing = proc.tasks.get(former)
        if execing is not None and execing is not task:
            task.options = execing.options  # that thread's options, under the leader's tid now
        now = _uptime_ticks()
        for tid, other in list(proc.tasks.items()):
            if tid != proc.pid:
                other.dead = True
                other.stopped = False
                del proc.tasks[tid]
                self.tasks.pop(tid, None)
                self.gone[tid] = now
        if former != task.tid:
            # The Task registered under the pid stood for the old leader, which
            # may have reported PTRACE_EVENT_EXIT: it is the exec'ing thread now.
            task.pending = None
            task.stepping = None
            task.exiting = False
            task.dead = False
        task.in_syscall = False
        task.dr_dirty = True
        self.set_role_options(task)
        proc.exec_count += 1
        proc.mem.reopen()
        # The old image and its int3s are gone: drop everything address-based.
        proc.aspace = AddressSpace(proc.mem)
        proc.breakpoints.clear()
        proc.internal_breakpoints.clear()
        proc.hw_slots = [None, None, None, None]
        if proc.vfork_parent_of is not None:
            proc.vfork_parent_of = None
        if proc.debugger is not None:
            proc.debugger._image_changed()
        for hook in list(proc.hooks["exec"]):
            self._run_hook(proc, hook, proc.debugger)
        self.control.resume(task)

    def on_vfork_done(self, task) -> None:
        proc = task.proc
        task.in_vfork = False
        if proc.breakpoints_lifted_for_vfork:
            proc.breakpoints_lifted_for_vfork = False
            proc.aspace.reinsert_all_physically()
        self.control.resume(task)

    # ------------------------------------------------------------------ deaths
    def task_died(self, task, kind, value) -> None:
        task.dead = True
        task.stopped = False
        if kind is Stop.EXITED:
            task.exit_code = value
        else:
            task.exit_signal = value
        proc = task.proc
        self.tasks.pop(task.tid, None)
        if proc.step_lock is task:
            self.control.release_step_lock(proc)
        if task.tid != proc.pid:
            proc.tasks.pop(task.tid, None)
            if proc.hooks["thread_exit"]:
                from ..thread_context import context_of
                for hook in list(proc.hooks["thread_exit"]):
                    self._run_hook(proc, hook, proc.debugger, context_of(task))
            # A thread ends without an exit stop (THREAD_OPTIONS): its death
            # may be what an all-stop or a held step-over was waiting for.
            if proc.step_lock is not None:
                self.control.check_step_lock(proc)
            self.control.check_all_stopped(proc)
            return
        # The leader's death is reported last, after every other thread's
        # (delayed group-leader reap), so the whole process is gone now.
        for other in proc.tasks.values():
            other.dead = True
            other.stopped = False
            self.tasks.pop(other.tid, None)
        proc.state = "dead"
        proc.exit_code = task.exit_code
        proc.exit_signal = task.exit_signal
        proc.mem.close()
        self.procs.pop(proc.pid, None)
        # Only processes whose real parent (a tracee) died are ours to reap; an
        # attached process's parent is someone else, who will reap it.
        if proc.parent is not None and proc.parent._state == "dead":
            self._reap_orphan(proc.pid)
        for child in proc.children:
            if child._state == "dead":
                self._reap_orphan(child.pid)
        for hook in list(proc.hooks["exit"]):
            self._run_hook(proc, hook, proc.debugger)

    @staticmethod
    def _reap_orphan(pid: int) -> None:
        """A dead tracee whose parent died before it is reparented to us (we
        are a child subreaper): reap it, or it stays a zombie for good."""
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    def _run_hook(self, proc, hook, *args) -> None:
        try:
            hook(*args)
        except Exception as e:
            if proc.pending_error is None:
                proc.pending_error = e
            import sys
            import traceback
            print(f"tether: a lifecycle callback raised in process {proc.pid}:", file=sys.stderr)
            traceback.print_exception(e, file=sys.stderr)

    # ------------------------------------------------------------------ ends
    def kill(self, proc) -> None:
        """SIGKILL a process (after its descendants: a vfork parent sleeps until
        its child is gone, EDGE_CASES 30) and reap it."""
        for child in reversed(proc.descendants()):
            self._kill_one(child)
        self._kill_one(proc)

    def _kill_one(self, proc) -> None:
        if proc._state in ("dead", "detached"):
            return
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # SIGKILL wakes a thread from a ptrace-stop; PTRACE_CONT is a harmless
        # extra nudge for stops that predate the kill.
        for t in list(proc.tasks.values()):
            if t.stopped or t.listening:
                try:
                    native.ptrace(PTRACE_CONT, t.tid, 0, 0)
                except OSError:
                    pass
        def vanished() -> bool:
            # The death report may have been taken by someone else (a script
            # calling waitpid() on it): then /proc says it is gone.
            state = _proc_state(proc.pid)
            if state is None or state in ("Z", "X"):
                return True
            # Still there: a thread may sit in a ptrace-stop whose report we
            # never handled (e.g. PTRACE_EVENT_EXIT of an exit already under
            # way, which SIGKILL doesn't wake). Let every thread go on.
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task")]
            except OSError:
                return True
            for tid in tids:
                self.early.pop(tid, None)
                try:
                    native.ptrace(PTRACE_CONT, tid, 0, 0)
                except OSError:
                    pass
            return False
        self.pump_until(lambda: proc._state in ("dead", "detached") or proc.pid not in self.procs,
                        timeout=0.5, give_up=vanished)
        if proc._state != "dead":
            for t in proc.tasks.values():
                t.dead = True
                t.stopped = False
                self.tasks.pop(t.tid, None)
            self.procs.pop(proc.pid, None)
            proc.state = "dead"
            proc.exit_signal = signal.SIGKILL

    def detach(self, proc) -> None:
        """Let a stopped process go: our breakpoints out, its pending signals
        passed on, non-leader threads first and the leader last."""
        for t in proc.tasks.values():
            if t.stopped and not t.dead and t.pending is None and _sigtrap_pending(proc.pid, t.tid):
                # It executed an int3 but PTRACE_INTERRUPT stopped it before
                # the SIGTRAP was dequeued: untraced, that SIGTRAP would kill
                # it. Let it take the signal now (it stops at once) and treat
                # it like any other unhandled hit below.
                try:
                    native.ptrace(PTRACE_CONT, t.tid, 0, 0)
                    _, status = native.wait_pid(t.tid)
                except OSError:
                    continue
                t.forget_registers()
                t.pending = decode(status)
            # A breakpoint hit seen while stopping the process, not yet handled:
            # the thread is one byte past the int3. Put it back on the
            # instruction, which runs for real once the int3 is gone.
            if t.stopped and not t.dead and t.pending is not None and t.pending[0] is Stop.TRAP:
                try:
                    rip = t.rip()
                except OSError:
                    continue
                if rip - 1 in proc.aspace.installed:
                    t.set_rip(rip - 1)
                    t.pending = None
        for address in list(proc.breakpoints):
            bp = proc.breakpoints[address]
            if not bp.hardware and bp.enabled:
                proc.aspace.remove(address)
        for address in list(proc.internal_breakpoints):
            proc.aspace.remove(address)
        proc.breakpoints.clear()
        proc.internal_breakpoints.clear()
        if proc.hw_used:
            proc.hw_slots = [None, None, None, None]
        tasks = sorted(proc.tasks.values(), key=lambda t: t.tid == proc.pid)
        for t in tasks:
            if t.dead:
                continue
            if proc.hw_used and t.stopped:
                self.control.apply_debug_registers(t)
            sig = t.deliver_signal
            if t.pending is not None and t.pending[0] is Stop.SIGNAL:
                sig = t.pending[1]
            try:
                if t.stopped:
                    t.flush()
                native.ptrace(PTRACE_DETACH, t.tid, 0, sig)
            except OSError:
                pass
        proc.state = "detached"
        self._forget(proc)


def _sigtrap_pending(pid: int, tid: int) -> bool:
    """Is a SIGTRAP queued for this thread (SigPnd in /proc)?"""
    try:
        with open(f"/proc/{pid}/task/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"SigPnd:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTRAP - 1)))
    except (OSError, ValueError):
        pass
    return False


def _uptime_ticks() -> int:
    """Clock ticks since boot, on the clock of /proc/<pid>/stat's start time.
    /proc/uptime has centiseconds; parsed as integers, not through a float
    (12345.67 * 100 may come out as 1234566.99...: one tick short)."""
    with open("/proc/uptime") as f:
        seconds, _, centis = f.read().split()[0].partition(".")
    return (int(seconds) * 100 + int(centis or 0)) * os.sysconf("SC_CLK_TCK") // 100


_UNKNOWN_START = 1 << 62


def _start_ticks(pid: int) -> int:
    """A process's start time, in clock ticks since boot (/proc/<pid>/stat
    field 22); _UNKNOWN_START if it can't be read (gone already)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return _UNKNOWN_START


def _proc_state(pid: int):
    from ..ptrace import proc_state
    return proc_state(pid)
