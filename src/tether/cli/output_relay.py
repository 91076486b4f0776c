"""`tether trace --output-by-process`: the program's stdout and stderr go
through tether's PipeManager (ptys, so the program sees terminals as with
the library) with output attribution on; this relay copies each attributed
piece to tether's own stdout or stderr, in order, and makes it an "output"
event (pid, tid, stream, bytes) of the trace. tether's stdin is copied to
the program's stdin (a pipe) until its end.

Two daemon threads: one reads tether's stdin, one takes the attribution
log's records as they come (`PipeManager.pop_output_records()`) and
receives the merged streams, so that nothing is kept."""
import os
import threading

from ..commlink.pipes import PipeClosedError, ProcessStoppedError

_SLICE = 0.05   # seconds between two looks at the log when nothing arrives


def quote(data: bytes, limit: int) -> str:
    """`data` as strace shows a buffer: C escapes, at most `limit` bytes, then '...'."""
    escapes = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
    text = "".join(escapes.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}")
                   for b in data[:limit])
    return f'"{text}"' + ("..." if len(data) > limit else "")


class OutputRelay:
    """Copies a PipeManager's attributed output out, and our stdin in."""

    def __init__(self, pipes, on_record) -> None:
        self.pipes = pipes
        self.on_record = on_record   # called with each OutputRecord, in order
        self.lock = threading.Lock()   # (finish() may relay while the thread still runs)
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._follow, name="tether-output", daemon=True),
                        threading.Thread(target=self._feed, name="tether-input", daemon=True)]

    def start(self) -> None:
        """Start both threads."""
        for t in self.threads:
            t.start()

    def finish(self, timeout: float = 5.0) -> None:
        """Wait (at most `timeout` s) until the output reached its end and was relayed."""
        self.done.wait(timeout)
        self._relay()

    def _relay(self) -> None:
        with self.lock:
            self._write(self.pipes.pop_output_records())

    def _write(self, new) -> None:
        for record in new:
            target = 1 if record.stream == "stdout" else 2
            view = memoryview(record.data)
            while view:
                try:
                    view = view[os.write(target, view):]
                except BlockingIOError:
                    continue
                except OSError:
                    break   # our own output is gone (a closed pipe): keep the events
            self.on_record(record)

    def _follow(self) -> None:
        ended: set[str] = set()
        receives = {"stdout": self.pipes.recv, "stderr": self.pipes.recverr}
        try:
            while len(ended) < 2:
                for name, receive in receives.items():
                    if name in ended:
                        continue
                    try:
                        # The merged copy is not needed: taking it keeps memory flat.
                        receive(1 << 20, timeout=_SLICE / 2, optional=True)
                    except PipeClosedError:
                        ended.add(name)
                    except ProcessStoppedError:
                        pass
                self._relay()
        finally:
            self.done.set()

    def _feed(self) -> None:
        try:
            while True:
                data = os.read(0, 65536)
                if not data:
                    break
                self.pipes.send(data)
        except (OSError, PipeClosedError, ProcessStoppedError):
            pass
        try:
            self.pipes.close_stdin()
        except OSError:
            pass
