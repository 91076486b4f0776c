"""ProcessControl: one Debugger's traced process as tether's own parts see it.

The Debugger's user API stays libdebug's; what the other parts of tether need
from a Debugger (the memory view, thread contexts, snapshots, the exit
handler, the CLI) is here, public and documented, on an object of its own
(`Debugger.control`). It is also the process's listener, the interface the
runtime calls on the tracer thread (runtime/listener.py), and the owner of
the process's stopping events (their enable() and disable() call
set_enabled()).

State checks raise what the user should see: NotRunningError before run() or
attach(), ProcessDeadError after death, RuntimeError once detached or after
terminate(). By default a command given while the process runs waits for it
to stop; with auto_interrupt_on_command ("ASAP mode") the process is
interrupted instead, and stays stopped afterwards."""
import os

from ..errors import NotRunningError, ProcessDeadError
from ..memory.maps import read_maps
from ..memory.view import MemoryView
from ..ptrace import auxv_entry, cmdline_of, exe_of
from ..runtime.migrate import finish_take_back, take_back
from ..runtime.stepping import Stepper
from ..runtime.stopping_events import StoppingEvents
from ..state.states import GONE, ProcState
from ..state.stopping_events import Breakpoint
from ..symbols.program_file import check_program
from ..symbols.position import resolve_position as position_in
from ..symbols.debug_files import settings as symbol_settings
from ..symbols.symbol_list import build_symbols
from ..arch.amd64.signals import signal_name
from ..thread_context import context_of
from .. import lifecycle

STOPPED = ProcState.STOPPED
DEAD = ProcState.DEAD
DETACHED = ProcState.DETACHED
RUNNING = ProcState.RUNNING
IN_GDB = ProcState.IN_GDB
# The states wait() returns in: the user has control, or nothing is left to control.
SETTLED = (ProcState.STOPPED, ProcState.DEAD, ProcState.DETACHED)


def settled(proc) -> bool:
    """wait() returns: the user has control (the process is stopped, also
    by job control), or nothing is left to control."""
    return proc.state in SETTLED or proc.job_stopped


# The states in which a process may still write to the pipes.
ACTIVE = (ProcState.RUNNING, ProcState.STEPPING, ProcState.STOPPING, ProcState.STARTING,
          ProcState.IN_GDB)


