"""Who wrote what: the PipeManager's output, attributed to the processes
that wrote it (`run(attribute_output=True)`; README, "Who wrote what").

Three parts:

* `OutputLog` (pure, no system call): the counts of the writes in the
  order they returned, the bytes read from each stream, and the ordered
  records `(pid, tid, stream, data)` they make, one per write, each made
  once all its bytes were read; and each process's share of a stream.
  tether's tracer thread only hands over a count (reading the pty itself
  would make it wait for the tty layer's worker at every write); the bytes
  are matched with the counts whenever the PipeManager reads.
* `OutputWatch`: what the runtime holds (`proc.output_watch`, see
  runtime/output_turns.py): the two streams, each with the identity of the
  file the program writes to (the pty's device and inode) and its `Turn`;
  `stream_of(tid, fd)` tells whether fd `fd` of thread `tid` is one of
  them, by the identity of the file behind `/proc/TID/fd/FD`, asked at
  every write (so dup2, F_DUPFD, close, exec, an fd passed over a unix
  socket, or the pty reopened by its name are all followed: no cache to
  go stale); `record` hands a returned write's count to the PipeManager.
* `ProcessOutput`: `io.by_process(pid)`, the receive methods of the
  PipeManager on one process's share of stdout and stderr.
"""
from __future__ import annotations

import collections
import os

from ..runtime.output_turns import Turn

__all__ = ["OutputRecord", "OutputLog", "OutputWatch", "ProcessOutput", "STREAMS"]

STREAMS = ("stdout", "stderr")


class OutputRecord(collections.namedtuple("OutputRecord", "pid tid stream data")):
    """One write's bytes as they arrived in a stream: pid and tid (int, or
    None for bytes no traced write accounts for, see the README), stream
    ("stdout" or "stderr"), data (bytes). (collections.namedtuple, not
    typing.NamedTuple: importing typing would cost every start-up ~8 ms.)"""
    __slots__ = ()


class OutputLog:
    """The attribution's bookkeeping (the caller serialises access). Per
    stream: the counts of returned writes whose bytes were not all read yet
    (`owed`, in order), and the bytes read that no count took yet
    (`unaccounted`); a write's record is made once all its bytes were read,
    so that each write is one record."""

    def __init__(self) -> None:
        self.unaccounted = {name: bytearray() for name in STREAMS}
        self.owed: dict[str, collections.deque] = {name: collections.deque() for name in STREAMS}
        self.records: list[OutputRecord] = []
        # (pid, stream) -> what that process wrote and no by_process() view
        # received yet; made on a view's first use (from the records).
        self.shares: dict[tuple, bytearray] = {}

    def arrived(self, stream: str, data: bytes) -> None:
        """Bytes read from `stream`, in the order they came."""
        self.unaccounted[stream] += data
        if self.owed[stream]:
            self._settle(stream)

    def owe(self, stream: str, pid, tid, count: int) -> None:
        """A write of `count` bytes by `pid`/`tid` returned: the next `count`
        bytes of the stream not taken by an earlier write are its."""
        self.owed[stream].append((pid, tid, count))
        self._settle(stream)

    def lost(self, stream: str, pid, tid) -> None:
        """A writer died inside its write, its count unknown: once every
        byte of the stream has been read (the caller's part), what the
        earlier writes do not take is its."""
        self._settle(stream)
        self._take(stream, pid, tid, len(self.unaccounted[stream]))

    def ended(self, stream: str) -> None:
        """The stream reached end of file: what no write accounts for came
        from a writer tether does not see (pid None)."""
        self._settle(stream)
        self.owed[stream].clear()
        self._take(stream, None, None, len(self.unaccounted[stream]))

    def waiting_for_a_count(self, stream: str) -> bool:
        """Bytes were read that wait for the count of the write that put
        them there (which tether's tracer thread gives within microseconds)."""
        return bool(self.unaccounted[stream]) and not self.owed[stream]

    def share(self, pid, stream: str) -> bytearray:
        """The bytes of `stream` written by `pid` and not yet received from its view."""
        key = (pid, stream)
        found = self.shares.get(key)
        if found is None:
            found = self.shares[key] = bytearray()
            for r in self.records:
                if r.pid == pid and r.stream == stream:
                    found += r.data
        return found

    def _settle(self, stream: str) -> None:
        owed, pending = self.owed[stream], self.unaccounted[stream]
        while owed and len(pending) >= owed[0][2]:
            pid, tid, count = owed.popleft()
            self._take(stream, pid, tid, count)

    def _take(self, stream: str, pid, tid, count: int) -> None:
        if count <= 0:
            return
        pending = self.unaccounted[stream]
        record = OutputRecord(pid, tid, stream, bytes(pending[:count]))
        del pending[:count]
        self.records.append(record)
        share = self.shares.get((pid, stream))
        if share is not None:
            share += record.data


