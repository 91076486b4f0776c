"""Starting gdb on a process tether has let go of (Debugger.gdb()), and
knowing when gdb has let go of it in turn.

gdb gets a command file (in a private directory of our own) that recreates
the breakpoints, defines `goback` (give the process back to tether: detach
and quit), and makes every way gdb can let go of the process (`detach`,
`goback`, `quit`, the end of a batch run, Ctrl-D) first queue a SIGSTOP,
so the process stops again before running one instruction untraced and
tether takes it back exactly where gdb left it (docs/edge-cases.md §37).
The command file also leaves marks in that directory (attached, released,
failed): the script knows from them, and from /proc, when to take the
process back, whether gdb runs as its child or in a terminal of its own."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from typing import Any

# How long gdb may take to attach (its start, with symbols to read).
ATTACH_TIMEOUT = 60.0
POLL = 0.01

# Terminals found among the script's ancestors (by command name), and how
# each runs a command in a new window or pane.
_TERMINALS = (
    ("tmux", ["tmux", "split-window", "-h"]),
    ("gnome-terminal", ["gnome-terminal", "--"]),
    ("konsole", ["konsole", "-e"]),
    ("xfce4-terminal", ["xfce4-terminal", "-x"]),
    ("terminator", ["terminator", "-x"]),
    ("tilix", ["tilix", "-e"]),
    ("alacritty", ["alacritty", "-e"]),
    ("kitty", ["kitty"]),
    ("xterm", ["xterm", "-e"]),
)

_WATCH_TYPES = {1: "char", 2: "short", 4: "int", 8: "long"}


def gdb_breakpoint_commands(breakpoints) -> list:
    """gdb commands recreating tether's enabled breakpoints and watchpoints."""
    out = []
    for bp in breakpoints:
        if not bp.enabled:
            continue
        if not bp.hardware:
            out.append(f"break *{bp.address:#x}")
        elif bp.condition == "x":
            out.append(f"hbreak *{bp.address:#x}")
        else:
            kind = "watch" if bp.condition == "w" else "awatch"
            out.append(f"{kind} *({_WATCH_TYPES.get(bp.length, 'char')} *) {bp.address:#x}")
    return out


def command_file_text(pid: int, marks: str, breakpoint_commands: list) -> str:
    """The gdb command file (see the module's docstring)."""
    lines = [
        "python",
        "import os as _tether_os, signal as _tether_signal",
        f"_tether_pid, _tether_marks = {int(pid)}, {marks!r}",
        "def _tether_mark(name):",
        "    try:",
        "        _tether_os.close(_tether_os.open(_tether_os.path.join(_tether_marks, name),",
        "                         _tether_os.O_CREAT | _tether_os.O_EXCL | _tether_os.O_WRONLY, 0o600))",
        "    except OSError:",
        "        pass",
        "def _tether_release(*_):",
        "    # A SIGSTOP queued while gdb holds the process: taken as gdb lets it",
        "    # go, before one instruction runs; tether takes it back from there.",
        "    if gdb.selected_inferior().pid == _tether_pid:",
        "        try:",
        "            _tether_os.kill(_tether_pid, _tether_signal.SIGSTOP)",
        "        except OSError:",
        "            pass",
        "        _tether_mark('released')",
        "class _TetherGoBack(gdb.Command):",
        "    '''Give the process back to tether where it is (detach, then quit).'''",
        "    def __init__(self):",
        "        super().__init__('goback', gdb.COMMAND_RUNNING)",
        "    def invoke(self, arg, from_tty):",
        "        gdb.execute('detach')",
        "        gdb.execute('quit')",
        "_TetherGoBack()",
        "if hasattr(gdb.events, 'gdb_exiting'):",
        "    gdb.events.gdb_exiting.connect(_tether_release)",
        "def _tether_sigstop_pending():",
        "    try:",
        "        with open('/proc/%d/status' % _tether_pid) as f:",
        "            masks = [int(l.split()[1], 16) for l in f if l.startswith(('SigPnd', 'ShdPnd'))]",
        "    except (OSError, ValueError):",
        "        return False",
        "    return any(m & (1 << 18) for m in masks)",
        "def _tether_sigstop_taken(event):",
        "    # gdb's attach to a stopped process leaves a SIGSTOP pending (the",
        "    # kernel's own): silently dropped at the first continue, then",
        "    # SIGSTOP is handled as gdb's default again.",
        "    if not _tether_sigstop_pending():",
        "        gdb.events.stop.disconnect(_tether_sigstop_taken)",
        "        gdb.execute('handle SIGSTOP stop print pass', to_string=True)",
        "if _tether_sigstop_pending():",
        "    gdb.execute('handle SIGSTOP nostop noprint nopass', to_string=True)",
        "    gdb.events.stop.connect(_tether_sigstop_taken)",
        "_tether_mark('attached' if gdb.selected_inferior().pid == _tether_pid else 'failed')",
        "end",
        "define hook-detach",
        "python _tether_release()",
        "end",
        "define hook-quit",
        "python _tether_release()",
        "end",
    ]
    lines.extend(breakpoint_commands)
    return "\n".join(lines) + "\n"


