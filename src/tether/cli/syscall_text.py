"""Syscall lines for `tether trace -s`: the registers of a syscall stop and
readers of the tracee's memory for tether's strace-like formatter."""
import json
import os

from ..arch.amd64.syscalls import syscall_name, syscall_signature
from .program import cmdline

PAGE = 4096


def exec_text(dbg, nr) -> str:
    """'execve("/bin/true", ["true"], [/* 20 vars */])' for an exec whose entry
    we did not see, from what the new image shows in /proc."""
    pid = dbg.pid
    argv = ", ".join(json.dumps(a) for a in cmdline(pid))
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            count = str(f.read().count(b"\0"))
    except OSError:
        count = "?"
    return f'{syscall_name(nr)}({json.dumps(dbg.path)}, [{argv}], [/* {count} vars */])'


def signed(value: int) -> int:
    """A 64-bit register as the signed number a syscall returns (-errno)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def syscall_registers(thread) -> list:
    """[orig_rax, arg0..arg5, rax] of a thread at a syscall stop (x86-64
    syscall ABI: the arguments are in rdi, rsi, rdx, r10, r8, r9)."""
    r = thread.regs
    return [r.orig_rax, r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9, r.rax]


def string_reader(memory):
    """read_string(address) for format_syscall: a C string read a page at a
    time (a string may end just before an unmapped page)."""
    def read_string(address, limit=PAGE):
        out = b""
        while len(out) < limit:
            size = min(PAGE - address % PAGE, limit - len(out))
            try:
                data = memory.read(address, size)
            except Exception:
                return out if out else None
            nul = data.find(b"\0")
            if nul >= 0:
                return out + data[:nul]
            out += data
            address += size
        return out

    def read_memory(address, size):
        try:
            return memory.read(address, size)
        except Exception:
            return None
    return read_string, read_memory


AT_FDCWD = -100
_FD_KINDS = ("fd", "dirfd")


def fd_path_reader(pid: int, known: dict | None = None):
    """fd_path(fd) for -y: what /proc/PID/fd/FD links to ("pipe:[123]",
    "socket:[456]" and "/dev/pts/0" as the kernel names them; AT_FDCWD: the
    working directory), or None. `known`: paths read at the syscall's entry,
    used first (close(3) has closed 3 by its exit)."""
    def fd_path(fd: int):
        fd = int(fd)
        if known and fd in known:
            return known[fd]
        link = f"/proc/{pid}/cwd" if fd == AT_FDCWD else f"/proc/{pid}/fd/{fd}"
        try:
            return os.readlink(link)
        except OSError:
            return None
    return fd_path


def entry_fd_paths(pid: int, nr: int, args) -> dict:
    """{fd: path} of a syscall's file-descriptor arguments, read at its entry."""
    signature = syscall_signature(syscall_name(nr)) or ()
    read = fd_path_reader(pid)
    paths = {}
    for (_, kind), value in zip(signature, args):
        if kind in _FD_KINDS:
            low = value & 0xFFFFFFFF           # an fd is a C int
            fd = low - (1 << 32) if low >> 31 else low
            path = read(fd)
            if path is not None:
                paths[fd] = path
    return paths
