"""The tracing session: every traced process and thread, and the commands
that start, resume, stop, kill and let go of them. Runs only on the tracer
thread (see tracer.py).

The parts, lowest first: Registry (ids), Resumer (resume and all-stop),
Tree (births, execs, deaths), Stops (what each stop of a live thread
means), Dispatcher (the one way a wait report goes through them)."""
import os
import signal

from .. import _native as native
from ..arch.output_syscalls import OUTPUT_FD_ARGUMENT
from ..arch import AMD64, I386
from ..arch.amd64.seccomp_bpf import seccomp_program
from ..events.decode import STOP_EXEC, STOP_SECCOMP, STOP_TRAP, decode_stop
from ..ptrace import (
    BASE_OPTIONS,
    O_EXITKILL,
    PTRACE_CONT,
    PTRACE_DETACH,
    PTRACE_SEIZE,
    PTRACE_SYSCALL,
    THREAD_OPTIONS,
    proc_state,
)
from ..state.hub import Hub
from ..state.process import Proc
from ..state.states import (
    GONE,
    PROC_DEAD,
    PROC_DETACHED,
    PROC_RUNNING,
    PROC_STOPPED,
    TASK_LISTENING,
    TASK_RUNNING,
    TASK_STOPPED,
)
from ..state.task import Task
from . import decision_log, tracker
from .adopt import adopt_pass, attach_process, in_job_stop
from .dispatch import Dispatcher
from .registry import Registry

from .resume import Resumer
from .stops import Stops
from . import trap_owner
from .trap_owner import TRAP_HIT, TRAP_REAL, TRAP_STALE
from .tree import Tree


# What failed in the spawned child, by the step number it reports (spawn.c).
_SPAWN_STEPS = {0: "execute", 1: "set up the stdin/stdout/stderr of", 2: "pass pass_fds to",
                3: "install the seccomp syscall filter for"}


def numbers_of(arch, names) -> set:
    """The numbers in `arch`'s table of the syscalls `names` (a name the
    table lacks is left out)."""
    table = arch.syscalls.SYSCALL_NUMBERS
    return {table[name] for name in names if name in table}


