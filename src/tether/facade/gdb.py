"""Migrating a process to gdb and back (libdebug's `gdb()`, `is_in_gdb`,
`wait_for_gdb()`): tether lets go of the stopped process, gdb attaches
with tether's breakpoints recreated, and when gdb detaches or quits tether
takes the process back where gdb left it, with its breakpoints, handlers,
catchers, hooks and pipes as they were (runtime/migrate.py, gdb_launch.py,
docs/edge-cases.md §37)."""
from ..libcontext import libcontext
from ..runtime.migrate import hand_over
from .base import FacadeBase


class GdbResumeEvent:
    """What gdb(blocking=False) returns: join() waits until gdb has let go
    of the process and takes it back (as wait_for_gdb() does)."""

    def __init__(self, debugger, run):
        self._debugger = debugger
        self._run = run
        self.done = run is None

    def join(self) -> None:
        """Block until gdb has detached or quit, then take the process back
        (stopped where gdb left it). Returns at once if that is done."""
        if self.done:
            return
        run = self._run
        try:
            run.wait()
        finally:
            run.close()
            self.done = True
            self._debugger.control.take_back_from_gdb()


class GdbMixin(FacadeBase):
    """gdb, is_in_gdb, wait_for_gdb."""

    def gdb(self, migrate_breakpoints: bool = True, open_in_new_process: bool = True,
            blocking: bool = True, *, gdb_args=()) -> GdbResumeEvent:
        """Hand the stopped process to an interactive gdb (libdebug's
        migration): tether lets go of it, gdb attaches (in a new terminal
        window or pane when `open_in_new_process` and one can be opened:
        libcontext.terminal, or a terminal the script runs in; else in the
        script's own terminal), with tether's enabled breakpoints and
        watchpoints recreated there when `migrate_breakpoints`. gdb's
        `goback` command (or `detach`, or quitting gdb) gives the process
        back: with `blocking`, gdb() returns then, the process stopped where
        gdb left it and tether's breakpoints, handlers and pipes as they
        were; otherwise it returns at once and wait_for_gdb() (or the
        returned event's join()) takes it back. Only this process goes to
        gdb: the rest of the tree stays traced by tether. tether extra:
        `gdb_args`, more arguments for gdb's command line (e.g.
        ["-batch", "-x", "commands.gdb"]). As every command, a running
        process is first waited for until it stops (ASAP mode: interrupted)."""
        ctl = self._ctl
        ctl.refuse_in_own_callback("gdb")
        if ctl.gdb_event is not None:
            raise RuntimeError(f"process {ctl.process.pid} is in gdb already")
        if isinstance(gdb_args, str) or not all(isinstance(a, str) for a in gdb_args):
            raise TypeError("gdb_args must be a list of str")
        proc = ctl.ensure_stopped()
        if proc.seccomp:
            # Its declared syscalls end in SECCOMP_RET_TRACE, which fails with
            # ENOSYS under a tracer without PTRACE_O_TRACESECCOMP (gdb), or none.
            raise ValueError("a process started with syscall_filter can't go to gdb: its declared "
                             "syscalls would fail with ENOSYS there")
        # (imported here: subprocess and tempfile would cost every start-up ~10 ms)
        from .gdb_launch import GdbRun, detect_terminal, gdb_breakpoint_commands
        commands = gdb_breakpoint_commands(proc.breakpoints.values()) if migrate_breakpoints else []
        terminal = detect_terminal(libcontext.terminal) if open_in_new_process else []
        if open_in_new_process and not terminal:
            import warnings
            warnings.warn("tether: no terminal to open gdb in (set libcontext.terminal): gdb runs "
                          "in this one", RuntimeWarning, stacklevel=2)
        run = GdbRun(proc.pid, commands, list(gdb_args), terminal)
        try:
            ctl.tracer.call(hand_over, ctl.session, proc)
        except BaseException:
            run.close()
            raise
        event = ctl.gdb_event = GdbResumeEvent(self, run)
        try:
            run.start()
        except BaseException:
            event.join()  # (gdb did not start: take the process back at once)
            raise
        if blocking:
            event.join()
        return event

    @property
    def is_in_gdb(self) -> bool:
        """Whether the process has been handed to gdb and not taken back yet."""
        return self._ctl.gdb_event is not None

    def wait_for_gdb(self) -> None:
        """Block until gdb has let go of the process, and take it back
        (stopped where gdb left it). RuntimeError if it is not in gdb."""
        event = self._ctl.gdb_event
        if event is None:
            raise RuntimeError("the process is not in gdb")
        event.join()

