"""Syscall lines for `tether trace -s`: the registers of a syscall stop and
readers of the tracee's memory for tether's strace-like formatter."""
import json
import os

from ..arch.amd64.syscalls import syscall_name
from .program import cmdline

PAGE = 4096


def exec_text(dbg, nr) -> str:
    """'execve("/bin/true", ["true"], [/* 20 vars */])' for an exec whose entry
    we did not see, from what the new image shows in /proc."""
    pid = dbg.pid
    argv = ", ".join(json.dumps(a) for a in cmdline(pid))
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            count = f.read().count(b"\0")
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


def fd_path_reader(pid: int):
    """fd_path(fd) for -y: what /proc/PID/fd/FD links to ("pipe:[123]",
    "socket:[456]" and "/dev/pts/0" as the kernel names them), or None."""
    def fd_path(fd: int):
        try:
            return os.readlink(f"/proc/{pid}/fd/{int(fd)}")
        except OSError:
            return None
    return fd_path
