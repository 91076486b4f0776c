"""Strace-like formatting of an x86-64 system call: its arguments decoded by
kind (flags, file descriptors, strings read from the tracee) and its return
value (errno names for errors).
"""
from __future__ import annotations

import errno as _errno
import os
import struct

from .signals import SIGNAL_NAMES
from .syscall_structs import STAT_SIZE, STATX_SIZE, format_stat, format_statx
from .syscall_table import SYSCALL_ARGS, syscall_name

__all__ = ["format_syscall", "AT_FDCWD"]

# How to show the return value; signed decimal unless listed.
_RETURN_KINDS = {"mmap": "ptr", "mmap2": "ptr", "mremap": "ptr", "brk": "ptr", "shmat": "ptr",
                 "exit": "none", "exit_group": "none"}


# --- value decoders ---------------------------------------------------------------------

def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def _signed64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def _flags(value: int, table, empty: str = "0") -> str:
    """'A|B|0x40' from a table of (name, bits); multi-bit names come before their parts."""
    names = []
    for name, bits in table:
        if value & bits == bits:
            names.append(name)
            value &= ~bits
    if value:
        names.append(hex(value))
    return "|".join(names) or empty


# include/uapi/asm-generic/fcntl.h (values are octal there too).
_OPEN_FLAGS = (
    ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000), ("O_NONBLOCK", 0o4000), ("O_SYNC", 0o4010000),
    ("O_DSYNC", 0o10000), ("O_ASYNC", 0o20000), ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000), ("O_TMPFILE", 0o20200000), ("O_DIRECTORY", 0o200000),
    ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000), ("O_CLOEXEC", 0o2000000),
    ("O_PATH", 0o10000000),
)
_ACCESS_MODES = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")
_CREATES = 0o100 | 0o20000000  # O_CREAT or __O_TMPFILE: only then is `mode` used

_PROT_FLAGS = (("PROT_READ", 0x1), ("PROT_WRITE", 0x2), ("PROT_EXEC", 0x4), ("PROT_SEM", 0x8),
               ("PROT_GROWSDOWN", 0x01000000), ("PROT_GROWSUP", 0x02000000))
