"""What `tether trace` prints: one Event per line, as indented text (the
process tree shows as indentation) or as JSON, and a live progress line on a
terminal.

Events are printed from tether's tracer thread (where the callbacks run) and
the progress line from the main thread, so every write takes one lock."""
import json
import os
import shlex
import sys
import threading
import time

from ..safe_files import open_log

# ANSI SGR colours (ECMA-48) for each kind of event.
_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"
_KIND_COLORS = {
    "start": "\x1b[1;32m", "attach": "\x1b[1;32m", "exec": "\x1b[32m",
    "fork": "\x1b[36m", "vfork": "\x1b[36m", "clone": "\x1b[36m",
    "thread": "\x1b[34m", "thread_exit": "\x1b[34m",
    "signal": "\x1b[33m", "stopped": "\x1b[33m", "breakpoint": "\x1b[35m", "syscall": "",
    "exit": "\x1b[1m", "detach": "\x1b[33m", "output": "\x1b[2;37m",
}
_RED = "\x1b[1;31m"
_CLEAR_LINE = "\r\x1b[K"


class Event:
    """One line of the trace. (A plain class, not a dataclass: importing
    dataclasses would cost every start-up some 11 ms.)"""
    __slots__ = ("time", "pid", "tid", "ppid", "kind", "details", "depth", "wall")

    def __init__(self, time: float, pid: int, tid: int, ppid: int | None, kind: str,
                 details: dict | None = None, depth: int = 0, wall: float | None = None):
        self.time = time        # seconds since the trace started
        self.pid = pid
        self.tid = tid
        self.ppid = ppid
        self.kind = kind
        self.details = {} if details is None else details
        self.depth = depth      # generation in the traced tree (text indentation only)
        self.wall = wall        # time.time() when it happened (for -t/-tt/-ttt)

    def __repr__(self) -> str:
        return "Event(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    def __eq__(self, other) -> bool:
        return type(other) is Event and \
            all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # (mutable)

    def to_json(self) -> str:
        return json.dumps({"time": round(self.time, 6), "pid": self.pid, "tid": self.tid,
                           "ppid": self.ppid, "kind": self.kind, "details": self.details},
                          separators=(",", ":"))


def describe(event: Event) -> str:
    """The human words of one event (no time, no pid)."""
    d = event.details
    kind = event.kind
    if kind == "start":
        return "start " + shlex.join(d.get("argv") or [d.get("path", "?")])
    if kind == "attach":
        n = d.get("threads", 1)
        return f"attached to {d.get('path') or '?'} ({n} thread{'s' if n != 1 else ''})"
    if kind in ("fork", "vfork", "clone"):
        return f"{kind} -> child {d['child']}"
    if kind == "thread":
        return "thread started"
    if kind == "thread_exit":
        how = f"killed by {d['signal']}" if d.get("signal") else f"exited {d.get('code')}"
        return f"thread {how}"
    if kind == "exec":
        argv = d.get("argv") or []
        rest = (" " + shlex.join(argv[1:])) if len(argv) > 1 else ""
        return f"exec {d.get('path')}{rest}"
    if kind == "signal":
        return f"signal {d['signal']}"
    if kind == "stopped":
        return f"stopped by {d['signal']}"
    if kind == "syscall":
        return d["text"]
    if kind == "breakpoint":
        return f"breakpoint {d['symbol']} (hit {d['hits']})"
    if kind == "exit":
        return f"killed by {d['signal']}" if d.get("signal") else f"exited {d['code']}"
    if kind == "detach":
        return "detached"
    if kind == "output":
        return f"{d['stream']} {d['text']}"
    return kind + (" " + json.dumps(d) if d else "")


def who(event: Event) -> str:
    """'pid', or 'pid/tid' for an event of a thread other than the main one."""
    if event.tid is None or event.tid == event.pid:
        return str(event.pid)
    return f"{event.pid}/{event.tid}"