class ProcessControl:
    """One Debugger's process. Attributes (read them freely; they change only
    through this class and the Debugger's commands):

      debugger   the Debugger this serves
      settings   its Settings (the traced Proc's `config` too)
      tracer     the tracer thread: call(fn, *args) runs fn there and returns
                 its result, post() without waiting, sync() waits for posted
                 commands, wait_for(predicate, timeout) blocks until
                 predicate() holds, on_tracer_thread()
      session    the tracer's Session (spawn, attach, resume, stop, kill, detach)
      events     the StoppingEvents component that arms stopping events
      process    the traced Proc, or None before run()/attach(). Read as it
                 is, without waiting for a cont() posted to the tracer (the
                 memory view's fast reads); live_process() and the other
                 checks sync first
      terminated True after terminate(): the Debugger cannot be used again
      argv, path, env  the program to run (env None: os.environ, or for a
                 followed child its parent's, copied when first needed)
      pipes      the PipeManager of the last run(), or None
      children   the Debuggers of followed child processes, in birth order
      parent     the parent's ProcessControl (a followed child), or None
      memory     the MemoryView (`d.memory`)
    """
    __slots__ = ("debugger", "settings", "tracer", "session", "events", "process", "terminated",
                 "argv", "path", "env", "pipes", "children", "parent", "memory", "facade_of",
                 "blocked_signals", "ended_tasks", "_maps_cache", "_symbols_cache",
                 "_snapshot_count", "gdb_event")

    def __init__(self, facade_of, settings, tracer, argv=None, path=None, env=None, parent=None,
                 pipes=None, events=None):
        """facade_of(control) makes the Debugger of a control (that of a
        followed child: see child_followed)."""
        self.facade_of = facade_of
        self.debugger = None
        self.settings = settings
        self.tracer = tracer
        self.session = tracer.session
        self.events = events if events is not None else StoppingEvents(tracer.session)
        self.process = None
        self.terminated = False
        self.argv = argv
        self.path = path
        self.env = env
        self.pipes = pipes
        self.children = []
        self.parent = parent
        self.memory = MemoryView(self)
        self.blocked_signals = set()  # signals_to_block as set by the user (every run)
        self.ended_tasks = []  # the threads of the process that have ended (not its leader)
        self._maps_cache = None
        self._symbols_cache = None
        self._snapshot_count = 0
        self.gdb_event = None  # the GdbResumeEvent while the process is in gdb (facade/gdb.py)

    # ------------------------------------------------------------ state checks
    def check_usable(self) -> None:
        """RuntimeError once the Debugger was terminated, or while its
        process is in gdb (Debugger.gdb())."""
        if self.terminated:
            raise RuntimeError("this Debugger was terminated; create a new one")
        proc = self.process
        if proc is not None and proc.state is IN_GDB:
            raise RuntimeError(f"process {proc.pid} is in gdb: call wait_for_gdb() to take it "
                               "back first")

    def require_process(self):
        """The traced Proc (dead or alive), after the commands this thread
        posted to the tracer are done; NotRunningError if there is none."""
        self.check_usable()
        self.tracer.sync()  # a posted cont() first (see Tracer.post)
        proc = self.process
        if proc is None:
            raise NotRunningError("no process: call run() or attach() first")
        return proc

    def live_process(self):
        """The traced Proc, still traced: ProcessDeadError if it died,
        RuntimeError if it was detached (and require_process()'s errors)."""
        proc = self.require_process()
        state = proc.state
        if state is DEAD:
            raise ProcessDeadError(f"process {proc.pid} is dead ({self.death_text()})")
        if state is DETACHED:
            raise RuntimeError(f"process {proc.pid} was detached; it is no longer traced")
        return proc

    def death_text(self) -> str:
        """How the process died: "killed by SIGxxx" or "exit code N"."""
        proc = self.process
        if proc.exit_signal is not None:
            return f"killed by {signal_name(proc.exit_signal)}"
        return f"exit code {proc.exit_code}"

    def refuse_in_own_callback(self, what: str) -> None:
        """RuntimeError if a callback of this very process is running on this
        thread: its process cannot be resumed, waited for or ended from
        there (the callback's thread is held until it returns). libdebug
        refuses the same calls."""
        proc = self.process
        if proc is not None and proc.in_callback and self.tracer.on_tracer_thread():
            raise RuntimeError(
                f"{what}() is not available in a callback of process {proc.pid}: the process "
                "goes on when the callback returns (call interrupt() to stop it then); "
                "other Debuggers of the tree can be driven from here")

    def raise_pending_error(self) -> None:
        """Raise (once) the exception a callback raised on the tracer thread."""
        proc = self.process
        if proc is not None and proc.pending_error is not None:
            err, proc.pending_error = proc.pending_error, None
            raise err

    def ensure_stopped(self):
        """Before a command: the live Proc, stopped. Waits for the process to
        stop (or, in ASAP mode, interrupts it); raises a callback's pending
        error. Inside a callback (on the tracer thread) the thread that ran
        it is stopped: no waiting there."""
        # live_process(), inlined: this runs before every command.
        if self.terminated:
            self.check_usable()
        tracer = self.tracer
        tracer.sync()
        proc = self.process
        if proc is None:
            raise NotRunningError("no process: call run() or attach() first")
        state = proc.state
        if state is STOPPED:
            if proc.pending_error is not None and not tracer.on_tracer_thread():
                self.raise_pending_error()
            return proc
        if state is DEAD or state is DETACHED or state is IN_GDB:
            return self.live_process()  # (raises)
        if tracer.on_tracer_thread() and proc.in_callback:
            return proc
        self.raise_pending_error()
        if (self.settings.auto_interrupt_on_command or proc.job_stopped) and state is RUNNING:
            # (A job-stopped process is stopped for the user; its threads wait
            # in the kernel's group-stop and are interrupted to be read.)
            self.interrupt()
        else:
            tracer.wait_for(lambda: settled(proc))
            if proc.job_stopped and proc.state is RUNNING:
                self.interrupt()
        self.raise_pending_error()
        if proc.state is not STOPPED:
            return self.live_process()
        return proc

    def await_stop(self) -> None:
        """Implicit waiting before a command or an observation that a dead
        process still answers (kill, hit_on, post-mortem registers): if the
        process runs, wait for its next stop or its death (in ASAP mode,
        interrupt it). Nothing to wait for: returns at once."""
        if self.terminated:
            return
        self.tracer.sync()  # a cont() just posted first
        proc = self.process
        if proc is None or proc.state is STOPPED or proc.state in GONE:
            return
        try:
            self.ensure_stopped()
        except ProcessDeadError:
            pass  # it died meanwhile: that is the stop waited for

    def stopped_process(self):
        """The Proc if it is stopped (and the Debugger usable), else None:
        the memory view's fast reads. Not synced with the tracer thread: a
        cont() just posted may not have resumed it yet, and the caller then
        reads memory that is about to change anyway."""
        proc = self.process
        if proc is not None and proc.state is STOPPED and not self.terminated:
            return proc
        return None

    def interrupt(self) -> None:
        """Stop every thread of the live process (no-op if it is stopped)."""
        proc = self.live_process()
        if proc.state is STOPPED:
            return
        self.tracer.call(self.session.stop_process, proc)
        if proc.in_callback and self.tracer.on_tracer_thread():
            return  # the process stops when the callback returns (as in libdebug)
        self.tracer.wait_for(lambda: proc.state in SETTLED)
        task = proc.last_task
        if task is not None and task.stop_reason is None:
            task.stop_reason = "interrupt"

    def main_task(self):
        """The Task of the process's main thread (ProcessDeadError if none is left)."""
        proc = self.require_process()
        task = proc.main_task
        if task is None:
            raise ProcessDeadError(f"process {proc.pid} has no live thread")
        return task

    def main_thread(self):
        """The ThreadContext of the process's main thread."""
        task = self.main_task()
        ctx = task.context
        return context_of(task) if ctx is None else ctx

    def signal_thread(self):
        """The ThreadContext whose signal d.signal shows: the thread whose
        event stopped the process, else the main thread."""
        proc = self.require_process()
        task = proc.last_task
        if task is None or task.dead:
            task = self.main_task()
        return context_of(task)

    def family(self) -> list:
        """This control and those of every followed descendant, parents first."""
        return [self] + [d.control for d in self.debugger.descendants]

    def tree_running(self) -> bool:
        """Whether a process of the whole traced tree (from its root) may
        still run, hence write to the pipes the tree shares."""
        self.tracer.sync()
        root = self
        while root.parent is not None:
            root = root.parent
        return any(c.process is not None and c.process.state in ACTIVE for c in root.family())

    # ------------------------------------------------------------ the program
    def program_path(self):
        """The program's path: `path` if given, else argv[0] (None without either)."""
        if self.path is not None:
            return self.path
        return self.argv[0] if self.argv else None

    @property
    def binary_path(self) -> str:
        """The file of the program the process runs (after exec, the new
        one); before run(), the checked path of the program to run."""
        proc = self.process
        if proc is not None and proc.exe_path:
            return proc.exe_path  # set at start/attach and at each exec
        return check_program(self.program_path())

    def environment(self) -> dict:
        """The environment run() gives the program, made a dict when first needed."""
        if self.env is None:
            parent = self.parent
            self.env = dict(os.environ) if parent is None else dict(parent.environment())
        return self.env

    def given_env(self):
        """The environment given by the user (for a followed child, its
        parent's given one), or None: the script's own."""
        ctl = self
        while ctl.env is None and ctl.parent is not None:
            ctl = ctl.parent
        return ctl.env

    def env_for_run(self):
        """The environment run() passes: None for os.environ as it is (never
        copied), else the `env` dict."""
        if self.env is None and self.parent is not None:
            return self.environment()
        return self.env

    def close_pipes(self) -> None:
        """Close the pipes of the last run() (a followed child only forgets
        its parent's, which it shared)."""
        if self.pipes is not None and self.parent is None:
            self.pipes.close()
        self.pipes = None

    def next_snapshot_id(self) -> int:
        """0, 1, 2...: the id of each snapshot taken of this process."""
        sid = self._snapshot_count
        self._snapshot_count = sid + 1
        return sid

    # ------------------------------------------------------------ starting
    def start(self, path, env, launch) -> None:
        """run()'s part on the tracer thread: start the program as `launch`
        says (runtime/launch.py), then (by default) run it to its entry point."""
        settings = self.settings
        proc = self.session.spawn(settings, path, self.argv, env, launch)
        self.take(proc)
        if not settings.continue_to_binary_entrypoint:
            return
        entry = auxv_entry(proc.pid)
        task = proc.main_task
        if entry is None or task.rip() == entry:
            return
        Stepper(self.session).run_to(task, entry, None)
        task.stop_reason = None

    def take(self, proc, exe=None) -> None:
        """Make `proc` (just started, attached or born) this control's process."""
        self.process = proc
        proc.debugger = self.debugger
        proc.listener = self
        proc.exe_path = exe or exe_of(proc.pid)
        self.events.update_syscall_tracing(proc)  # escape_antidebug needs syscall stops
        if self.blocked_signals:
            proc.signals_to_block = set(self.blocked_signals)
        self.children = []
        self.ended_tasks = []
        self._symbols_cache = None
        self._maps_cache = None

    def take_back_from_gdb(self) -> None:
        """gdb has let go of the process: seize it again, wait until it is
        stopped, put our breakpoints back (runtime/migrate.py)."""
        proc, tracer = self.process, self.tracer
        try:
            tracer.call(take_back, self.session, proc)
            tracer.wait_for(lambda: proc.state is not ProcState.STOPPING)
            tracer.call(finish_take_back, proc)
        finally:
            self.gdb_event = None
        self._maps_cache = None

    # ------------------------------------------------------------ maps and symbols
    @property
    def maps(self):
        """The memory maps, re-read whenever the process may have run since."""
        proc = self.live_process()
        cached = self._maps_cache
        if cached is not None and cached[0] is proc and cached[1] == proc.run_epoch \
                and proc.state is STOPPED:
            return cached[2]
        maps = read_maps(proc.pid, self.binary_path)
        self._maps_cache = (proc, proc.run_epoch, maps)
        return maps

    @property
    def symbols(self):
        """The symbols of every mapped file, rebuilt when the mapped files change."""
        maps = self.maps
        # The symbol settings (libcontext.sym_lvl) decide which tables are read.
        # (anonymous maps hold no symbols: their coming and going changes nothing)
        key = (symbol_settings.key(),
               tuple(sorted({m.backing_file for m in maps if not m.is_anonymous})))
        if self._symbols_cache is None or self._symbols_cache[0] != key:
            self._symbols_cache = (key, build_symbols(maps))
        return self._symbols_cache[1]

    def resolve_position(self, position, file: str = "hybrid") -> int:
        """The address a user's position names: an int (per the addressing
        mode `file`) or a symbol expression such as "main+0x10"."""
        return position_in(position, file, lambda: self.maps, lambda: self.symbols,
                           lambda: self.binary_path)

    # ------------------------------------------------------------ stopping events
    def set_enabled(self, event, enabled: bool) -> None:
        """Enable or disable one of this process's stopping events (their
        owner interface)."""
        if event.enabled == enabled:
            return
        proc = self.process
        if proc is None or proc.state in GONE:
            event.enabled = enabled  # nothing left to arm or disarm
            return
        proc = self.ensure_stopped()
        if isinstance(event, Breakpoint):
            self.tracer.call(self.events.set_breakpoint_enabled, proc, event, enabled)
        else:
            event.enabled = enabled
            self.events.update_syscall_tracing(proc)

    # ------------------------------------------------------------ the runtime's listener
    def thread_context(self, task):
        """The ThreadContext of `task` (ProcessListener)."""
        return context_of(task)

    def child_followed(self, child) -> None:
        """A followed child process was born (ProcessListener): give it a
        Debugger of its own, with a copy of our settings' state."""
        ctl = ProcessControl(self.facade_of, child.config, self.tracer, argv=list(self.argv),
                             path=self.path, parent=self,
                             pipes=self.pipes,  # children share the parent's pipes (as in libdebug)
                             events=self.events)
        dbg = self.facade_of(ctl)
        ctl.take(child, exe=self.process.exe_path)  # fork keeps the program
        ctl._symbols_cache = self._symbols_cache
        self.children.append(dbg)
        lifecycle.register(dbg)

    def child_attached(self, child, position: int) -> None:
        """A child process found by attach(pid, tree=True) is traced now
        (ProcessListener): a Debugger of its own, for the program it runs,
        with a copy of our settings (taken when it was found)."""
        exe = exe_of(child.pid)
        argv = cmdline_of(child.pid) or ([exe] if exe else list(self.argv or []))
        ctl = ProcessControl(self.facade_of, child.config, self.tracer, argv=argv,
                             path=exe or self.path, parent=self, pipes=self.pipes,
                             events=self.events)
        dbg = self.facade_of(ctl)
        ctl.take(child, exe=exe)
        self.children.insert(position, dbg)
        lifecycle.register(dbg)

    def thread_ended(self, task) -> None:
        """A thread of the process ended (ProcessListener): d.threads keeps it."""
        self.ended_tasks.append(task)

    def inherit_events_from(self, parent) -> None:
        """inherit_stopping_events (ProcessListener): copy the stopping events
        of Proc `parent` into this process, at its first stop."""
        self.events.inherit(parent, self.process, self)

    def image_replaced(self) -> None:
        """The process exec'd (ProcessListener): symbols and maps belong to
        the new program now."""
        self._symbols_cache = None
        self._maps_cache = None
        proc = self.process
        exe = exe_of(proc.pid)
        if exe:
            self.path = exe
            proc.exe_path = exe