_MAP_TYPES = {1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}
_MAP_FLAGS = (
    ("MAP_FIXED", 0x10), ("MAP_ANONYMOUS", 0x20), ("MAP_32BIT", 0x40),
    ("MAP_GROWSDOWN", 0x100), ("MAP_DENYWRITE", 0x800), ("MAP_EXECUTABLE", 0x1000),
    ("MAP_LOCKED", 0x2000), ("MAP_NORESERVE", 0x4000), ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000), ("MAP_STACK", 0x20000), ("MAP_HUGETLB", 0x40000),
    ("MAP_SYNC", 0x80000), ("MAP_FIXED_NOREPLACE", 0x100000),
)
# include/uapi/linux/sched.h; the low byte of clone()'s flags is the exit signal.
_CLONE_FLAGS = (
    ("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400),
    ("CLONE_SIGHAND", 0x800), ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000),
    ("CLONE_VFORK", 0x4000), ("CLONE_PARENT", 0x8000), ("CLONE_THREAD", 0x10000),
    ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000), ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x100000), ("CLONE_CHILD_CLEARTID", 0x200000),
    ("CLONE_DETACHED", 0x400000), ("CLONE_UNTRACED", 0x800000),
    ("CLONE_CHILD_SETTID", 0x1000000), ("CLONE_NEWCGROUP", 0x2000000),
    ("CLONE_NEWUTS", 0x4000000), ("CLONE_NEWIPC", 0x8000000), ("CLONE_NEWUSER", 0x10000000),
    ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000), ("CLONE_IO", 0x80000000),
)
_AT_FLAGS = (
    ("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_REMOVEDIR", 0x200), ("AT_SYMLINK_FOLLOW", 0x400),
    ("AT_NO_AUTOMOUNT", 0x800), ("AT_EMPTY_PATH", 0x1000), ("AT_STATX_FORCE_SYNC", 0x2000),
    ("AT_STATX_DONT_SYNC", 0x4000), ("AT_RECURSIVE", 0x8000),
)
AT_FDCWD = -100
_ACCESS_BITS = (("R_OK", 4), ("W_OK", 2), ("X_OK", 1))
_WHENCE = {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}
_SIGHOW = {0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"}
_FCNTL = {
    0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK",
    6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN", 10: "F_SETSIG",
    11: "F_GETSIG", 36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
    1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY", 1030: "F_DUPFD_CLOEXEC",
    1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
}
# include/uapi/linux/futex.h
_FUTEX_CMDS = ("FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
               "FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
               "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
               "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2")
_FUTEX_PRIVATE, _FUTEX_CLOCK_REALTIME = 128, 256
# arch/x86/include/uapi/asm/prctl.h
_ARCH_PRCTL = {0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
               0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID"}

# Kernel-internal codes a tracer can see in rax at syscall exit when a signal
# interrupted the call (include/linux/errno.h); the program never sees them.
_ERRNO_NAMES = dict(_errno.errorcode)
_ERRNO_NAMES.update({512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND",
                     515: "ENOIOCTLCMD", 516: "ERESTART_RESTARTBLOCK"})
_MAX_ERRNO = 4095  # returns in [-4095, -1] are errors (include/linux/err.h)

_STRING_LIMIT = 32      # like strace's default -s 32, for data buffers
_PATH_LIMIT = 4096      # paths are shown whole (PATH_MAX)
_ARRAY_LIMIT = 1024     # at most this many argv/envp entries are read
_PAGE = 4096
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
# Syscalls whose return value is a new file descriptor (shown with its path under -y).
_RETURNS_FD = frozenset((
    "open", "openat", "openat2", "creat", "dup", "dup2", "dup3", "socket", "accept", "accept4",
    "memfd_create", "epoll_create", "epoll_create1", "eventfd", "eventfd2", "signalfd",
    "signalfd4", "timerfd_create", "inotify_init", "inotify_init1", "pidfd_open",
    "pidfd_getfd", "fanotify_init", "userfaultfd", "perf_event_open", "open_by_handle_at",
    "memfd_secret", "io_uring_setup", "fsopen", "fsmount", "fspick", "open_tree"))


_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\t"): "\\t",
            ord("\r"): "\\r", ord("\v"): "\\v", ord("\f"): "\\f"}


def _quote(data: bytes, limit: int) -> str:
    """A C string literal of `data` as strace writes it (octal escapes, as
    short as the next character allows), cut after `limit` bytes with '...'."""
    shown = data[:limit]
    out = []
    for i, byte in enumerate(shown):
        escape = _ESCAPES.get(byte)
        if escape is not None:
            out.append(escape)
        elif 32 <= byte < 127:
            out.append(chr(byte))
        elif i + 1 < len(shown) and 0x30 <= shown[i + 1] <= 0x37:
            out.append(f"\\{byte:03o}")   # an octal digit follows: all three digits
        else:
            out.append(f"\\{byte:o}")
    return '"' + "".join(out) + '"' + ("..." if len(data) > limit else "")


def _signal_text(value: int) -> str:
    number = _signed32(value)
    return SIGNAL_NAMES.get(number, str(number))


class _Reader:
    """Reads tracee memory through the caller's callables (unreadable memory
    gives None), and carries how to show what it read: the string size
    (strace's -s), verbose (-v), the path of a file descriptor (-y)."""

    def __init__(self, read_string, read_memory, limit=_STRING_LIMIT, verbose=False,
                 fd_path=None, word=8):
        self.word = word  # bytes of a pointer and a long: 8, or 4 for a 32-bit process
        self.read_string = read_string
        self.read_memory = read_memory
        self.limit = limit
        self.verbose = verbose
        self.fd_path = fd_path

    def fd(self, fd: int, label: str | None = None) -> str:
        """'3', or '3</etc/passwd>' when the caller can tell fds' paths
        (AT_FDCWD: the working directory, 'AT_FDCWD</home/me>')."""
        label = str(fd) if label is None else label
        if self.fd_path is None or (fd < 0 and fd != AT_FDCWD):
            return label
        try:
            path = self.fd_path(fd)
        except (OSError, ValueError):
            path = None
        return label if path is None else f"{label}<{path}>"

    def struct(self, address: int, size: int) -> bytes | None:
        """Exactly `size` bytes at `address`, or None."""
        if not address or self.read_memory is None:
            return None
        try:
            data = self.read_memory(address, size)
        except (OSError, ValueError):
            return None
        return None if data is None or len(data) < size else bytes(data[:size])

    def pointer_array(self, address: int) -> tuple[list, bool] | None:
        """The pointers of a NULL-terminated array (argv, envp): (pointers,
        complete?), at most _ARRAY_LIMIT of them; None if unreadable. Read a
        page at a time (the array may end just before an unmapped page)."""
        word = self.word
        if not address or address % word:
            return None
        out: list = []
        while len(out) < _ARRAY_LIMIT:
            at = address + word * len(out)
            size = min(_PAGE - at % _PAGE, word * (_ARRAY_LIMIT - len(out)))
            raw = self.struct(at, size)
            if raw is None:
                return None if not out else (out, False)
            for (pointer,) in (_U64 if word == 8 else _U32).iter_unpack(raw):
                if pointer == 0:
                    return out, True
                out.append(pointer)
        return out, False

    def string(self, address: int) -> bytes | None:
        if not address or self.read_string is None:
            return None
        try:
            data = self.read_string(address)
        except (OSError, ValueError):  # unmapped or unreadable: show the address
            return None
        if data is None:
            return None
        end = data.find(b"\0")
        return bytes(data if end < 0 else data[:end])

    def block(self, address: int, size: int) -> bytes | None:
        if not address:
            return None
        size = min(size, self.limit)  # no need to fetch what is not shown
        if self.read_memory is not None:
            try:
                data = self.read_memory(address, size)
            except (OSError, ValueError):
                return None
            return None if data is None else bytes(data[:size])
        if self.read_string is None:
            return None
        # Only a string reader: the block is what it returns (possibly cut at a NUL).
        try:
            data = self.read_string(address)
        except (OSError, ValueError):
            return None
        return None if data is None else bytes(data[:size])


def _pointer(value: int) -> str:
    return "NULL" if value == 0 else hex(value)


def _format_arg(kind: str, value: int, args: list[int], ret: int | None,
                reader: _Reader) -> str | None:
    """One argument as text; None means "leave it out" (an unused open mode)."""
    kind, _, ref = kind.partition("@")
    if kind == "int":
        return str(_signed32(value))
    if kind == "fd":
        return reader.fd(_signed32(value))
    if kind == "long":
        return str(_signed64(value) if reader.word == 8 else _signed32(value))
    if kind == "ulong":
        return str(value & ((1 << 8 * reader.word) - 1))
    if kind == "hex":
        return hex(value)
    if kind == "offset":
        return hex(value) if value else "0"
    if kind == "ptr":
        return _pointer(value)
    if kind == "dirfd":
        fd = _signed32(value)
        return reader.fd(fd, "AT_FDCWD" if fd == AT_FDCWD else None)
    if kind == "str":
        data = reader.string(value)
        return _pointer(value) if data is None else _quote(data, _PATH_LIMIT)
    if kind in ("buf", "obuf"):
        length = args[int(ref)]
        if kind == "obuf":
            # An output buffer holds data only after a successful call.
            if ret is None or _is_error(ret):
                return _pointer(value)
            length = _signed64(ret)
        data = reader.block(value, length)
        if data is None:
            return _pointer(value)
        limit = reader.limit
        return _quote(data[:limit], limit) + ("..." if length > limit else "")
    if kind in ("argv", "envp"):
        return _string_array(kind, value, reader)
    if kind in ("ostat", "ostatx"):
        if ret is None or _is_error(ret):
            return _pointer(value)
        size, decode = (STAT_SIZE, format_stat) if kind == "ostat" else (STATX_SIZE, format_statx)
        data = reader.struct(value, size)
        return _pointer(value) if data is None else decode(data, reader.verbose)
    if kind == "ostr":
        if ret is None or _is_error(ret):
            return _pointer(value)
        data = reader.string(value)
        return _pointer(value) if data is None else _quote(data, _PATH_LIMIT)
    if kind == "mode":
        return f"0{value & 0o7777:o}" if value & 0o7777 else "000"
    if kind == "cmode":
        if not args[int(ref)] & _CREATES:
            return None
        return f"0{value & 0o7777:o}" if value & 0o7777 else "000"
    if kind == "oflags":
        access = _ACCESS_MODES[value & 3]
        rest = _flags(value & ~3 & 0xFFFFFFFF, _OPEN_FLAGS, "")
        return access + ("|" + rest if rest else "")
    if kind == "fdflags":
        return _flags(value & 0xFFFFFFFF, _OPEN_FLAGS)
    if kind == "prot":
        return _flags(value & 0xFFFFFFFF, _PROT_FLAGS, "PROT_NONE")
    if kind == "mapflags":
        value &= 0xFFFFFFFF
        kind_name = _MAP_TYPES.get(value & 0xF)
        rest = _flags(value & ~0xF if kind_name else value, _MAP_FLAGS, "")
        return "|".join(part for part in (kind_name, rest) if part) or "0"
    if kind == "cloneflags":
        text = _flags(value & ~0xFF, _CLONE_FLAGS, "")
        if value & 0xFF:
            text = (text + "|" if text else "") + _signal_text(value & 0xFF)
        return text or "0"
    if kind == "signal":
        return _signal_text(value)
    if kind == "atflags":
        return _flags(value & 0xFFFFFFFF, _AT_FLAGS)
    if kind == "whence":
        return _WHENCE.get(value & 0xFFFFFFFF, str(_signed32(value)))
    if kind == "amode":
        return _flags(value & 0xFFFFFFFF, _ACCESS_BITS, "F_OK")
    if kind == "sighow":
        return _SIGHOW.get(value & 0xFFFFFFFF, str(_signed32(value)))
    if kind == "fcntl":
        return _FCNTL.get(value & 0xFFFFFFFF, str(_signed32(value)))
    if kind == "futexop":
        command = value & 0x7F
        text = _FUTEX_CMDS[command] if command < len(_FUTEX_CMDS) else str(command)
        if value & _FUTEX_PRIVATE:
            text += "_PRIVATE"
        if value & _FUTEX_CLOCK_REALTIME:
            text += "|FUTEX_CLOCK_REALTIME"
        return text
    if kind == "archprctl":
        return _ARCH_PRCTL.get(value & 0xFFFFFFFF, hex(value))
    raise ValueError(f"unknown syscall argument kind {kind!r}")


def _string_array(kind: str, value: int, reader: _Reader) -> str:
    """execve's argv as a list of strings; its envp as '0x7ffd... /* 20 vars */'
    unless verbose (strace's abbreviation)."""
    found = reader.pointer_array(value)
    if found is None:
        return _pointer(value)
    pointers, complete = found
    if kind == "envp" and not reader.verbose:   # counted, not read
        more = "" if complete else "+"
        return f"{_pointer(value)} /* {len(pointers)}{more} vars */"
    strings = [reader.string(p) for p in pointers]
    shown = ["?" if s is None else _quote(s, reader.limit) for s in strings]
    return "[" + ", ".join(shown) + ("" if complete else ", ...") + "]"


def _is_error(ret: int) -> bool:
    return -_MAX_ERRNO <= _signed64(ret) < 0


def _format_return(name: str, ret: int, reader: _Reader) -> str:
    if _RETURN_KINDS.get(name) == "none":
        return "?"
    signed = _signed64(ret)
    if -_MAX_ERRNO <= signed < 0:
        code = -signed
        errno_name = _ERRNO_NAMES.get(code)
        if errno_name is None:
            return f"-1 errno {code}"
        if code in _errno.errorcode:   # strace adds the description (strerror)
            return f"-1 {errno_name} ({os.strerror(code)})"
        return f"-1 {errno_name}"
    if _RETURN_KINDS.get(name) == "ptr":
        return hex(ret & ((1 << 64) - 1))
    if name in _RETURNS_FD:
        return reader.fd(signed)
    return str(signed)


def format_syscall(name, args: list[int], read_string=None, ret: int | None = None,
                   read_memory=None, string_limit: int = _STRING_LIMIT, verbose: bool = False,
                   fd_path=None, table=None) -> str:
    """One strace-like line: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3`.

    name: syscall name or number. args: the six raw argument registers (fewer are
    padded with 0). read_string(address) -> bytes | None reads a C string from the
    tracee (None or OSError/ValueError: shown as an address). read_memory(address,
    size) -> bytes | None, if given, is used for data buffers so they are not cut at
    a NUL byte. ret: the raw rax at syscall exit, or None at syscall entry (then no
    " = ..." part, and output buffers show as addresses). string_limit: bytes of
    a data string or argv entry shown (strace's -s; paths are shown whole).
    verbose: execve's environment and every stat field (strace's -v).
    fd_path(fd) -> str | None: the path behind a file descriptor (strace's -y).
    table: another architecture's syscall table (an object with syscall_name,
    SYSCALL_ARGS and WORD, the bytes of a pointer: arch/i386/syscalls.py);
    x86-64's by default."""
    if isinstance(string_limit, bool) or not isinstance(string_limit, int) or string_limit < 0:
        raise ValueError(f"string_limit must be a non-negative int, not {string_limit!r}")
    name_of, signatures, word = ((syscall_name, SYSCALL_ARGS, 8) if table is None
                                 else (table.syscall_name, table.SYSCALL_ARGS, table.WORD))
    if isinstance(name, int) and not isinstance(name, bool):
        name = name_of(name)
    elif not isinstance(name, str):
        raise TypeError(f"a syscall is given by name (str) or number (int), "
                        f"not {type(name).__name__}")
    args = [int(arg) & ((1 << 8 * word) - 1) for arg in args][:6]
    args += [0] * (6 - len(args))
    if ret is not None and word == 4:
        # A 32-bit call returns in eax: an error is -4095..-1 of 32 bits.
        ret &= 0xFFFFFFFF
        ret = ret - (1 << 32) if ret >= (1 << 32) - _MAX_ERRNO else ret
    reader = _Reader(read_string, read_memory, string_limit, verbose, fd_path, word)
    signature = signatures.get(name)
    if signature is None:
        shown = [hex(arg) for arg in args]  # no metadata: all six registers, raw
    else:
        shown = []
        for (_, kind), value in zip(signature, args):
            text = _format_arg(kind, value, args, ret, reader)
            if text is not None:
                shown.append(text)
    line = f"{name}({', '.join(shown)})"
    if ret is not None:
        line += f" = {_format_return(name, ret, reader)}"
    return line
