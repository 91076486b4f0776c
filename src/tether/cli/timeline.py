"""`tether trace --timeline FILE`: the run as a trace in the Chrome JSON
trace event format, which the Perfetto UI (ui.perfetto.dev, "Open trace
file") and chrome://tracing open.

The format ("Trace Event Format", the document Chrome's tracing team keeps)
in the parts used here: a JSON object {"traceEvents": [...]}; every event
has "ph" (phase), "pid", "tid", "ts" (microseconds), "name":
  M   metadata: process_name / thread_name (the track titles), and
      process_sort_index / thread_sort_index (birth order)
  X   a complete span with "dur": the life of a process (on its main
      thread's track) and of each thread, each system call
  i   an instant ("s": "t", on its thread's track): signal, exec,
      breakpoint hit, job-control stop
  s/f a flow arrow ("id", "bp": "e" on the end): fork / vfork / clone, from
      the parent's thread to the child's first track.

The events are kept in memory as small tuples and written at the end; past
MAX_SPANS system call spans only their count is kept (a note in the
metadata says so), so a long trace cannot exhaust memory."""
import json
import os

MAX_SPANS = 500_000
_US = 1_000_000


def _us(seconds: float) -> float:
    return round(seconds * _US, 3)


class Timeline:
    """Collects the events of one `tether trace` run (on the tracer thread)
    and writes them as Chrome JSON (on the main thread, at the end)."""

    def __init__(self):
        self.events = []          # trace-event dicts, in arrival order
        self.names = {}           # (pid, tid) -> track title
        self.order = []           # pids in birth order
        self.spans = 0
        self.dropped = 0
        self.flow_id = 0
        self.starts = {}          # (pid, tid) -> start time (s) of a process or thread life
        self.lives = []           # (pid, tid, name, start, end)

    # ------------------------------------------------------------------ lives
    def process_started(self, pid: int, path: str, t: float) -> None:
        self.order.append(pid)
        self.names[(pid, pid)] = f"{os.path.basename(path or '?')} {pid}"
        self.starts[(pid, pid)] = t

    def thread_started(self, pid: int, tid: int, t: float) -> None:
        self.names.setdefault((pid, tid), f"thread {tid}")
        self.starts[(pid, tid)] = t

    def ended(self, pid: int, tid: int, how: str, t: float) -> None:
        """A process (tid == pid) or thread ended (exited, killed, detached)."""
        start = self.starts.pop((pid, tid), None)
        if start is not None:
            self.lives.append((pid, tid, how, start, t))

    def renamed(self, pid: int, path: str) -> None:
        self.names[(pid, pid)] = f"{os.path.basename(path or '?')} {pid}"

    # ------------------------------------------------------------------ events
    def syscall(self, pid: int, tid: int, text: str, name: str, start: float, end: float,
                ret) -> None:
        if self.spans >= MAX_SPANS:
            self.dropped += 1
            return
        self.spans += 1
        self.events.append({"ph": "X", "cat": "syscall", "name": name, "pid": pid, "tid": tid,
                            "ts": _us(start), "dur": max(_us(end - start), 0.001),
                            "args": {"call": text, "return": ret}})

    def instant(self, pid: int, tid: int, category: str, name: str, t: float,
                args: dict | None = None) -> None:
        self.events.append({"ph": "i", "s": "t", "cat": category, "name": name, "pid": pid,
                            "tid": tid, "ts": _us(t), "args": args or {}})

    def fork(self, pid: int, tid: int, child: int, how: str, t: float) -> None:
        """An arrow from the parent's thread to the child's track."""
        self.flow_id += 1
        common = {"cat": "fork", "name": how, "id": self.flow_id, "ts": _us(t)}
        self.events.append({"ph": "s", "pid": pid, "tid": tid, **common})
        self.events.append({"ph": "f", "bp": "e", "pid": child, "tid": child, **common})

    # ------------------------------------------------------------------ output
    def trace_events(self, t_end: float) -> list:
        """Every event, with the lives still open closed at t_end."""
        out = []
        for index, pid in enumerate(self.order):
            out.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid,
                        "args": {"sort_index": index}})
        for (pid, tid), title in self.names.items():
            out.append({"ph": "M", "name": "process_name" if pid == tid else "thread_name",
                        "pid": pid, "tid": tid, "args": {"name": title}})
            if pid == tid:  # the main thread's own track title
                out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                            "args": {"name": f"main {pid}"}})
        lives = list(self.lives) + [(pid, tid, "running", start, t_end)
                                    for (pid, tid), start in self.starts.items()]
        for pid, tid, how, start, end in lives:
            what = "process" if pid == tid else "thread"
            out.append({"ph": "X", "cat": what, "name": f"{self.names.get((pid, tid), pid)}",
                        "pid": pid, "tid": tid, "ts": _us(start),
                        "dur": max(_us(end - start), 0.001), "args": {"end": how}})
        out.extend(self.events)
        return out

    def write(self, path: str, t_end: float) -> None:
        """Write the trace to `path`: it appears whole or not at all, is
        created in a fresh private file (never through a symlink: the final
        rename replaces a link instead of following it)."""
        document = {"traceEvents": self.trace_events(t_end), "displayTimeUnit": "ms",
                    "otherData": {"producer": "tether trace",
                                  "syscall_spans_dropped": self.dropped}}
        directory = os.path.dirname(os.path.abspath(path))
        import tempfile  # (only with --timeline: its import costs every start-up ~1 ms)
        fd, tmp = tempfile.mkstemp(prefix=".tether-timeline-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, separators=(",", ":"))
            os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
