"""The PipeManager: talk to the traced program's stdin, stdout and stderr.

`Debugger.run()` returns one of these.  It follows libdebug 0.9's PipeManager
(names, parameters, defaults), with the choices below written down where
libdebug's documentation is silent.

Behaviour
---------
* Timeouts.  Every receive takes ``timeout`` in seconds; ``None`` means
  ``timeout_default`` (2 s, as in libdebug), read at call time, so
  ``pipe.timeout_default = 10`` changes every later call.  ``float("inf")``
  waits forever.  When the time runs out, the ``recvuntil`` family raises
  :class:`TimeoutError` and nothing is taken from the buffer.
* ``recv(numb=4096)`` returns as soon as at least one byte is available, at
  most ``numb`` bytes (pwntools' rule).  If nothing arrives in time it
  returns ``b""``, as libdebug's does.
* ``recvuntil(delims, occurences=1, drop=False)``: ``occurences`` keeps
  libdebug's spelling; ``occurrences=`` is accepted as a keyword alias (its
  documentation spells it that way).  ``delims`` may be one delimiter or a
  list/tuple of them (pwntools accepts a list).  Each occurrence ends at the
  delimiter match that *ends* first in the stream (ties: the longest), which
  makes the result independent of how the data was split into reads.  With
  ``drop=True`` every matched delimiter is removed, so
  ``recvline(numlines=2)`` on ``b"a\\nb\\n"`` gives ``b"ab"`` (libdebug
  joins the lines the same way).  The operation is all-or-nothing: nothing is
  consumed unless all the occurrences were found.
* A stopped process (libdebug's rule): what is buffered or sitting in the
  pipe is returned as for a running one, and the receive waits for the rest
  until its timeout (someone else may write: an untraced child sharing the
  pipe).  If then no traced process sharing the pipes is running
  (``is_running()`` is False), the ``recvuntil`` family raises
  :class:`ProcessStoppedError` (a RuntimeError, as libdebug's) instead of
  TimeoutError, or returns ``b""`` with ``optional=True``.  ``send`` is not affected: the kernel keeps the bytes in the
  pipe until the program reads them (we enlarge the stdin pipe so that up to
  1 MiB fits).  We also give ``recv``/``recverr`` the ``optional`` keyword.
* End of file.  Bytes the program wrote before it died stay readable.  Once a
  pipe reached EOF and the wanted data is not buffered, receives raise
  :class:`PipeClosedError` (a RuntimeError, as in libdebug, and an EOFError,
  as in pwntools).  EOF wins over the stopped rule: a dead process is not
  "stopped", so ``optional=True`` does not silence it.
* While waiting on one stream we also drain the other into its buffer, so a
  program that fills its stderr pipe cannot block while we wait for stdout.
* Sending to a stdin nobody reads any more raises PipeClosedError.  Python
  ignores SIGPIPE from startup, so the write fails with EPIPE instead of
  killing us.  If the stdin pipe is full and no process is running, ``send``
  raises ProcessStoppedError saying how many bytes went in (waiting would
  never end).
* ``str`` data and delimiters are encoded as UTF-8; anything but str or a
  bytes-like object is a TypeError.
* Threads: a callback thread and the user thread may use the same manager.  A
  lock guards the buffers; waiting happens outside the lock, so one slow
  receive never blocks another thread.  Each returned piece is taken from the
  buffer atomically.  ``close()`` must not race with other calls.
* Waiting never spins: we poll() the pipes with the remaining timeout, in
  slices of at most 50 ms so that a process that stops meanwhile is noticed.
* ``interactive(prompt="$ ", auto_quit=False)`` copies our stdin to the
  program's stdin and the program's stdout/stderr to ours.  It ends on EOF of
  our stdin (Ctrl-D), when the program's stdout and stderr both reach EOF,
  when its stdin is closed, on Ctrl-C, or (``auto_quit=True``) when no
  process is running any more.  The prompt is shown only when our stdin is a
  terminal.  Output the program writes after the session ended stays buffered
  for the next receive.

Contract with the runtime: ``is_running()`` must answer from the *user's*
point of view: True while the process runs, including the short internal stops
the debugger makes to run callbacks or step over breakpoints.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import sys
import threading
import time
import weakref
from collections.abc import Callable

from .pipe_args import Data, Delims, find_until as _find_until
from .pipe_args import to_bytes as _to_bytes
from .pipe_args import to_count as _to_count
from .pipe_args import to_delimiters as _to_delimiters
from .pipe_args import to_timeout as _to_timeout
from .attribution import STREAMS, OutputLog, OutputRecord, OutputWatch, ProcessOutput, file_identity

__all__ = ["PipeManager", "PipeClosedError", "ProcessStoppedError", "DEFAULT_TIMEOUT", "DEFAULT_PROMPT"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2  # seconds; libdebug's timeout_default
DEFAULT_PROMPT = "$ "  # libdebug's prompt_default
DEFAULT_RECV_SIZE = 4096  # libdebug's default numb

_READ_CHUNK = 65536  # one full default pipe (pipe(7)) per read
_MAX_READS_PER_PUMP = 16  # bound one drain so a fast writer cannot pin us
_MAX_READS_TO_THE_END = 4096  # reading a stream to its end (256 MiB): bounded all the same
_POLL_SLICE = 0.05  # longest sleep before we look at is_running() again
_RECORD_SLICE = 0.001  # sleep while bytes read wait for their write's record (by_process)
_STDIN_PIPE_SIZE = 1 << 20  # default /proc/sys/fs/pipe-max-size
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # fcntl(2), Linux >= 2.6.35


class PipeClosedError(RuntimeError, EOFError):
    """A pipe reached end of file (or was closed) and the data asked for is not buffered."""


class ProcessStoppedError(RuntimeError):
    """A receive needs more data, but no process that could write it is running."""


class _Stream:
    """One output pipe of the program and what we read from it but did not return yet."""

    __slots__ = ("name", "fd", "buffer", "eof")

    def __init__(self, name: str, fd: int) -> None:
        self.name = name
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False


def _close_all(fds: set) -> None:
    """Close what is left of a dropped PipeManager's descriptors (its
    finalizer: a script that never calls close() or terminate() must not
    run out of file descriptors)."""
    while fds:
        try:
            os.close(fds.pop())
        except OSError:
            pass


# ---------------------------------------------------------------- the manager

class PipeManager:
    """The program's stdin (write end) and stdout/stderr (read ends), with buffering."""

    def __init__(self, stdin_fd: int, stdout_fd: int, stderr_fd: int,
                 is_running: Callable[[], bool]) -> None:
        for name, fd in (("stdin_fd", stdin_fd), ("stdout_fd", stdout_fd), ("stderr_fd", stderr_fd)):
            if isinstance(fd, bool) or not isinstance(fd, int):
                raise TypeError(f"{name} must be an int file descriptor, not {type(fd).__name__}")
        if not callable(is_running):
            raise TypeError("is_running must be a callable returning bool")
        self._stdin_fd = stdin_fd
        self._stdout = _Stream("stdout", stdout_fd)
        self._stderr = _Stream("stderr", stderr_fd)
        self._is_running = is_running
        self._timeout_default: float = DEFAULT_TIMEOUT
        self._log: OutputLog | None = None  # output attribution (attribute_output())
        self._shares: dict = {}  # (pid, stream) -> the _Stream of a by_process() view
        self._lock = threading.Lock()  # guards both buffers and the eof flags
        self._send_lock = threading.Lock()  # keeps concurrent sends from interleaving
        self._stdin_closed = False
        self._closed = False
        # The descriptors still open: close() takes them out, the finalizer
        # closes the rest when the manager is garbage-collected (never one
        # twice: a number closed once may already name another file).
        self._open_fds = {stdin_fd, stdout_fd, stderr_fd}
        weakref.finalize(self, _close_all, self._open_fds)
        for fd in (stdin_fd, stdout_fd, stderr_fd):
            os.set_blocking(fd, False)  # we wait with poll(), never in read()/write()
        try:
            # A bigger stdin pipe lets send() succeed while the process is stopped.
            fcntl.fcntl(stdin_fd, _F_SETPIPE_SZ, _STDIN_PIPE_SIZE)
        except OSError:
            pass  # EPERM above the limit, or not a pipe: the default 64 KiB still works

    # ------------------------------------------------------------ settings

    @property
    def timeout_default(self) -> float:
        """Seconds a receive waits when called with ``timeout=None`` (2 by default)."""
        return self._timeout_default

    @timeout_default.setter
    def timeout_default(self, value) -> None:
        self._timeout_default = _to_timeout(value)

    # ------------------------------------------------------------ low level

    def _drain(self, stream: _Stream, reads: int = _MAX_READS_PER_PUMP) -> None:
        """Move what the pipe holds into the buffer. Caller holds the lock."""
        if stream.eof or self._closed:
            return
        log = self._log
        for _ in range(reads):
            try:
                chunk = os.read(stream.fd, _READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""  # EBADF/EIO (a pty whose every slave fd is closed): the end
            if not chunk:
                stream.eof = True  # every write end is closed: the writers are gone
                if log is not None:
                    log.ended(stream.name)
                return
            stream.buffer += chunk
            if log is not None:
                log.arrived(stream.name, chunk)

    def _wait_readable(self, timeout: float) -> None:
        """Sleep until an output pipe has data or EOF, or `timeout` seconds pass."""
        poller = select.poll()
        # A pipe at EOF polls readable forever; leave it out or we would spin.
        fds = [s.fd for s in (self._stdout, self._stderr) if not s.eof]
        if not fds or self._closed:
            return
        for fd in fds:
            poller.register(fd, select.POLLIN)
        poller.poll(timeout * 1000)

    def _receive(self, stream: _Stream, extract, timeout, optional: bool,
                 empty_at_timeout: bool = False, unaccounted=None) -> bytes:
        """Wait until `extract(buffer)` finds its data, then consume and
        return it; at the timeout, b"" if `empty_at_timeout` (recv).
        `unaccounted` (a by_process() view's): called under the lock after
        the drains, True while bytes read wait for their write's record,
        which tether's tracer thread makes within microseconds: then we
        look again soon instead of sleeping in poll()."""
        wait = self._timeout_default if timeout is None else _to_timeout(timeout)
        deadline = time.monotonic() + wait
        while True:
            # Ask before draining: a process seen stopped here wrote all its
            # output before stopping, so the drain below is sure to catch it.
            running = self._is_running()
            with self._lock:
                self._drain(self._stdout)
                self._drain(self._stderr)
                soon = unaccounted is not None and unaccounted()
                found = extract(stream.buffer)
                if found is not None:
                    data, consumed = found
                    del stream.buffer[:consumed]
                    return data
                held = len(stream.buffer)
                if self._closed:
                    raise PipeClosedError(f"the pipes were closed with close(); {held} byte(s) of "
                                          f"{stream.name} are still buffered")
                if stream.eof:
                    raise PipeClosedError(
                        f"the program's {stream.name} reached end of file (did it exit?) before "
                        f"the data asked for arrived; {held} byte(s) are still buffered")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if empty_at_timeout or (optional and not running):
                    return b""
                if not running:
                    raise ProcessStoppedError(
                        f"nothing matching on {stream.name} within {wait} s, and the process is "
                        f"stopped, so it writes nothing; continue it first, or pass optional=True "
                        f"to skip this receive")
                raise TimeoutError(f"no matching data on {stream.name} within {wait} s; "
                                   f"{held} byte(s) stay buffered")
            if soon:
                time.sleep(min(remaining, _RECORD_SLICE))
            else:
                self._wait_readable(min(remaining, _POLL_SLICE))

    # ------------------------------------------------------------ receiving

    def _recv(self, stream: _Stream, numb, timeout, optional, unaccounted=None) -> bytes:
        if numb is None:
            numb = DEFAULT_RECV_SIZE
        if isinstance(numb, bool) or not isinstance(numb, int):
            raise TypeError(f"numb must be an int, not {type(numb).__name__}")
        if numb < 0:
            raise ValueError(f"numb must not be negative, got {numb}")
        if numb == 0:
            return b""

        def first_bytes(buf: bytearray):
            return (bytes(buf[:numb]), min(numb, len(buf))) if buf else None

        return self._receive(stream, first_bytes, timeout, optional, True, unaccounted)

    def recv(self, numb: int | None = DEFAULT_RECV_SIZE, timeout: float | None = None,
             optional: bool = False) -> bytes:
        """Return at most `numb` bytes of stdout, as soon as at least one is available."""
        return self._recv(self._stdout, numb, timeout, optional)

    def recverr(self, numb: int | None = DEFAULT_RECV_SIZE, timeout: float | None = None,
                optional: bool = False) -> bytes:
        """Return at most `numb` bytes of stderr, as soon as at least one is available."""
        return self._recv(self._stderr, numb, timeout, optional)

    def _recvuntil(self, stream: _Stream, delims, occurences, drop, timeout, optional,
                   occurrences, unaccounted=None) -> bytes:
        if occurrences is not None:
            # The documentation spells it "occurrences", the code "occurences": take both.
            if occurences != 1 and occurences != occurrences:
                raise ValueError("give occurences or occurrences, not two different values")
            occurences = occurrences
        count = _to_count(occurences, "occurences")
        wanted = _to_delimiters(delims)
        drop = bool(drop)
        return self._receive(stream, lambda buf: _find_until(buf, wanted, count, drop),
                             timeout, optional, False, unaccounted)

    def recvuntil(self, delims: Delims, occurences: int = 1, drop: bool = False,
                  timeout: float | None = None, optional: bool = False, *,
                  occurrences: int | None = None) -> bytes:
        """Return stdout up to the `occurences`-th delimiter (included unless `drop`)."""
        return self._recvuntil(self._stdout, delims, occurences, drop, timeout, optional, occurrences)

    def recverruntil(self, delims: Delims, occurences: int = 1, drop: bool = False,
                     timeout: float | None = None, optional: bool = False, *,
                     occurrences: int | None = None) -> bytes:
        """Return stderr up to the `occurences`-th delimiter (included unless `drop`)."""
        return self._recvuntil(self._stderr, delims, occurences, drop, timeout, optional, occurrences)

    def recvline(self, numlines: int = 1, drop: bool = True, timeout: float | None = None,
                 optional: bool = False) -> bytes:
        """Return `numlines` lines of stdout, without their newlines unless drop=False."""
        _to_count(numlines, "numlines")
        return self._recvuntil(self._stdout, b"\n", numlines, drop, timeout, optional, None)

    def recverrline(self, numlines: int = 1, drop: bool = True, timeout: float | None = None,
                    optional: bool = False) -> bytes:
        """Return `numlines` lines of stderr, without their newlines unless drop=False."""
        _to_count(numlines, "numlines")
        return self._recvuntil(self._stderr, b"\n", numlines, drop, timeout, optional, None)

    # ------------------------------------------------------------ sending

    def send(self, data: Data) -> int:
        """Write all of `data` to the program's stdin; return the number of bytes sent."""
        payload = _to_bytes(data, "data")
        view = memoryview(payload)
        sent = 0
        with self._send_lock:
            if self._stdin_closed:
                raise PipeClosedError("the program's stdin was closed with close()/close_stdin()")
            while sent < len(payload):
                try:
                    sent += os.write(self._stdin_fd, view[sent:])
                except BlockingIOError:
                    # The pipe is full. Only a running process can empty it.
                    if not self._is_running():
                        raise ProcessStoppedError(
                            f"the stdin pipe is full and the process is stopped; sent {sent} of "
                            f"{len(payload)} bytes, continue the process and send the rest") from None
                    poller = select.poll()
                    poller.register(self._stdin_fd, select.POLLOUT)
                    poller.poll(_POLL_SLICE * 1000)
                except OSError as exc:
                    # EPIPE: no process holds the read end any more (pipe(7)).
                    if exc.errno in (errno.EPIPE, errno.EBADF):
                        raise PipeClosedError(
                            f"the program's stdin is closed (did it exit?); sent {sent} of "
                            f"{len(payload)} bytes") from exc
                    raise
        return sent

    def sendline(self, data: Data) -> int:
        """Send `data` followed by a newline."""
        return self.send(_to_bytes(data, "data") + b"\n")

    def sendafter(self, delims: Delims, data: Data, occurences: int = 1, drop: bool = False,
                  timeout: float | None = None, optional: bool = False, *,
                  occurrences: int | None = None) -> tuple[bytes, int]:
        """recvuntil() on stdout, then send(data); return (received, bytes sent)."""
        payload = _to_bytes(data, "data")  # check before receiving anything
        received = self.recvuntil(delims, occurences, drop, timeout, optional, occurrences=occurrences)
        return received, self.send(payload)

    def sendlineafter(self, delims: Delims, data: Data, occurences: int = 1, drop: bool = False,
                      timeout: float | None = None, optional: bool = False, *,
                      occurrences: int | None = None) -> tuple[bytes, int]:
        """recvuntil() on stdout, then sendline(data); return (received, bytes sent)."""
        payload = _to_bytes(data, "data")
        received = self.recvuntil(delims, occurences, drop, timeout, optional, occurrences=occurrences)
        return received, self.sendline(payload)

    def sendaftererr(self, delims: Delims, data: Data, occurences: int = 1, drop: bool = False,
                     timeout: float | None = None, optional: bool = False, *,
                     occurrences: int | None = None) -> tuple[bytes, int]:
        """recverruntil(), then send(data); return (received, bytes sent)."""
        payload = _to_bytes(data, "data")
        received = self.recverruntil(delims, occurences, drop, timeout, optional, occurrences=occurrences)
        return received, self.send(payload)

    def sendlineaftererr(self, delims: Delims, data: Data, occurences: int = 1, drop: bool = False,
                         timeout: float | None = None, optional: bool = False, *,
                         occurrences: int | None = None) -> tuple[bytes, int]:
        """recverruntil(), then sendline(data); return (received, bytes sent)."""
        payload = _to_bytes(data, "data")
        received = self.recverruntil(delims, occurences, drop, timeout, optional, occurrences=occurrences)
        return received, self.sendline(payload)

    # ------------------------------------------------------------ who wrote what

    def attribute_output(self, stdout_fd: int, stderr_fd: int) -> OutputWatch:
        """Start attributing the output (run(attribute_output=True) calls
        this before the program starts): `stdout_fd`/`stderr_fd` are the
        ends the program writes to. Returns the runtime's watch."""
        self._log = OutputLog()
        return OutputWatch(self, {"stdout": file_identity(stdout_fd),
                                  "stderr": file_identity(stderr_fd)})

    @property
    def attributing(self) -> bool:
        """Whether the output is attributed to processes (run(attribute_output=True))."""
        return self._log is not None

    def _require_log(self) -> OutputLog:
        if self._log is None:
            raise RuntimeError("the output is not attributed: start the program with "
                               "run(attribute_output=True)")
        return self._log

    def output_records(self, pid: int | None = None, stream: str | None = None,
                       since: int = 0) -> list:
        """Every write's bytes so far, in the order they arrived, as
        OutputRecord(pid, tid, stream, data); only those of `pid` and/or of
        `stream` ("stdout", "stderr") when given; `since`: leave out the
        first `since` records of the whole log (to follow it as it grows,
        pass how many records an unfiltered call returned so far). Bytes not
        yet accounted for by a returned write are not listed yet."""
        log = self._require_log()
        if stream is not None and stream not in STREAMS:
            raise ValueError(f"stream must be 'stdout' or 'stderr', not {stream!r}")
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError(f"since must be a number of records (an int >= 0), not {since!r}")
        with self._lock:
            self._drain(self._stdout)   # (a write's record is made once its bytes are read)
            self._drain(self._stderr)
            return [r for r in log.records[since:]
                    if (pid is None or r.pid == pid) and (stream is None or r.stream == stream)]

    def pop_output_records(self) -> list:
        """output_records(), and forget them: a script (or `tether trace`)
        that follows the log keeps no copy. A by_process() view made after
        this sees only what was written after it (views made before keep
        their shares)."""
        log = self._require_log()
        with self._lock:
            self._drain(self._stdout)
            self._drain(self._stderr)
            records, log.records = log.records, []
            return records

    def by_process(self, process) -> ProcessOutput:
        """What process `process` (a pid, or its Debugger) wrote, with the
        receive methods: `io.by_process(child).recvline()`."""
        self._require_log()
        return ProcessOutput(self, process)

    def record_output(self, stream: str, pid: int, tid: int, count) -> None:
        """A write of `count` bytes to `stream` by `pid`/`tid` returned
        (tether's tracer thread calls this, in the order the writes
        returned). None: its writer died inside it; every byte of the
        stream is read now, and what the earlier writes do not take is its."""
        log = self._log
        if log is None:
            return
        with self._lock:
            if count is not None:
                log.owe(stream, pid, tid, count)
                return
            source = self._stdout if stream == "stdout" else self._stderr
            # (a pty's read waits for what its other side queued: edge-cases §35)
            self._drain(source, reads=_MAX_READS_TO_THE_END)
            if not source.eof:
                log.lost(stream, pid, tid)

    def receive_share(self, pid: int, stream: str, kind: str, args: tuple, timeout,
                      optional: bool) -> bytes:
        """The receives of a by_process() view: as recv/recvuntil/recvline
        ("recv", "until", "line"), on what `pid` wrote to `stream`."""
        log = self._require_log()
        key = (pid, stream)
        with self._lock:
            share = self._shares.get(key)
            if share is None:
                share = self._shares[key] = _Stream(f"{stream} of process {pid}", -1)
                share.buffer = log.share(pid, stream)
        source = self._stdout if stream == "stdout" else self._stderr

        def unaccounted() -> bool:   # (under the lock)
            share.eof = source.eof  # nothing more can come to this share
            return log.waiting_for_a_count(stream)
        if kind == "recv":
            return self._recv(share, args[0], timeout, optional, unaccounted)
        if kind == "line":
            _to_count(args[0], "numlines")
            return self._recvuntil(share, b"\n", args[0], args[1], timeout, optional, None, unaccounted)
        return self._recvuntil(share, args[0], args[1], args[2], timeout, optional, None, unaccounted)

    # ------------------------------------------------------------ closing

    def close_stdin(self) -> None:
        """Close the program's stdin so that it reads end of file. Idempotent."""
        with self._send_lock:
            if not self._stdin_closed:
                self._stdin_closed = True
                self._open_fds.discard(self._stdin_fd)
                os.close(self._stdin_fd)

    def close(self) -> None:
        """Close all three pipes. Buffered output can still be received. Idempotent."""
        self.close_stdin()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for stream in (self._stdout, self._stderr):
                self._open_fds.discard(stream.fd)
                os.close(stream.fd)

    # ------------------------------------------------------------ interactive

    def interactive(self, prompt: str = DEFAULT_PROMPT, auto_quit: bool = False) -> None:
        """Connect our terminal to the program until EOF on either side or Ctrl-C."""
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be str, not {type(prompt).__name__}")
        try:
            in_fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError) as exc:
            raise RuntimeError("interactive() needs sys.stdin to be a real file (terminal or pipe)") from exc
        shown_prompt = prompt if prompt and os.isatty(in_fd) else ""
        try:
            self._interact(in_fd, shown_prompt, bool(auto_quit))
        except KeyboardInterrupt:
            pass  # Ctrl-C ends the session, as in libdebug
        finally:
            self._copy_out()

    def _interact(self, in_fd: int, prompt: str, auto_quit: bool) -> None:
        _write_text(sys.stdout, prompt)
        while True:
            if self._copy_out():
                log.warning("the program closed its stdout and stderr; leaving interactive mode")
                return
            if auto_quit and not self._is_running():
                return
            poller = select.poll()
            poller.register(in_fd, select.POLLIN)
            for stream in (self._stdout, self._stderr):
                if not stream.eof and not self._closed:
                    poller.register(stream.fd, select.POLLIN)
            # Without auto_quit nothing but the fds can end the wait: sleep until one is ready.
            events = poller.poll(_POLL_SLICE * 1000 if auto_quit else None)
            if not any(fd == in_fd for fd, _ in events):
                continue
            try:
                line = os.read(in_fd, 4096)
            except BlockingIOError:
                continue  # a non-blocking stdin woke us without data
            except OSError:
                line = b""  # EIO: the terminal went away; treat it like EOF
            if not line:
                return  # EOF on our stdin (Ctrl-D)
            try:
                self.send(line)
            except PipeClosedError:
                log.warning("the program's stdin is closed; leaving interactive mode")
                return
            except ProcessStoppedError:
                log.warning("the program's stdin is full and the process is stopped; "
                            "leaving interactive mode")
                return
            _write_text(sys.stdout, prompt)

    def _copy_out(self) -> bool:
        """Print what the program wrote; True once both its outputs reached EOF."""
        with self._lock:
            self._drain(self._stdout)
            self._drain(self._stderr)
            out, err = bytes(self._stdout.buffer), bytes(self._stderr.buffer)
            self._stdout.buffer.clear()
            self._stderr.buffer.clear()
            finished = self._stdout.eof and self._stderr.eof
        _write_bytes(sys.stdout, out)
        _write_bytes(sys.stderr, err)
        return finished or self._closed


def _write_bytes(target, data: bytes) -> None:
    """Write raw bytes to a text stream (sys.stdout/sys.stderr or a replacement)."""
    if not data:
        return
    binary = getattr(target, "buffer", None)
    if binary is not None:
        target.flush()  # keep order with text already written to the wrapper
        binary.write(data)
        binary.flush()
    else:
        target.write(data.decode("utf-8", "replace"))
        target.flush()


def _write_text(target, text: str) -> None:
    if text:
        target.write(text)
        target.flush()