def detect_terminal(configured) -> list:
    """The command that opens a new terminal window or pane: the configured
    one (libcontext.terminal), else one found among the script's ancestors
    (empty: none, gdb then runs in the script's own terminal)."""
    if configured:
        return list(configured)
    pid = os.getpid()
    for _ in range(64):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            break
        name = stat[stat.index(b"(") + 1:stat.rindex(b")")].decode(errors="replace").lower()
        for key, command in _TERMINALS:
            if name.startswith(key) and shutil.which(command[0]) and _usable(key):
                return list(command)
        pid = int(stat[stat.rindex(b")") + 2:].split()[1])
        if pid <= 1:
            break
    return []


def _usable(key: str) -> bool:
    if key == "tmux":
        return bool(os.environ.get("TMUX"))
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class GdbRun:
    """One gdb session on process `pid`: started by start(), over when
    finished() says so (poll), its files removed by close()."""

    def __init__(self, pid: int, breakpoint_commands: list, extra_args=(), terminal=()):
        gdb = shutil.which("gdb")
        if gdb is None:
            raise RuntimeError("gdb was not found on PATH: install it to migrate to gdb")
        self.pid = pid
        self.dir = tempfile.mkdtemp(prefix="tether-gdb-")  # (mode 0700, a new name)
        self.command_file = os.path.join(self.dir, "migrate.gdb")
        fd = os.open(self.command_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(command_file_text(pid, self.dir, breakpoint_commands))
        self.argv = [gdb, "-q", "-p", str(pid), "-x", self.command_file, *extra_args]
        self.terminal = list(terminal)
        self.child: subprocess.Popen[bytes] | None = None
        self.opener: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.let_go_at: float | None = None
        self.previous_sigint: Any = None

    def start(self) -> None:
        """Run gdb: in a new terminal when there is one, else as our child
        in the script's terminal (the script then ignores Ctrl-C, which is
        gdb's, until gdb is done)."""
        self.started = time.monotonic()
        if self.terminal:
            # (The terminal command returns at once or runs gdb itself: it is
            # reaped when done, never waited for to know when gdb is.)
            self.opener = subprocess.Popen([*self.terminal, *self.argv], stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           start_new_session=True)
            return
        try:
            self.previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:
            self.previous_sigint = None  # (not the main thread: Ctrl-C stays as it is)
        try:
            self.child = subprocess.Popen(self.argv)
        except OSError:
            self._restore_sigint()
            raise

    def _marked(self, name: str) -> bool:
        return os.path.exists(os.path.join(self.dir, name))

    def finished(self) -> bool:
        """gdb has let go of the process (or died, or never got it)."""
        if _gone(self.pid):
            return True
        if self.child is not None and self.child.poll() is not None:
            return True
        if self._marked("failed"):
            return True
        if self._marked("released"):
            return self._let_go()
        if not self._marked("attached") and time.monotonic() - self.started > ATTACH_TIMEOUT:
            warnings.warn(f"tether: gdb did not attach to process {self.pid} within "
                          f"{ATTACH_TIMEOUT:.0f} s: taking it back", RuntimeWarning, stacklevel=3)
            return self._let_go()
        return False

    def _let_go(self) -> bool:
        """gdb has detached every thread, and the process is back in its
        job-control stop (a thread detached from a stopped group runs a
        moment on its way there; if someone continued the process in gdb it
        never gets there: after a second, it is taken back as it runs)."""
        if any(tracer_of(self.pid, tid) for tid in _tids(self.pid)):
            self.let_go_at = None
            return False
        if self.let_go_at is None:
            self.let_go_at = time.monotonic()
        return _state(self.pid) in ("T", None) or time.monotonic() - self.let_go_at > 1.0

    def wait(self) -> None:
        """Block until finished()."""
        while not self.finished():
            time.sleep(POLL)
        for process in (self.child, self.opener):
            if process is not None:
                try:
                    process.wait(timeout=2)  # (quitting; it may stay open after a `detach`)
                except subprocess.TimeoutExpired:
                    pass
        self._restore_sigint()

    def _restore_sigint(self) -> None:
        if self.previous_sigint is not None:
            signal.signal(signal.SIGINT, self.previous_sigint)
            self.previous_sigint = None

    def close(self) -> None:
        """Remove the command file and the marks."""
        shutil.rmtree(self.dir, ignore_errors=True)


def tracer_of(pid: int, tid: int | None = None) -> int:
    """TracerPid of a process's thread (its leader by default) in /proc
    (0: untraced or gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid if tid is None else tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"TracerPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tids(pid: int) -> list:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _state(pid: int):
    """The one-letter state of /proc/<pid>/stat (None: gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3].decode()


def _gone(pid: int) -> bool:
    return _state(pid) in (None, "Z", "X")