def file_identity(fd: int) -> tuple[int, int]:
    """(device, inode) of the file behind our descriptor `fd`."""
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


class WatchedStream:
    """One output stream as the runtime sees it."""
    __slots__ = ("name", "identity", "turn")

    def __init__(self, name: str, identity: tuple[int, int]) -> None:
        self.name = name
        self.identity = identity
        self.turn = Turn()


class OutputWatch:
    """The runtime's view of the attributed streams (proc.output_watch)."""

    def __init__(self, manager, identities: dict) -> None:
        self.manager = manager
        self.streams = tuple(WatchedStream(name, identities[name]) for name in STREAMS)
        self.by_identity = {s.identity: s for s in self.streams}

    def stream_of(self, tid: int, fd: int):
        """The stream fd `fd` of thread `tid` writes to, or None. The fd is
        the argument register's low 32 bits, as the kernel reads it."""
        fd &= 0xFFFFFFFF   # (an unsigned int to the kernel: docs/edge-cases.md §35)
        if fd >= 1 << 31:
            return None   # (EBADF: the call fails)
        try:
            st = os.stat(f"/proc/{tid}/fd/{fd}")
        except OSError:
            return None   # not open (EBADF), or the thread is gone
        return self.by_identity.get((st.st_dev, st.st_ino))

    def record(self, stream: WatchedStream, pid: int, tid: int, count) -> None:
        """A write of `count` bytes (None: unknown, the writer died in it)
        to `stream` by `pid`/`tid` returned (tracer thread)."""
        self.manager.record_output(stream.name, pid, tid, count)


def _pid_of(process) -> int:
    if isinstance(process, bool):
        raise TypeError("by_process() takes a pid (int) or a Debugger, not bool")
    if isinstance(process, int):
        return process
    pid = getattr(process, "pid", None)
    if isinstance(pid, int) and not isinstance(pid, bool):
        return pid
    raise TypeError(f"by_process() takes a pid (int) or a Debugger, not {type(process).__name__}")


class ProcessOutput:
    """What one process wrote to the program's stdout and stderr, with the
    PipeManager's receive methods (same arguments, defaults and errors).
    Bytes are taken from this process's share only: the PipeManager's own
    recv() family still sees every byte, independently."""

    def __init__(self, manager, process) -> None:
        self.pid = _pid_of(process)
        self.manager = manager

    def __repr__(self) -> str:
        return f"<ProcessOutput pid={self.pid}>"

    def recv(self, numb: int | None = 4096, timeout: float | None = None,
             optional: bool = False) -> bytes:
        """At most `numb` bytes this process wrote to stdout, as soon as one is there."""
        return self.manager.receive_share(self.pid, "stdout", "recv", (numb,), timeout, optional)

    def recverr(self, numb: int | None = 4096, timeout: float | None = None,
                optional: bool = False) -> bytes:
        """At most `numb` bytes this process wrote to stderr, as soon as one is there."""
        return self.manager.receive_share(self.pid, "stderr", "recv", (numb,), timeout, optional)

    def recvuntil(self, delims, occurences: int = 1, drop: bool = False,
                  timeout: float | None = None, optional: bool = False) -> bytes:
        """This process's stdout up to the `occurences`-th delimiter."""
        return self.manager.receive_share(self.pid, "stdout", "until", (delims, occurences, drop),
                                          timeout, optional)

    def recverruntil(self, delims, occurences: int = 1, drop: bool = False,
                     timeout: float | None = None, optional: bool = False) -> bytes:
        """This process's stderr up to the `occurences`-th delimiter."""
        return self.manager.receive_share(self.pid, "stderr", "until", (delims, occurences, drop),
                                          timeout, optional)

    def recvline(self, numlines: int = 1, drop: bool = True, timeout: float | None = None,
                 optional: bool = False) -> bytes:
        """`numlines` lines this process wrote to stdout."""
        return self.manager.receive_share(self.pid, "stdout", "line", (numlines, drop),
                                          timeout, optional)

    def recverrline(self, numlines: int = 1, drop: bool = True, timeout: float | None = None,
                    optional: bool = False) -> bytes:
        """`numlines` lines this process wrote to stderr."""
        return self.manager.receive_share(self.pid, "stderr", "line", (numlines, drop),
                                          timeout, optional)
