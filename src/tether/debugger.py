"""Debugger: the public face of ONE traced process (libdebug's API).

Methods check their arguments here, then hand the work to the tracer thread
(`self._tracer.call`). By default a command given while the process runs
waits for it to stop first; with auto_interrupt_on_command ("ASAP mode") it
interrupts the process instead, and the process stays stopped afterwards.
"""
import errno
import os
import signal as _signal

from .arch.amd64 import debugregs
from .arch.amd64.registers import format_registers
from .arch.amd64.signals import signal_name, signal_number
from .arch.amd64.syscalls import syscall_name, syscall_number
from .commlink.pipes import PipeManager
from .config import Settings
from .errors import NotRunningError, ProcessDeadError
from .memory.position import resolve_position, resolve_symbol
from .memory.maps import format_maps, read_maps
from .memory.view import MemoryView
from .ptrace import auxv_entry, exe_of, proc_state
from .runtime.stepping import Stepper
from .runtime.tracer import get_tracer
from .state.stopping_events import Breakpoint, SignalCatcher, SyscallHandler
from .symbols.elf import check_program
from .symbols.symbol_list import build_symbols, symbol_at
from .thread_context import context_of
from . import lifecycle

_UNCATCHABLE = (_signal.SIGKILL, _signal.SIGSTOP)


def _raw_pty() -> tuple[int, int]:
    """(master, slave) of a new pseudo-terminal in raw mode: no echo, and no
    newline translation, so the bytes read are the bytes the program wrote."""
    import tty
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave


def _count_only(*_):
    """callback=True (libdebug): count the hit and go on, without stopping."""


def _callback(value, what="callback"):
    if value is None or value is False:
        return None
    if value is True:
        return _count_only
    if not callable(value):
        raise TypeError(f"{what} must be callable, True or None, not {type(value).__name__}")
    return value


class _ProcessListener:
    """What the runtime asks of a Debugger (runtime/listener.py describes
    the interface), kept apart from the public API."""
    __slots__ = ("debugger",)

    def __init__(self, debugger: "Debugger"):
        self.debugger = debugger

    def thread_context(self, task):
        return context_of(task)

    def child_followed(self, child) -> None:
        self.debugger._adopt_child(child)

    def inherit_events_from(self, parent) -> None:
        self.debugger._inherit_events_from(parent.debugger)

    def image_replaced(self) -> None:
        self.debugger._image_changed()


