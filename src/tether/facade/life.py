"""The Debugger's process life cycle: starting, attaching, letting go and
killing, and what is known of the process (pid, exit status, threads,
children)."""
from __future__ import annotations

import errno
import os
import threading
TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

from ..arch.amd64.signals import signal_name
from ..commlink.pipes import PipeManager
from ..ptrace import exe_of, proc_state
from ..runtime.adopt import tree_settled
from ..runtime.launch import launch_from_thread
from ..state.states import GONE, ProcState
from ..symbols.program_file import check_program
from ..thread_context import context_of
from .. import lifecycle
from .base import FacadeBase
from .control import SETTLED

if TYPE_CHECKING:
    from ..runtime.session import Session
    from ..state.process import Proc
    from ..state.task import Task
    from ..thread_context import ThreadContext


def _raw_pty() -> tuple[int, int]:
    """(master, slave) of a new pseudo-terminal in raw mode: no echo, and no
    newline translation, so the bytes read are the bytes the program wrote."""
    import tty
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave


def _kill_keeping_registers(session: "Session", proc: "Proc") -> None:
    """On the tracer thread: kill the process (and its descendants); the
    registers of its stopped threads stay readable after their death."""
    for task in proc.live_tasks():
        task.keep_registers()
    session.kill(proc)