class Session:
    def __init__(self, hub: Hub, pump):
        self.registry = Registry(hub)
        self.resumer = Resumer()
        self.tree = Tree(self.registry, self.resumer, self.detach)
        self.stops = Stops(self.resumer, self.tree)
        self.dispatcher = Dispatcher(self.registry, self.resumer, self.stops, self.tree)
        self.resumer.handle_pending = self.dispatcher.handle_pending
        self.resumer.detach = self.detach
        self.dispatch = self.dispatcher.dispatch
        # The tracer's loop, run until a condition holds (kill, stepping and
        # detach must see a process through to an end).
        self.pump_until = pump
        # Not a child subreaper: that setting covers the whole Python process,
        # so the orphans of the script's own untraced subprocesses would become
        # its zombies. Orphans of traced processes go where they would go
        # untraced; tether still gets their deaths (docs/edge-cases.md §26).

    @property
    def printer(self):
        """The pprint_syscalls printer (None until the facade sets one)."""
        return self.stops.printer

    @printer.setter
    def printer(self, value) -> None:
        self.stops.printer = value

    def stop_process(self, proc) -> None:
        """Stop every thread of `proc` for the user (an all-stop)."""
        self.resumer.stop_process(proc)

    def apply_debug_registers(self, task) -> None:
        """Write the process's hardware breakpoints into the stopped thread `task`."""
        self.resumer.apply_debug_registers(task)

    # ------------------------------------------------------------------ start
    def spawn(self, config, path, argv, env, launch) -> Proc:
        """Fork + exec `path` as a tracee of this thread, set up as `launch`
        (runtime/launch.py) says; returns it stopped at the first instruction
        of the new program (its exec stop)."""
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe()
        # None: the script's own environment, which spawn reads in C.
        envlist = None if env is None else [f"{k}={v}" for k, v in env.items()]
        code = None
        if config.syscall_filter is not None:
            # escape_antidebug must see ptrace(PTRACE_TRACEME) to fake it, and
            # output attribution the writes.
            names = config.syscall_filter | ({"ptrace"} if config.escape_antidebug else set()) \
                | (set(OUTPUT_FD_ARGUMENT) if config.output_watch else set())
            # Each table's numbers of the declared calls: the tree may run
            # 32-bit programs too (the filter is kept across exec).
            code = seccomp_program(numbers_of(AMD64, names), numbers_of(I386, names))
        try:
            pid, *stack = native.spawn(path, argv, envlist, launch.stdio, launch.keep_fds,
                                       config.aslr, launch.sigmask, launch.sched, launch.cpus,
                                       go_r, err_w, code)
        finally:
            os.close(go_r)
            os.close(err_w)
        options = BASE_OPTIONS | (O_EXITKILL if config.kill_on_exit else 0)  # its leader (THREAD_OPTIONS)
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
            execve_seen = decode_stop(status).kind is STOP_SECCOMP
            if execve_seen:
                # Our filter stops the child's own execve (when execve is in the
                # set): let it in, with its exit stop asked for, so the program's
                # execve is reported whole like every later one.
                native.ptrace(PTRACE_SYSCALL, pid, 0, 0)
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
        failure = os.read(err_r, 8)
        os.close(err_r)
        ev = decode_stop(status)
        if ev.kind is not STOP_EXEC:
            if not ev.is_exit:
                os.kill(pid, signal.SIGKILL)
                native.wait_pid(pid)
            if len(failure) == 8:
                step, err = int.from_bytes(failure[:4], "little"), int.from_bytes(failure[4:], "little")
                raise OSError(err, f"cannot {_SPAWN_STEPS.get(step, 'start')} {path}: "
                                    f"{os.strerror(err)}")
            raise RuntimeError(f"{path} did not start (wait status {status:#x})")
        proc = Proc(pid, config, hub=self.registry.hub)
        task = Task(pid, proc, TASK_STOPPED)
        task.options = options
        if execve_seen:
            task.in_syscall = True
            task.syscall_nr = proc.arch.sys_execve
        self.registry.add(task)
        self.registry.procs[pid] = proc
        proc.set_state(PROC_STOPPED)
        proc.last_task = task
        decision_log.lifecycle(pid, "started %s", path)
        return proc

    def attach(self, config, pid: int) -> Proc:
        """Seize every thread of running process `pid`; it is being stopped
        (see adopt.py). A job-stopped process gets one SIGCONT so that
        cont() runs it, as gdb does (docs/edge-cases.md §24)."""
        was_stopped = proc_state(pid) == "T"
        proc = attach_process(self.registry, config, pid)
        assert proc is not None   # (None only for a child: a missing root raises)
        if was_stopped:
            os.kill(pid, signal.SIGCONT)
        decision_log.lifecycle(pid, "attached (%d threads)", len(proc.tasks))
        return proc

    def attach_tree(self, config, pid: int) -> Proc:
        """attach(pid, tree=True)'s start: seize every thread of `pid`, and
        nothing is sent to it (a job-stopped process stays so); the facade
        then runs adopt_pass until the tree is complete."""
        proc = attach_process(self.registry, config, pid)
        assert proc is not None   # (None only for a child: a missing root raises)
        decision_log.lifecycle(pid, "attached (%d threads), its tree to follow", len(proc.tasks))
        return proc

    def adopt_pass(self, root, skipped: set) -> bool:
        """One pass of a tree attach over the tree under `root` (adopt.py);
        True when it is complete."""
        if not adopt_pass(self.registry, root, skipped):
            return False
        for proc in [root] + root.descendants():
            if proc.attached and proc.state is PROC_STOPPED and in_job_stop(proc):
                # Nothing was sent to it: it goes back to the job-control stop
                # it was in, as a traced process does after a SIGSTOP (its
                # threads in PTRACE_LISTEN, `job_stopped` for the user; its
                # cont() is a shell's `fg`, docs/edge-cases.md §18).
                self.resume_process(proc)
                if tracker.job_stopped(proc):
                    proc.job_stopped = True
                    proc.last_task = proc.main_task
                    proc.hub.changed = True
        return True

    # ------------------------------------------------------------------ running
    def resume_process(self, proc, keep=None) -> None:
        """The user's cont(): every stopped thread of `proc` goes on (or handles
        the event it reported while the process was being stopped), but
        `keep` (a thread whose callback is running: it goes on when that
        returns)."""
        if proc.state in GONE:
            # It died (e.g. SIGKILL from outside) after the user's thread
            # checked it and before we got here: wait() reports the death.
            return
        proc.set_state(PROC_RUNNING)
        proc.last_task = None
        if proc.job_stopped:
            # The user continues a job-stopped process as a shell's `fg` does:
            # with SIGCONT. Resuming its threads alone would leave the kernel
            # thinking the group is stopped (every later interrupt would come
            # back as a group-stop), and its parent would never hear of the
            # continue (docs/edge-cases.md §18).
            proc.job_stopped = False
            os.kill(proc.pid, signal.SIGCONT)
            for t in proc.tasks.values():
                t.group_stopped = False
        for t in proc.tasks.values():
            t.stop_reason = None
        resume = self.resumer.resume
        for t in list(proc.tasks.values()):
            if t.state is TASK_STOPPED and t is not keep:
                try:
                    resume(t)
                except ProcessLookupError:
                    t.state = TASK_RUNNING  # killed meanwhile: its death report follows
                if proc.state is not PROC_RUNNING:
                    break  # a pending event stopped it again

    def resume_thread(self, task) -> None:
        """Scheduler locking: only this thread goes on."""
        proc = task.proc
        if proc.state in GONE:
            return  # see resume_process
        proc.set_state(PROC_RUNNING)
        proc.last_task = None
        self.resumer.resume(task)

    # ------------------------------------------------------------------ ends
    def kill(self, proc) -> None:
        """SIGKILL a process (after its descendants: a vfork parent sleeps until
        its child is gone, docs/edge-cases.md §30) and reap it."""
        for child in reversed(proc.descendants()):
            self._kill_one(child)
        self._kill_one(proc)

    def _kill_one(self, proc) -> None:
        if proc.state in GONE:
            return
        decision_log.lifecycle(proc.pid, "killing it (SIGKILL)")
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # SIGKILL wakes a thread from a ptrace-stop; PTRACE_CONT is a harmless
        # extra nudge for stops that predate the kill.
        for t in list(proc.tasks.values()):
            if t.state is TASK_STOPPED or t.state is TASK_LISTENING:
                try:
                    native.ptrace(PTRACE_CONT, t.tid, 0, 0)
                except OSError:
                    pass
        def vanished() -> bool:
            # The death report may have been taken by someone else (a script
            # calling waitpid() on it): then /proc says it is gone.
            state = proc_state(proc.pid)
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
                self.registry.take_first_stop(tid)
                try:
                    native.ptrace(PTRACE_CONT, tid, 0, 0)
                except OSError:
                    pass
            return False
        procs = self.registry.procs
        self.pump_until(lambda: proc.state in GONE or proc.pid not in procs,
                        timeout=0.5, give_up=vanished)
        if proc.state is not PROC_DEAD:
            for t in tracker.process_died(proc):
                self.registry.tasks.pop(t.tid, None)
            procs.pop(proc.pid, None)
            proc.set_state(PROC_DEAD)
            proc.exit_signal = signal.SIGKILL

    def detach(self, proc) -> None:
        """Let a stopped process go: our breakpoints out, its pending signals
        passed on, non-leader threads first and the leader last."""
        self.settle_for_release(proc)
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
        self.release_threads(proc)
        proc.set_state(PROC_DETACHED)
        decision_log.lifecycle(proc.pid, "detached: it runs on untraced")
        self.registry.forget(proc)
        if self.registry.early:
            self.tree.let_go_unclaimed()  # (its births still unreported)

    def settle_for_release(self, proc) -> None:
        """Before a stopped process is let go (detach, or a hand-over to
        gdb): what its threads reported while it was being stopped and
        was not handled yet is settled so that nothing of it is lost."""
        for t in proc.tasks.values():
            ev = t.pending
            if t.state is TASK_STOPPED and ev is not None and ev.is_new_child:
                # A thread or child process whose birth event is held: never
                # reported, it goes with its creator (let_go_unclaimed below;
                # else it would stay in its first ptrace-stop for good).
                t.pending = None
        for t in proc.tasks.values():
            if t.state is not TASK_STOPPED:
                continue
            if t.pending is None and not t.deliver_signal and _sigtrap_pending(proc.pid, t.tid):
                # It executed an int3 (or a step or a debug register trapped)
                # but PTRACE_INTERRUPT stopped it before the SIGTRAP was
                # dequeued: untraced, a SIGTRAP of ours would kill it. Let it
                # take the signal now (it stops at once) and see whose it is
                # below. Registers changed at its last stop (the displaced-step
                # slot put rip past the instruction) go in first: they are
                # what the SIGTRAP's stop shows, and what it runs on with.
                try:
                    t.flush()
                    native.ptrace(PTRACE_CONT, t.tid, 0, 0)
                    _, status = native.wait_pid(t.tid)
                except OSError:
                    continue
                t.pending = decode_stop(status)
            if t.pending is not None and t.pending.kind is STOP_TRAP:
                self.settle_trap(t, proc)

    def settle_trap(self, task, proc) -> None:
        """`task` of `proc`, about to be let go, holds a SIGTRAP not handled
        yet: ours is dropped (a breakpoint hit puts rip back on the
        instruction, which runs for real once the int3 is gone), the
        program's own is passed on at the release (trap_owner.py)."""
        try:
            rip = task.rip()
            owner = trap_owner.at_release(task, proc, rip - 1)
            if owner is TRAP_HIT or owner is TRAP_STALE:
                task.set_rip(rip - 1)
        except OSError:
            return  # (it died meanwhile: its death report follows)
        task.pending = None
        if owner is TRAP_REAL:
            task.deliver_signal = signal.SIGTRAP

    def release_threads(self, proc) -> None:
        """PTRACE_DETACH every thread of stopped `proc` (its int3s out
        already), non-leader threads first, each passing its pending
        signal on; the debug registers are written first (hw_slots)."""
        tasks = sorted(proc.tasks.values(), key=lambda t: t.tid == proc.pid)
        for t in tasks:
            if t.dead:
                continue
            if proc.hw_used and t.stopped:
                self.resumer.apply_debug_registers(t)
            sig = tracker.detach_signal(t)
            try:
                if t.stopped:
                    t.flush()
                native.ptrace(PTRACE_DETACH, t.tid, 0, sig)
            except OSError:
                pass




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