class Debugger:
    def __init__(self, argv, path=None, env=None, settings: Settings | None = None):
        self._settings = settings or Settings()
        self._argv = None
        self.argv = argv
        self._path = path
        # None: os.environ, copied only when `env` is read or set (a copy per
        # Debugger cost more than the rest of debugger()).
        self._env = None if env is None else dict(env)
        self._tracer = get_tracer()
        self._proc = None
        self._pipes = None
        self._children = []
        self._memory = MemoryView(self)
        self._symbols_cache = None
        self._maps_cache = None
        self._snapshot_count = 0
        self._terminated = False
        lifecycle.register(self)

    # ================================================================ settings
    def _setting(name, doc):  # noqa: N805 - a tiny property factory
        def get(self):
            return getattr(self._settings, name)

        def set_(self, value):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
            setattr(self._settings, name, value)
        return property(get, set_, doc=doc)

    aslr = _setting("aslr", "Randomise the address space at the next run().")
    fast_memory = _setting("fast_memory", "Accepted for compatibility: memory access is always bulk.")
    kill_on_exit = _setting("kill_on_exit", "Kill the process (tree) when the script ends.")
    follow_children = _setting("follow_children", "Follow new child processes (else detach them).")
    auto_interrupt_on_command = _setting("auto_interrupt_on_command", "ASAP mode.")

    @property
    def escape_antidebug(self) -> bool:
        """Make ptrace(PTRACE_TRACEME) succeed in the program."""
        return self._settings.escape_antidebug

    @escape_antidebug.setter
    def escape_antidebug(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"escape_antidebug must be a bool, not {type(value).__name__}")
        self._settings.escape_antidebug = value
        if self._proc is not None:
            self._update_syscall_tracing(self._proc)  # it needs syscall stops
    inherit_stopping_events = _setting(
        "inherit_stopping_events", "Children start with copies of this process's stopping events.")
    detach_on_fork = _setting("detach_on_fork", "With follow_fork_mode='child': let the parent go.")
    del _setting

    @property
    def follow_fork_mode(self) -> str:
        return self._settings.follow_fork_mode

    @follow_fork_mode.setter
    def follow_fork_mode(self, value: str) -> None:
        if value not in ("parent", "child"):
            raise ValueError(f"follow_fork_mode must be 'parent' or 'child', not {value!r}")
        self._settings.follow_fork_mode = value

    @property
    def scheduler_locking(self) -> str:
        return self._settings.scheduler_locking

    @scheduler_locking.setter
    def scheduler_locking(self, value: str) -> None:
        if value not in ("off", "step", "on"):
            raise ValueError(f"scheduler_locking must be 'off', 'step' or 'on', not {value!r}")
        self._settings.scheduler_locking = value

    @property
    def argv(self) -> list:
        return list(self._argv)

    @argv.setter
    def argv(self, value) -> None:
        if isinstance(value, (str, bytes)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise TypeError("argv must be a program path or a list of arguments")
        for a in value:
            if not isinstance(a, (str, bytes)):
                raise TypeError(f"argv entries must be str or bytes, not {type(a).__name__}")
        self._argv = list(value)

    @property
    def path(self):
        if self._path is not None:
            return self._path
        return self._argv[0] if self._argv else None

    @path.setter
    def path(self, value) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError("path must be a str")
        self._path = value

    @property
    def env(self) -> dict:
        if self._env is None:
            parent = self.__dict__.get("_parent")  # a followed child's: its parent's
            self._env = dict(os.environ) if parent is None else dict(parent.env)
        return self._env

    def _env_for_run(self):
        """The environment run() passes: None for os.environ as it is (never
        copied), else the `env` dict."""
        if self._env is None and self.__dict__.get("_parent") is not None:
            return self.env
        return self._env

    @env.setter
    def env(self, value) -> None:
        if value is not None and not isinstance(value, dict):
            raise TypeError("env must be a dict of str to str")
        self._env = dict(os.environ) if value is None else dict(value)

    @property
    def arch(self) -> str:
        return "amd64"

    # ================================================================ life cycle
    def run(self, timeout: float = -1, redirect_pipes: bool = True):
        """Start the program; it stops at its entry point (or at its very first
        instruction with continue_to_binary_entrypoint=False). Returns the
        PipeManager, or None with redirect_pipes=False. A Debugger can run()
        again: the previous process is killed and the stopping events cleared."""
        self._check_usable()
        if self._proc is not None and self._proc.state not in ("dead", "detached"):
            self.kill()
        if self.path is None:
            raise ValueError("nothing to run: give debugger() a program (argv or path)")
        path = check_program(self.path)
        self._close_pipes()
        if redirect_pipes:
            # stdin is a pipe; stdout and stderr are terminals (as in libdebug),
            # so the program's stdio flushes at each newline and recvline()
            # after a plain printf works.
            ends = [os.pipe(), _raw_pty(), _raw_pty()]
            child_fds = (ends[0][0], ends[1][1], ends[2][1])
        else:
            ends, child_fds = None, (-1, -1, -1)
        try:
            # One hand-off to the tracer thread for the whole start.
            self._tracer.call(self._start_on_tracer, path, self._env_for_run(), child_fds)
        finally:
            if ends:
                for fd in child_fds:
                    os.close(fd)
        if ends:
            self._pipes = PipeManager(ends[0][1], ends[1][0], ends[2][0], self._tree_running)
        proc = self._proc
        if proc.state == "dead":
            # E.g. the dynamic loader found a library missing: what it wrote
            # on stderr says why, so it goes into the error.
            said = self._pipes.recverr(timeout=0.5, optional=True) if self._pipes else b""
            said = said.decode(errors="replace").strip()
            raise RuntimeError(f"{self.path} died before reaching its entry point "
                               f"(exit code {proc.exit_code}, signal {proc.exit_signal})"
                               + (f": {said}" if said else ""))
        if timeout is not None and timeout > 0:
            lifecycle.kill_after(self, timeout)
        return self._pipes

    def _start_on_tracer(self, path, env, child_fds) -> None:
        """run()'s part on the tracer thread: start the program, then (by
        default) run it to its entry point."""
        settings = self._settings
        proc = self._tracer.session.spawn(settings, path, self._argv, env, settings.aslr, child_fds)
        self._attach_proc(proc)
        if not settings.continue_to_binary_entrypoint:
            return
        entry = auxv_entry(proc.pid)
        task = proc.main_task
        if entry is None or task.rip() == entry:
            return
        Stepper(self._tracer.session).run_to(task, entry, None)
        task.stop_reason = None

    def attach(self, pid: int) -> None:
        """Trace a running process (all its threads); it stops."""
        self._check_usable()
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise TypeError(f"pid must be an int, not {type(pid).__name__}")
        if pid <= 0:
            raise ValueError(f"no process has pid {pid}")
        if pid == os.getpid():
            raise PermissionError(errno.EPERM, "a process cannot trace itself (ptrace forbids it)")
        if self._proc is not None and self._proc.state not in ("dead", "detached"):
            raise RuntimeError(f"this Debugger already traces process {self._proc.pid}; detach() or kill() it first")
        proc = self._tracer.call(self._tracer.session.attach, self._settings, pid)
        self._attach_proc(proc)
        self._tracer.wait_for(lambda: proc.state != "stopping")
        exe = os.readlink(f"/proc/{pid}/exe") if os.path.exists(f"/proc/{pid}/exe") else None
        if exe:
            self._argv = [exe]

    def _attach_proc(self, proc, exe=None) -> None:
        self._proc = proc
        proc.debugger = self
        proc.listener = _ProcessListener(self)
        proc.exe_path = exe or exe_of(proc.pid)
        self._update_syscall_tracing(proc)  # escape_antidebug needs syscall stops
        self._children = []
        self._symbols_cache = None
        self._maps_cache = None

    def _adopt_child(self, child_proc) -> "Debugger":
        """Called on the tracer thread when this process forks a followed child."""
        child = Debugger.__new__(Debugger)
        # Straight into __dict__: this runs at every followed fork.
        child.__dict__.update(
            _settings=child_proc.config, _argv=list(self._argv), _path=self._path,
            _env=None, _tracer=self._tracer, _proc=None,
            _pipes=self._pipes,            # children share the parent's pipes (seed 000)
            _children=[], _memory=MemoryView(child), _symbols_cache=self._symbols_cache,
            _maps_cache=None, _snapshot_count=0, _terminated=False, _parent=self)
        child._attach_proc(child_proc, exe=self._proc.exe_path)  # fork keeps the program
        child._symbols_cache = self._symbols_cache
        self._children.append(child)
        lifecycle.register(child)
        return child

    def _inherit_events_from(self, parent: "Debugger") -> None:
        """inherit_stopping_events=True: copy the parent's stopping events (on
        the tracer thread, at the child's first stop)."""
        pproc, proc = parent._proc, self._proc
        for bp in list(pproc.breakpoints.values()):
            copy = Breakpoint(bp.address, bp.symbol, bp.hardware, bp.condition, bp.length, bp.callback, self)
            copy.enabled = bp.enabled
            self._install_breakpoint(copy)
        for nr, h in pproc.syscall_handlers.items():
            copy = SyscallHandler(nr, h.syscall_name, h.on_enter_user, h.on_exit_user, h.recursive, self)
            copy.hijack_to, copy.hijack_args, copy.enabled = h.hijack_to, h.hijack_args, h.enabled
            proc.syscall_handlers[nr] = copy
        if pproc.syscall_all is not None:
            h = pproc.syscall_all
            proc.syscall_all = SyscallHandler(-1, "*", h.on_enter_user, h.on_exit_user, h.recursive, self)
        proc.trace_syscalls = pproc.trace_syscalls
        for nr, c in pproc.signal_catchers.items():
            copy = SignalCatcher(nr, c.signal_name, c.callback, c.recursive, self)
            copy.hijack_to, copy.enabled = c.hijack_to, c.enabled
            proc.signal_catchers[nr] = copy
        proc.signal_all = pproc.signal_all

    def _image_changed(self) -> None:
        """exec: symbols and maps belong to the new program now."""
        self._symbols_cache = None
        self._maps_cache = None
        exe = exe_of(self._proc.pid)
        if exe:
            self._path = exe
            self._proc.exe_path = exe

    def detach(self) -> None:
        """Let the process (and its followed descendants) run on untraced."""
        proc = self._live_proc()
        for dbg in [self] + self.descendants:
            p = dbg._proc
            if p is None or p.state in ("dead", "detached"):
                continue
            self._tracer.call(self._tracer.session.stop_process, p)
            self._tracer.wait_for(lambda p=p: p.state in ("stopped", "dead", "detached"))
        for dbg in reversed([self] + self.descendants):
            p = dbg._proc
            if p is not None and p.state not in ("dead", "detached"):
                self._tracer.call(self._tracer.session.detach, p)
        del proc

    def kill(self) -> None:
        """SIGKILL the process and every followed descendant, and reap them."""
        proc = self._require_proc()
        if proc.state in ("dead", "detached"):
            self._kill_descendants()
            return
        self._tracer.call(self._tracer.session.kill, proc)
        self._kill_descendants()

    def _kill_descendants(self) -> None:
        for child in self.descendants:
            p = child._proc
            if p is not None and p.state not in ("dead", "detached"):
                self._tracer.call(self._tracer.session.kill, p)

    def terminate(self) -> None:
        """Kill the process tree; this Debugger can't be used again."""
        if self._proc is not None:
            self.kill()
        self._close_pipes()
        self._terminated = True

    def _close_pipes(self) -> None:
        if self._pipes is not None and getattr(self, "_parent", None) is None:
            self._pipes.close()
        self._pipes = None

    # ================================================================ state
    def _check_usable(self) -> None:
        if self._terminated:
            raise RuntimeError("this Debugger was terminated; create a new one")

    def _require_proc(self):
        self._check_usable()
        self._tracer.sync()  # a posted cont() first (see Tracer.post)
        if self._proc is None:
            raise NotRunningError("no process: call run() or attach() first")
        return self._proc

    def _live_proc(self):
        proc = self._require_proc()
        if proc.state == "dead":
            raise ProcessDeadError(f"process {proc.pid} is dead ({self._death_text()})")
        if proc.state == "detached":
            raise RuntimeError(f"process {proc.pid} was detached; it is no longer traced")
        return proc

    def _death_text(self) -> str:
        proc = self._proc
        if proc.exit_signal is not None:
            return f"killed by {signal_name(proc.exit_signal)}"
        return f"exit code {proc.exit_code}"

    def _raise_pending_error(self) -> None:
        proc = self._proc
        if proc is not None and proc.pending_error is not None:
            err, proc.pending_error = proc.pending_error, None
            raise err

    def _ensure_stopped(self):
        """Before a command: wait for the process to stop (default) or stop it
        (ASAP mode). Returns the live, stopped Proc."""
        proc = self._live_proc()
        if self._tracer.on_tracer_thread():
            # Inside a callback: the thread that triggered it is stopped, and
            # waiting here for the process would wait for ourselves.
            return proc
        self._raise_pending_error()
        if proc.state not in ("stopped",):
            if self._settings.auto_interrupt_on_command and proc.state == "running":
                self.interrupt()
            else:
                self._tracer.wait_for(lambda: proc.state in ("stopped", "dead", "detached"))
            self._raise_pending_error()
            if proc.state != "stopped":
                return self._live_proc()
        return proc

    def _tree_running(self) -> bool:
        self._tracer.sync()
        procs = [self._proc] + [d._proc for d in self.descendants]
        root = self
        while getattr(root, "_parent", None) is not None:
            root = root._parent
        procs = [root._proc] + [d._proc for d in root.descendants]
        return any(p is not None and p.state in ("running", "stepping", "stopping", "starting") for p in procs)

    @property
    def pid(self):
        return None if self._proc is None else self._proc.pid

    process_id = pid

    @property
    def dead(self) -> bool:
        self._tracer.sync()
        return self._proc is not None and self._proc.state == "dead"

    @property
    def running(self) -> bool:
        self._tracer.sync()
        return self._proc is not None and self._proc.state in ("running", "stepping", "stopping")

    @property
    def zombie(self) -> bool:
        self._tracer.sync()
        return self._proc is not None and proc_state(self._proc.pid) == "Z"

    @property
    def exit_code(self):
        self._tracer.sync()
        return None if self._proc is None else self._proc.exit_code

    @property
    def exit_signal(self):
        self._tracer.sync()
        sig = None if self._proc is None else self._proc.exit_signal
        return None if sig is None else signal_name(sig)

    @property
    def threads(self) -> list:
        proc = self._require_proc()
        # A thread past PTRACE_EVENT_EXIT is gone for every purpose but its
        # death report.
        return [context_of(t) for t in proc.tasks.values() if not t.dead and not t.exiting]

    def _main_task(self):
        proc = self._require_proc()
        task = proc.main_task
        if task is None:
            raise ProcessDeadError(f"process {proc.pid} has no live thread")
        return task

    @property
    def _main(self):
        return context_of(self._main_task())

    @property
    def children(self) -> list:
        return self._children

    @property
    def descendants(self) -> list:
        out = []
        for child in self._children:
            out.append(child)
            out.extend(child.descendants)
        return out

    @property
    def exec_count(self) -> int:
        return 0 if self._proc is None else self._proc.exec_count

    @property
    def exe(self):
        """The program the process runs now (after any exec); kept after death."""
        if self._proc is None:
            return None
        exe = exe_of(self._proc.pid) if self._proc.state != "dead" else None
        if exe:
            self._proc.exe_path = exe
        return self._proc.exe_path

    @property
    def pipe_manager(self):
        return self._pipes

    def __repr__(self):
        if self._proc is None:
            return f"<Debugger {self.path!r} not started>"
        return f"<Debugger pid={self._proc.pid} {self._proc.state} {self.path!r}>"

    # ================================================================ flow
    def cont(self) -> None:
        proc = self._ensure_stopped()
        # Not waited for: the next command or wait() sees the process running.
        self._tracer.post(self._tracer.session.resume_process, proc)

    def _cont_thread(self, task) -> None:
        proc = self._ensure_stopped()
        if self._settings.scheduler_locking == "on":
            self._tracer.call(self._tracer.session.resume_thread, task)
        else:
            self._tracer.call(self._tracer.session.resume_process, proc)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the process stops (or dies)."""
        self._check_usable()
        proc = self._proc  # (no sync first: wait_for waits for a posted cont() itself)
        if proc is None:
            raise NotRunningError("no process: call run() or attach() first")
        if not self._tracer.wait_for(lambda: proc.state in ("stopped", "dead", "detached"), timeout):
            raise TimeoutError(f"process {proc.pid} did not stop within {timeout} s")
        self._raise_pending_error()

    def wait_any(self, timeout: float | None = None) -> "Debugger":
        """tether extra: block until this process or any followed descendant is
        stopped or dead and return its Debugger (a stopped child waiting to be
        resumed counts)."""
        def ready():
            for dbg in [self] + self.descendants:
                p = dbg._proc
                if p is not None and p.state in ("stopped", "dead") and not getattr(dbg, "_reported", False):
                    return dbg
            return None
        found = []

        def pred():
            d = ready()
            if d is not None:
                found.append(d)
                return True
            return False
        if not self._tracer.wait_for(pred, timeout):
            raise TimeoutError(f"no process stopped within {timeout} s")
        return found[-1]  # this thread's own last check (the tracer may check too)

    def interrupt(self) -> None:
        proc = self._live_proc()
        if proc.state == "stopped":
            return
        self._tracer.call(self._tracer.session.stop_process, proc)
        self._tracer.wait_for(lambda: proc.state in ("stopped", "dead", "detached"))
        task = proc.last_task
        if task is not None and task.stop_reason is None:
            task.stop_reason = "interrupt"

    def _stepper(self) -> Stepper:
        return Stepper(self._tracer.session)

    def _step(self, task) -> None:
        self._ensure_stopped()
        self._tracer.call(self._stepper().step, task)
        self._raise_pending_error()

    def _step_until(self, task, position, max_steps, file) -> None:
        if not isinstance(max_steps, int):
            raise TypeError("max_steps must be an int")
        self._ensure_stopped()
        address = self._resolve_position(position, file)
        self._tracer.call(self._stepper().step_until, task, address, max_steps)

    def _finish(self, task, heuristic) -> None:
        if heuristic not in ("backtrace", "step-mode"):
            raise ValueError(f"finish heuristic must be 'backtrace' or 'step-mode', not {heuristic!r}")
        self._ensure_stopped()
        if heuristic == "step-mode":
            self._tracer.call(self._stepper().finish_step_mode, task)
            return
        frames = self._backtrace(task, False)
        if len(frames) < 2:
            raise ValueError("finish(): the caller's return address is unknown")
        rsp = context_of(task).regs.rsp
        self._tracer.call(self._stepper().run_to, task, frames[1], rsp)

    def _next(self, task) -> None:
        self._ensure_stopped()
        self._tracer.call(self._stepper().next, task)

    def step(self):
        return self._step(self._main_task())

    def step_until(self, position, max_steps: int = -1, file: str = "hybrid"):
        return self._step_until(self._main_task(), position, max_steps, file)

    def finish(self, heuristic: str = "backtrace"):
        return self._finish(self._main_task(), heuristic)

    def next(self):
        return self._next(self._main_task())

    # short aliases (libdebug's)
    c = cont
    w = wait
    si = step
    su = step_until
    fin = finish
    ni = next

    def int(self):  # noqa: A003 - libdebug's alias for interrupt()
        return self.interrupt()

    # ================================================================ registers & co.
    @property
    def regs(self):
        return self._main.regs

    r = regs

    @property
    def instruction_pointer(self) -> int:
        return self.regs.rip

    @instruction_pointer.setter
    def instruction_pointer(self, value: int) -> None:
        self.regs.rip = value

    @property
    def memory(self) -> MemoryView:
        return self._memory

    mem = memory

    @property
    def syscall_number(self):
        return self._main.syscall_number

    @syscall_number.setter
    def syscall_number(self, value):
        self._main.syscall_number = value

    @property
    def syscall_return(self):
        return self._main.syscall_return

    @syscall_return.setter
    def syscall_return(self, value):
        self._main.syscall_return = value

    # syscall_arg0 .. syscall_arg5: the main thread's (properties, not a
    # __setattr__, which would tax every attribute write of a Debugger).
    def _syscall_arg(index):  # noqa: N805 - a tiny property factory
        name = f"syscall_arg{index}"

        def get(self):
            return getattr(self._main, name)

        def set_(self, value):
            setattr(self._main, name, value)
        return property(get, set_, doc=f"Argument {index} of the syscall the main thread is stopped at.")

    syscall_arg0, syscall_arg1, syscall_arg2 = _syscall_arg(0), _syscall_arg(1), _syscall_arg(2)
    syscall_arg3, syscall_arg4, syscall_arg5 = _syscall_arg(3), _syscall_arg(4), _syscall_arg(5)
    del _syscall_arg

    def _signal_task(self):
        proc = self._require_proc()
        return proc.last_task if proc.last_task is not None and not proc.last_task.dead else self._main_task()

    @property
    def signal(self):
        return context_of(self._signal_task()).signal

    @signal.setter
    def signal(self, value):
        context_of(self._signal_task()).signal = value

    @property
    def signal_number(self) -> int:
        return context_of(self._signal_task()).signal_number

    @property
    def saved_ip(self) -> int:
        return self._main.saved_ip

    # ================================================================ maps & symbols
    def _binary_path(self):
        proc = self._proc
        if proc is not None and proc.exe_path:
            return proc.exe_path  # set at start/attach and at each exec
        return check_program(self.path)

    @property
    def maps(self):
        """The memory maps (re-read whenever the process may have run since)."""
        proc = self._live_proc()
        cached = self._maps_cache
        if cached is not None and cached[0] is proc and cached[1] == proc.run_epoch \
                and proc.state == "stopped":
            return cached[2]
        maps = read_maps(proc.pid, self._binary_path())
        self._maps_cache = (proc, proc.run_epoch, maps)
        return maps

    @property
    def symbols(self):
        maps = self.maps
        key = tuple(sorted({m.backing_file for m in maps}))
        if self._symbols_cache is None or self._symbols_cache[0] != key:
            self._symbols_cache = (key, build_symbols(maps))
        return self._symbols_cache[1]

    def resolve_symbol(self, symbol: str, file: str = "hybrid") -> int:
        return resolve_symbol(symbol, self.symbols, self.maps, file)

    def _resolve_position(self, position, file: str = "hybrid") -> int:
        return resolve_position(position, file, lambda: self.maps, lambda: self.symbols,
                                self._binary_path)

    def _backtrace(self, task, as_symbols: bool):
        from .symbols.cfi import Unwinder, modules_of
        self._ensure_stopped()
        regs = context_of(task).regs
        mem = self._memory

        def read_u64(address):
            try:
                return int.from_bytes(mem.read(address, 8), "little")
            except Exception:
                return None
        frames = Unwinder(modules_of(self.maps)).unwind(regs.rip, regs.rsp, regs.rbp, read_u64)
        if as_symbols:
            syms = self.symbols
            return [symbol_at(a, syms) or hex(a) for a in frames]
        return frames

    def backtrace(self, as_symbols: bool = False):
        return self._backtrace(self._main_task(), as_symbols)

    def _format_backtrace(self, task) -> str:
        frames = self._backtrace(task, False)
        syms = self.symbols
        return "\n".join(f"#{i:<2} {a:#018x} {symbol_at(a, syms) or '??'}" for i, a in enumerate(frames))

    # ================================================================ pretty printing
    def pprint_registers(self):
        print(format_registers(self.regs, include_fp=False))

    def pprint_registers_all(self):
        print(format_registers(self.regs, include_fp=True))

    def pprint_maps(self):
        print(format_maps(self.maps))

    def pprint_backtrace(self):
        print(self._format_backtrace(self._main_task()))

    def pprint_memory(self, start: int, end: int, file: str = "hybrid", override_word_size=None,
                      integer_mode: bool = False):
        start = self._resolve_position(start, file)
        end = self._resolve_position(end, file)
        if end < start:
            raise ValueError("pprint_memory: end is before start")
        data = self._memory.read(start, end - start)
        for off in range(0, len(data), 16):
            chunk = data[off:off + 16]
            hexpart = " ".join(f"{b:02x}" for b in chunk)
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            print(f"{start + off:#018x}  {hexpart:<47}  {text}")

    @property
    def pprint_syscalls(self) -> bool:
        return self._proc is not None and self._proc.pprint_syscalls

    @pprint_syscalls.setter
    def pprint_syscalls(self, value: bool) -> None:
        from .runtime.syscall_printer import ensure_printer
        proc = self._ensure_stopped()
        ensure_printer(self._tracer.session)
        proc.pprint_syscalls = bool(value)
        self._update_syscall_tracing(proc)

    @property
    def syscalls_to_pprint(self):
        """Only these syscalls are shown by pprint_syscalls (None: all)."""
        proc = self._proc
        return None if proc is None or proc.pprint_only is None else sorted(syscall_name(n) for n in proc.pprint_only)

    @syscalls_to_pprint.setter
    def syscalls_to_pprint(self, names) -> None:
        proc = self._require_proc()
        proc.pprint_only = None if names is None else {syscall_number(n) for n in names}

    @property
    def syscalls_to_not_pprint(self):
        """These syscalls are hidden from pprint_syscalls (None: none)."""
        proc = self._proc
        return None if proc is None or proc.pprint_hidden is None else sorted(syscall_name(n) for n in proc.pprint_hidden)

    @syscalls_to_not_pprint.setter
    def syscalls_to_not_pprint(self, names) -> None:
        proc = self._require_proc()
        proc.pprint_hidden = None if names is None else {syscall_number(n) for n in names}

    def tree(self) -> str:
        return lifecycle.format_tree(self)

    def pprint_tree(self) -> None:
        print(self.tree())

    # ================================================================ stopping events
    def breakpoint(self, position, hardware: bool = False, condition: str = "x", length: int = 1,
                   callback=None, file: str = "hybrid") -> Breakpoint:
        callback = _callback(callback)
        if not isinstance(hardware, bool):
            raise TypeError("hardware must be a bool")
        if condition not in ("x", "w", "rw", "r"):
            raise ValueError(f"condition must be 'x', 'w' or 'rw', not {condition!r}")
        if not hardware and (condition != "x" or length != 1):
            raise ValueError("a software breakpoint only supports condition='x' and length=1; "
                             "use hardware=True or watchpoint()")
        proc = self._ensure_stopped()
        address = self._resolve_position(position, file)
        if hardware:
            debugregs.validate_watch(address, condition, length)
        symbol = position if isinstance(position, str) else None
        self._memory.read(address, 1)  # an unmapped address fails here, clearly
        bp = Breakpoint(address, symbol, hardware, condition, length, callback, self)
        old = proc.breakpoints.get(address)
        if old is not None:
            self._tracer.call(self._remove_breakpoint, old)
        self._tracer.call(self._install_breakpoint, bp)
        return bp

    bp = breakpoint

    def watchpoint(self, position, condition: str = "w", length: int = 1, callback=None,
                   file: str = "hybrid") -> Breakpoint:
        return self.breakpoint(position, hardware=True, condition=condition, length=length,
                               callback=callback, file=file)

    wp = watchpoint

    def _install_breakpoint(self, bp) -> None:
        proc = self._proc
        if bp.hardware:
            free = [i for i, s in enumerate(proc.hw_slots) if s is None]
            if not free:
                raise RuntimeError("all four hardware debug registers are in use; "
                                   "remove a hardware breakpoint or watchpoint first")
            bp.slot = free[0]
            proc.hw_slots[bp.slot] = bp
            self._debug_registers_changed(proc)
        elif bp.enabled:
            proc.aspace.insert(bp.address)
        proc.breakpoints[bp.address] = bp

    def _remove_breakpoint(self, bp) -> None:
        proc = self._proc
        if proc.breakpoints.get(bp.address) is bp:
            del proc.breakpoints[bp.address]
        if bp.hardware:
            if bp.slot is not None and proc.hw_slots[bp.slot] is bp:
                proc.hw_slots[bp.slot] = None
                bp.slot = None
                self._debug_registers_changed(proc)
        elif bp.enabled and proc.state not in ("dead", "detached"):
            proc.aspace.remove(bp.address)

    def _debug_registers_changed(self, proc) -> None:
        proc.hw_used = True
        session = self._tracer.session
        for t in proc.tasks.values():
            t.dr_dirty = True
            if t.stopped:
                session.apply_debug_registers(t)

    def _set_enabled(self, event, enabled: bool) -> None:
        if event.enabled == enabled:
            return
        if self._proc is None or self._proc.state in ("dead", "detached"):
            event.enabled = enabled  # nothing left to arm or disarm
            return
        proc = self._ensure_stopped()
        if isinstance(event, Breakpoint):
            def apply():
                event.enabled = enabled
                if proc.breakpoints.get(event.address) is not event:
                    return
                if event.hardware:
                    self._debug_registers_changed(proc)
                elif enabled:
                    proc.aspace.insert(event.address)
                else:
                    proc.aspace.remove(event.address)
            self._tracer.call(apply)
        else:
            event.enabled = enabled
            self._update_syscall_tracing(proc)

    def delete_breakpoint(self, bp) -> None:
        """tether extra: remove a breakpoint or watchpoint for good."""
        self._ensure_stopped()
        self._tracer.call(self._remove_breakpoint, bp)

    @property
    def breakpoints(self) -> dict:
        return {} if self._proc is None else dict(self._proc.breakpoints)

    def handle_syscall(self, syscall, on_enter=None, on_exit=None, recursive: bool = False) -> SyscallHandler:
        on_enter = _callback(on_enter, "on_enter")
        on_exit = _callback(on_exit, "on_exit")
        proc = self._ensure_stopped()
        if syscall in ("*", "all", "ALL"):
            handler = SyscallHandler(-1, "*", on_enter, on_exit, recursive, self)
            proc.syscall_all = handler
        else:
            nr = syscall_number(syscall)
            handler = SyscallHandler(nr, syscall_name(nr), on_enter, on_exit, recursive, self)
            proc.syscall_handlers[nr] = handler
        self._update_syscall_tracing(proc)
        return handler

    def hijack_syscall(self, original_syscall, new_syscall, recursive: bool = False, **syscall_args):
        proc = self._ensure_stopped()
        orig = syscall_number(original_syscall)
        new = syscall_number(new_syscall)
        if orig == new:
            raise ValueError("hijack_syscall: the new syscall is the original one (it would loop)")
        args = {}
        for key, value in syscall_args.items():
            if not (key.startswith("syscall_arg") and key[11:].isdigit() and int(key[11:]) < 6):
                raise ValueError(f"hijack_syscall: unknown argument {key!r} (use syscall_arg0..syscall_arg5)")
            if not isinstance(value, int):
                raise TypeError(f"{key} must be an int")
            args[int(key[11:])] = value
        handler = SyscallHandler(orig, syscall_name(orig), None, None, recursive, self)
        handler.hijack_to = new
        handler.hijack_args = args
        proc.syscall_handlers[orig] = handler
        self._update_syscall_tracing(proc)
        return handler

    def _update_syscall_tracing(self, proc) -> None:
        proc.trace_syscalls = bool(
            proc.pprint_syscalls or proc.config.escape_antidebug
            or (proc.syscall_all is not None and proc.syscall_all.enabled)
            or any(h.enabled for h in proc.syscall_handlers.values()))

    @property
    def handled_syscalls(self) -> dict:
        proc = self._proc
        if proc is None:
            return {}
        out = dict(proc.syscall_handlers)  # keyed by syscall number, as in libdebug
        if proc.syscall_all is not None:
            out["*"] = proc.syscall_all
        return out

    def catch_signal(self, signal, callback=None, recursive: bool = False) -> SignalCatcher:
        callback = _callback(callback)
        proc = self._ensure_stopped()
        if signal in ("*", "all", "ALL"):
            catcher = SignalCatcher(-1, "*", callback, recursive, self)
            proc.signal_all = catcher
            return catcher
        nr = signal_number(signal)
        if nr in _UNCATCHABLE:
            raise ValueError(f"{signal_name(nr)} cannot be caught: the kernel never lets a process handle it")
        catcher = SignalCatcher(nr, signal_name(nr), callback, recursive, self)
        proc.signal_catchers[nr] = catcher
        return catcher

    def hijack_signal(self, original_signal, new_signal, recursive: bool = False) -> SignalCatcher:
        proc = self._ensure_stopped()
        orig = signal_number(original_signal)
        new = signal_number(new_signal)
        if orig in _UNCATCHABLE:
            raise ValueError(f"{signal_name(orig)} cannot be hijacked")
        if orig == new:
            raise ValueError("hijack_signal: the new signal is the original one")
        catcher = SignalCatcher(orig, signal_name(orig), None, recursive, self)
        catcher.hijack_to = new
        proc.signal_catchers[orig] = catcher
        return catcher

    @property
    def caught_signals(self) -> dict:
        proc = self._proc
        if proc is None:
            return {}
        out = dict(proc.signal_catchers)  # keyed by signal number, as in libdebug
        if proc.signal_all is not None:
            out["*"] = proc.signal_all
        return out

    @property
    def signals_to_block(self) -> list:
        proc = self._proc
        return [] if proc is None else [signal_name(s) for s in sorted(proc.signals_to_block)]

    @signals_to_block.setter
    def signals_to_block(self, signals) -> None:
        proc = self._require_proc()
        if isinstance(signals, (str, int)):
            signals = [signals]
        numbers = set()
        for s in signals:
            n = signal_number(s)
            if n in _UNCATCHABLE:
                raise ValueError(f"{signal_name(n)} cannot be blocked")
            numbers.add(n)
        proc.signals_to_block = numbers

    # ================================================================ lifecycle callbacks (extra)
    def on_fork(self, callback):
        """callback(parent_debugger, child_debugger), on the tracer thread, when a
        followed child process is born (it is stopped; callback may cont() it).
        Inherited by descendants."""
        return self._add_hook("fork", callback)

    def on_exec(self, callback):
        """callback(debugger) after the process execs a new program."""
        return self._add_hook("exec", callback)

    def on_exit(self, callback):
        """callback(debugger) after the process died (exit_code/exit_signal set)."""
        return self._add_hook("exit", callback)

    def on_thread(self, callback):
        """callback(debugger, thread) when a new thread of the process starts
        (before its first instruction). Inherited by children."""
        return self._add_hook("thread", callback)

    def on_thread_exit(self, callback):
        """callback(debugger, thread) after a (non-main) thread exited."""
        return self._add_hook("thread_exit", callback)

    def _add_hook(self, kind, callback):
        if not callable(callback):
            raise TypeError("callback must be callable")
        proc = self._require_proc()
        proc.add_hook(kind, callback)
        return callback

    # ================================================================ snapshots
    def create_snapshot(self, level: str = "base", name: str | None = None):
        from .snapshots.snapshot import process_snapshot
        self._ensure_stopped()
        return process_snapshot(self, level, name)

    def create_tree_snapshot(self, level: str = "base", name: str | None = None):
        """tether extra: one snapshot per process of the traced tree (this
        process and every followed descendant), diffable as a whole."""
        from .snapshots.snapshot import tree_snapshot
        return tree_snapshot(self, level, name)

    def load_snapshot(self, path: str):
        from .snapshots.snapshot import load_snapshot
        return load_snapshot(path)
