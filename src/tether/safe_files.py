"""Files tether writes and reads, made safe for a debugger that often runs
as root on a machine other users share.

Writing: `atomic_write(path)` writes to a temporary file that only this call
can have created (mkstemp: an unguessable name, O_CREAT|O_EXCL, so a symlink
or file planted in the directory is never opened), flushes it to disk, and
renames it over `path` (rename replaces a symlink at `path` itself, it never
writes through it). A reader sees the old file or the whole new one.

A stream written as it goes (an event log) can't be renamed into place:
`open_log(path)` opens it without following a symlink at `path`.

Reading: `open_regular(path)` opens a path for reading only if it is a
regular file (checked on the opened descriptor with fstat, so a swap after
the check cannot matter), without blocking (a FIFO's open would wait for a
writer) and without making a terminal our controlling one. Every read is
bounded: `read_whole(path, limit)` refuses a file larger than `limit`
before reading it, and `read_at(fd, offset, size, file_size)` never asks for
more than the file holds.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat

__all__ = ["UnsafeFileError", "atomic_write", "open_log", "open_regular", "read_at", "read_whole"]


class UnsafeFileError(ValueError):
    """A file tether was asked to read is not one it will read (not a
    regular file, a symlink where none is allowed, or larger than allowed)."""


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symlink"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path, what: str = "file", follow_symlinks: bool = True) -> tuple[int, os.stat_result]:
    """(fd, fstat result) of `path` opened read-only, if it is a regular file.

    OSError as the open raises it (missing, no permission); UnsafeFileError
    naming `what` and the path when it is anything but a regular file (or a
    symlink, with follow_symlinks=False). The caller closes the fd."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    # (forever, for a FIFO named by hostile data); for a regular file it
    # changes nothing. O_NOCTTY: a terminal device must not become ours.
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if not follow_symlinks and e.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            raise UnsafeFileError(f"{what} '{os.fsdecode(path)}' is a symlink; not following it") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(f"{what} '{os.fsdecode(path)}' is {_kind(st.st_mode)}, "
                                  f"not a regular file; not reading it")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_at(fd: int, offset: int, size: int, file_size: int) -> bytes:
    """Up to `size` bytes at `offset`, never past `file_size` (what fstat
    said): a huge size read from a corrupt header allocates nothing."""
    if offset < 0 or size <= 0 or offset >= file_size:
        return b""
    size = min(size, file_size - offset)
    parts = []
    while size > 0:
        chunk = os.pread(fd, size, offset)
        if not chunk:
            break  # the file shrank meanwhile
        parts.append(chunk)
        offset += len(chunk)
        size -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_whole(path, limit: int, what: str = "file") -> bytes:
    """The bytes of regular file `path`; UnsafeFileError if it is not a
    regular file or holds more than `limit` bytes (checked before reading)."""
    fd, st = open_regular(path, what)
    try:
        if st.st_size > limit:
            raise UnsafeFileError(f"{what} '{os.fsdecode(path)}' is {st.st_size} bytes, more than "
                                  f"the limit of {limit} bytes")
        # One byte more than the limit: a file that grew past it is refused too.
        data = read_at(fd, 0, limit + 1, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnsafeFileError(f"{what} '{os.fsdecode(path)}' grew past the limit of {limit} bytes")
    return data


@contextlib.contextmanager
def atomic_write(path):
    """Context manager: a binary file object whose bytes replace `path` when
    the block ends without an exception (nothing is left behind otherwise).

    The new file has mode 0600 (it may hold a process's memory); it is
    fsynced before the rename, and the directory after it."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    base = os.path.basename(path)
    if not base:
        raise IsADirectoryError(f"'{path}' names a directory, not a file")
    # mkstemp: O_CREAT|O_EXCL|O_NOFOLLOW with a random name, retried on a clash.
    import tempfile  # (here: its import costs every start-up some ms, tether trace's too)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    done = False
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)  # rename(2): replaces a symlink at `path`, never follows it
        done = True
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def open_log(path):
    """A text file object writing (truncating) `path`, created if missing,
    never through a symlink at `path` (an OSError saying so: name its target)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "it is a symlink, and tether does not write through one "
                          "(name its target instead)", os.fsdecode(path)) from None
        raise
    return os.fdopen(fd, "w", encoding="utf-8")