def _check_bool(name: str, value: object) -> None:
    """A flag argument: a bool, not anything truthy (TypeError naming it)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _birth_order(task: "Task") -> int:
    """Threads listed in the order they were born: tids grow (until they wrap)."""
    return task.tid


class LifeMixin(FacadeBase):
    """run, attach, detach, kill, terminate; pid, dead, exit_code, threads..."""

    def run(self, timeout: float = -1, redirect_pipes: bool = True, *,
            attribute_output: bool = False) -> PipeManager | None:
        """Start the program; it stops at its entry point (or at its very first
        instruction with continue_to_binary_entrypoint=False). Returns the
        PipeManager, or None with redirect_pipes=False. A Debugger can run()
        again: the previous process is killed and the stopping events cleared.
        With a positive `timeout` the process is killed after that many seconds.
        tether extra: `attribute_output=True` records which process (of the
        whole followed tree) wrote each piece of stdout and stderr
        (`pipe.by_process(pid)`, `pipe.output_records()`; README, "Who
        wrote what")."""
        ctl = self._ctl
        _check_bool("attribute_output", attribute_output)
        if attribute_output and not redirect_pipes:
            raise ValueError("attribute_output=True needs redirect_pipes=True: it attributes "
                             "what arrives in the PipeManager's stdout and stderr")
        if attribute_output and (not ctl.settings.follow_children or ctl.settings.detach_on_fork):
            raise ValueError("attribute_output=True needs follow_children=True and "
                             "detach_on_fork=False: the writes of a process let go are not "
                             "seen, and would shift the attribution of the others")
        ctl.check_usable()
        ctl.refuse_in_own_callback("run")
        if ctl.process is not None and ctl.process.state not in GONE:
            self._kill_tree()
        if self.path is None:
            raise ValueError("nothing to run: give debugger() a program (argv or path)")
        path = check_program(self.path)
        # What a subprocess child of this (the script's) thread would get; read
        # before our pipes exist, so pass_fds can only name the script's fds.
        # From a callback (on the tracer thread), the main thread's.
        script_thread = (threading.main_thread().native_id or 0) if ctl.tracer.on_tracer_thread() else 0
        launch = launch_from_thread(script_thread, ctl.settings.close_fds, ctl.settings.pass_fds)
        ctl.close_pipes()
        if redirect_pipes:
            # stdin is a pipe; stdout and stderr are terminals (as in libdebug),
            # so the program's stdio flushes at each newline and recvline()
            # after a plain printf works.
            ends = [os.pipe(), _raw_pty(), _raw_pty()]
            child_fds = (ends[0][0], ends[1][1], ends[2][1])
        else:
            ends, child_fds = None, (-1, -1, -1)
        # Made before the start, so that what the program writes from its
        # first instruction on can be attributed (a failed start drops it:
        # its finalizer closes our ends).
        pipes = PipeManager(ends[0][1], ends[1][0], ends[2][0], ctl.tree_running) if ends else None
        ctl.settings.output_watch = pipes.attribute_output(child_fds[1], child_fds[2]) \
            if attribute_output and pipes is not None else None
        try:
            # One hand-off to the tracer thread for the whole start.
            ctl.tracer.call(ctl.start, path, ctl.env_for_run(), launch.with_stdio(child_fds))
        finally:
            if ends:
                for fd in child_fds:
                    os.close(fd)
        ctl.pipes = pipes
        proc = ctl.process
        if proc.state is ProcState.DEAD:
            # E.g. the dynamic loader found a library missing: what it wrote
            # on stderr says why, so it goes into the error.
            said = ctl.pipes.recverr(timeout=0.5, optional=True) if ctl.pipes else b""
            said = said.decode(errors="replace").strip()
            raise RuntimeError(f"{self.path} died before reaching its entry point "
                               f"(exit code {proc.exit_code}, signal {proc.exit_signal})"
                               + (f": {said}" if said else ""))
        if timeout is not None and timeout > 0:
            lifecycle.kill_after(self, timeout)
        return ctl.pipes

    def r(self, redirect_pipes: bool = True) -> PipeManager | None:
        """libdebug's alias of run() (it takes only redirect_pipes)."""
        return self.run(redirect_pipes=redirect_pipes)

    def attach(self, pid: int, tree: bool = False) -> None:
        """Trace a running process (all its threads); it stops. With
        `tree=True` (tether extra), also every process descending from it
        and their threads, each with its Debugger in `children` as a
        followed child has; nothing is sent to any of them (a process in a
        job-control stop stays in it, see `job_stopped`). Every process of
        the tree is stopped when attach returns."""
        ctl = self._ctl
        ctl.check_usable()
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise TypeError(f"pid must be an int, not {type(pid).__name__}")
        if pid <= 0:
            raise ValueError(f"no process has pid {pid}")
        _check_bool("tree", tree)
        if pid == os.getpid():
            raise PermissionError(errno.EPERM, "a process cannot trace itself (ptrace forbids it)")
        settings = ctl.settings
        if settings.syscall_filter is not None:
            raise ValueError("syscall_filter works with run() only: the filter is installed "
                             "before the program's first instruction")
        if tree and not (settings.follow_children and settings.follow_fork_mode == "parent"
                         and not settings.detach_on_fork):
            raise ValueError("attach(tree=True) follows every process of the tree: it needs "
                             "follow_children=True, follow_fork_mode='parent' and "
                             "detach_on_fork=False")
        if ctl.process is not None and ctl.process.state not in GONE:
            raise RuntimeError(f"this Debugger already traces process {ctl.process.pid}; "
                               "detach() or kill() it first")
        ctl.settings.output_watch = None  # (attribution is run()'s, with its PipeManager)
        tracer, session = ctl.tracer, ctl.session
        proc = tracer.call(session.attach_tree if tree else session.attach, settings, pid)
        ctl.take(proc)
        if tree:
            # Passes over the tree, each once every process of it is stopped,
            # until one finds nothing new (runtime/adopt.py says why that is
            # complete).
            skipped: set = set()
            while True:
                tracer.wait_for(lambda: tree_settled(proc))
                if tracer.call(session.adopt_pass, proc, skipped):
                    break
        else:
            tracer.wait_for(lambda: proc.state is not ProcState.STOPPING)
        exe = os.readlink(f"/proc/{pid}/exe") if os.path.exists(f"/proc/{pid}/exe") else None
        if exe:
            ctl.argv = [exe]

    def detach(self, tree: bool = False) -> None:
        """Let the process run on untraced, with tether's breakpoints taken
        out. Only this process: its followed descendants stay traced, each
        with its Debugger (as in libdebug, where every process has its own);
        `tree=True` (tether extra) lets them go too, all at once. As every
        command (and as in libdebug), a running process is first waited for
        until it stops, or interrupted in ASAP mode (with `tree=True` the
        descendants are interrupted)."""
        _check_bool("tree", tree)
        ctl = self._ctl
        ctl.refuse_in_own_callback("detach")
        proc = ctl.live_process()
        ctl.await_stop()
        tracer, session = ctl.tracer, ctl.session
        if tree:
            self._detach_tree()
            return
        tracer.call(session.stop_process, proc)
        tracer.wait_for(lambda: proc.state in SETTLED)  # (a job-stopped one is interrupted)
        if proc.state not in GONE:
            tracer.call(session.detach, proc)

    def _detach_tree(self) -> None:
        """detach(tree=True): stop every process of the tree, until no new
        one has appeared meanwhile (a process stopped can't fork, and a
        child announced by a fork event starts stopped), then let them all
        go, the deepest first."""
        ctl = self._ctl
        tracer, session = ctl.tracer, ctl.session
        while True:
            procs = [c.process for c in ctl.family()]
            live = [p for p in procs if p is not None and p.state not in GONE
                    and p.state is not ProcState.IN_GDB]  # (gdb's until wait_for_gdb())
            for p in live:
                tracer.call(session.stop_process, p)
            tracer.wait_for(lambda: all(p.state in SETTLED for p in live))
            if [c.process for c in ctl.family()] == procs:
                break
        for p in reversed(live):
            if p.state not in GONE:
                tracer.call(session.detach, p)

    def kill(self) -> None:
        """SIGKILL the process and every followed descendant, and reap them.
        As every command (and as in libdebug), a running process is first
        waited for until it stops (or dies), or interrupted in ASAP mode:
        `d.cont(); d.kill()` lets it run to its next stop. The registers the
        threads had then stay readable (post-mortem). RuntimeError after
        detach(): the process is not ours to kill any more."""
        ctl = self._ctl
        ctl.refuse_in_own_callback("kill")
        proc = ctl.require_process()
        if proc.state is ProcState.DETACHED:
            raise RuntimeError(f"process {proc.pid} was detached: it is no longer traced, "
                               "so kill() does not act on it")
        ctl.await_stop()
        self._kill_tree()

    def _kill_tree(self) -> None:
        """kill() without waiting: the process tree is killed where it is."""
        ctl = self._ctl
        proc = ctl.process
        if proc.state not in GONE:
            ctl.tracer.call(_kill_keeping_registers, ctl.session, proc)
        for c in ctl.family()[1:]:
            p = c.process
            if p is not None and p.state not in GONE:
                ctl.tracer.call(ctl.session.kill, p)

    def terminate(self) -> None:
        """Kill the process tree at once, running or not (as libdebug, which
        interrupts it first); this Debugger can't be used again."""
        ctl = self._ctl
        ctl.refuse_in_own_callback("terminate")
        if ctl.process is not None:
            self._kill_tree()
        ctl.close_pipes()
        ctl.terminated = True

    def __enter__(self) -> Any:
        """`with debugger(...) as d:` ends with terminate(): the process tree
        is killed and the pipes closed, whatever the block raised."""
        return self

    def __exit__(self, *exc: object) -> None:
        self.terminate()

    @property
    def pid(self) -> int | None:
        """The process id (None before run() or attach())."""
        proc = self._ctl.process
        return None if proc is None else proc.pid

    process_id = pid

    @property
    def thread_id(self) -> int:
        """The thread id of the main thread (the process's first thread)."""
        return self._ctl.main_task().tid

    tid = thread_id

    @property
    def dead(self) -> bool:
        """Whether the process has died."""
        ctl = self._ctl
        ctl.tracer.sync()
        return ctl.process is not None and ctl.process.state is ProcState.DEAD

    @property
    def running(self) -> bool:
        """Whether the process is running (resumed, stepping or being stopped;
        not in a job-control stop)."""
        ctl = self._ctl
        ctl.tracer.sync()
        proc = ctl.process
        return proc is not None and not proc.job_stopped and proc.state in (
            ProcState.RUNNING, ProcState.STEPPING, ProcState.STOPPING)

    @property
    def job_stopped(self) -> bool:
        """tether extra: whether the process is stopped by job control (it
        got SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU and every thread stopped).
        wait() returns for it; cont() continues the process, and so does a
        SIGCONT from anyone, as without a debugger."""
        ctl = self._ctl
        ctl.tracer.sync()
        return ctl.process is not None and ctl.process.job_stopped

    @property
    def zombie(self) -> bool:
        """Whether the process has exited but was not reaped yet (a zombie in /proc)."""
        ctl = self._ctl
        ctl.tracer.sync()
        return ctl.process is not None and proc_state(ctl.process.pid) == "Z"

    @property
    def exit_code(self) -> int | None:
        """The exit code once the process exited normally, else None."""
        ctl = self._ctl
        ctl.tracer.sync()
        return None if ctl.process is None else ctl.process.exit_code

    @property
    def exit_signal(self) -> str | None:
        """The name of the signal that killed the process, else None."""
        ctl = self._ctl
        ctl.tracer.sync()
        sig = None if ctl.process is None else ctl.process.exit_signal
        return None if sig is None else signal_name(sig)

    @property
    def threads(self) -> list["ThreadContext"]:
        """The ThreadContexts of every thread the process has had (this
        program image), the main thread first: as in libdebug, threads that
        have ended stay listed, with `dead`, `exit_code`, `exit_signal` and
        the registers last read (`[t for t in d.threads if not t.dead]`: the
        live ones)."""
        ctl = self._ctl
        proc = ctl.require_process()
        tasks = list(proc.tasks.values())
        main = proc.main_task
        if main is not None and tasks[0] is not main:
            tasks.remove(main)
            tasks.insert(0, main)
        tasks[1:] = sorted(tasks[1:] + ctl.ended_tasks, key=_birth_order)
        return [context_of(t) for t in tasks]

    @property
    def children(self) -> list[Any]:
        """The Debuggers of the followed child processes, in birth order."""
        return self._ctl.children

    @property
    def descendants(self) -> list[Any]:
        """The Debuggers of every followed descendant process, depth first."""
        out: list[Any] = []
        for child in self._ctl.children:
            out.append(child)
            out.extend(child.descendants)
        return out

    @property
    def exec_count(self) -> int:
        """How many times the process has exec'd a new program."""
        proc = self._ctl.process
        return 0 if proc is None else proc.exec_count

    @property
    def exe(self) -> str | None:
        """The program the process runs now (after any exec); kept after death."""
        proc = self._ctl.process
        if proc is None:
            return None
        exe = exe_of(proc.pid) if proc.state is not ProcState.DEAD else None
        if exe:
            proc.exe_path = exe
        return proc.exe_path

    @property
    def pipe_manager(self) -> PipeManager | None:
        """The PipeManager of the last run() (None with redirect_pipes=False)."""
        return self._ctl.pipes

    def __repr__(self) -> str:
        proc = self._ctl.process
        if proc is None:
            return f"<Debugger {self.path!r} not started>"
        return f"<Debugger pid={proc.pid} {proc.state.value} {self.path!r}>"