def stamp_of(event: Event, timestamps: int = 0) -> str:
    """The time column: seconds since the start (default), or strace's -t
    (time of day), -tt (with microseconds), -ttt (seconds since the epoch)."""
    if not timestamps or event.wall is None:
        return f"{event.time:9.4f}"
    if timestamps >= 3:
        return f"{event.wall:.6f}"
    local = time.localtime(event.wall)
    text = time.strftime("%H:%M:%S", local)
    if timestamps == 2:
        text += f".{int((event.wall % 1) * 1_000_000):06d}"
    return text


def format_text(event: Event, color: bool = False, timestamps: int = 0) -> str:
    indent = "  " * event.depth
    words = describe(event)
    stamp = stamp_of(event, timestamps)
    if not color:
        return f"{stamp} {indent}{who(event)} {words}"
    tint = _KIND_COLORS.get(event.kind, "")
    if event.kind in ("exit", "thread_exit") and (event.details.get("signal")
                                                  or event.details.get("code") not in (0, None)):
        tint = _RED
    words = f"{tint}{words}{_RESET}" if tint else words
    return f"{_DIM}{stamp}{_RESET} {indent}{_BOLD}{who(event)}{_RESET} {words}"


def wants_color(choice: str, stream) -> bool:
    """--color: 'auto' colours only a terminal, and honours NO_COLOR (no-color.org)
    and TERM=dumb."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _isatty(stream)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Printer:
    """Writes events (text or JSON) to one stream.

    live: flush after every line (the stream is shared with the traced
    program's own output, or is a terminal), else flush from flush().
    progress: keep a one-line status at the bottom of a terminal; it is
    erased before each event line and redrawn by the main thread."""

    def __init__(self, stream, as_json: bool = False, color: bool = False, progress: bool = False,
                 live: bool = True, timestamps: int = 0):
        self.stream = stream
        self.timestamps = timestamps
        self.as_json = as_json
        self.color = color and not as_json
        self.progress = progress and not as_json
        self.live = live
        self.lock = threading.Lock()
        self.status_shown = False
        self.broken = False
        self.lines = 0

    def emit(self, event: Event) -> None:
        line = event.to_json() if self.as_json else format_text(event, self.color,
                                                                   self.timestamps)
        with self.lock:
            self._erase_status()
            self._write(line + "\n", self.live)
            self.lines += 1

    def write_block(self, text: str) -> None:
        """Several lines at once (the text summary)."""
        with self.lock:
            self._erase_status()
            self._write(text if text.endswith("\n") else text + "\n", True)

    def status(self, text: str) -> None:
        if not self.progress:
            return
        with self.lock:
            self._write(_CLEAR_LINE + (_DIM + text + _RESET if self.color else text), True)
            self.status_shown = True

    def clear_status(self) -> None:
        with self.lock:
            self._erase_status()

    def _erase_status(self) -> None:
        if self.status_shown:
            self.status_shown = False
            self._write(_CLEAR_LINE, True)

    def _write(self, text: str, flush: bool) -> None:
        """Write, and go quiet if the reader went away (`tether ... | head`):
        the trace goes on, like strace's does."""
        if self.broken:
            return
        try:
            self.stream.write(text)
            if flush:
                self.stream.flush()
        except (BrokenPipeError, ValueError):
            self.broken = True
            _silence(self.stream)

    def flush(self) -> None:
        with self.lock:
            if self.broken:
                return
            try:
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                self.broken = True
                _silence(self.stream)


def _silence(stream) -> None:
    """Point a standard stream whose pipe broke at /dev/null, so the flush at
    interpreter exit does not complain (Python's signal docs, "Note on
    SIGPIPE")."""
    if stream in (sys.stdout, sys.stderr):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def open_printer(opts) -> tuple:
    """(Printer, file to close or None) for the TraceOptions' -o/--json/--color."""
    if opts.output is None:
        stream, to_close, live = sys.stderr, None, True
    elif opts.output == "-":
        stream, to_close, live = sys.stdout, None, True
    else:
        stream = open_log(opts.output)  # never through a symlink planted at that name
        to_close, live = stream, False
    color = wants_color(opts.color, stream)
    progress = opts.progress and _isatty(stream) and not opts.json
    return Printer(stream, as_json=opts.json, color=color, progress=progress, live=live,
                   timestamps=opts.timestamps), to_close
