"""Syscall lines for `tether trace -s`: the registers of a syscall stop and
readers of the tracee's memory for tether's strace-like formatter.

A syscall is named here by its name, not its number: a process may run
programs of two architectures (x86-64 and i386 number their calls
differently) and a call is named by the table of the program that made it."""
import json
import os

from ..arch import AMD64, arch_named
from ..arch.amd64.syscalls import format_syscall
from .program import cmdline

PAGE = 4096


def table_of(dbg):
    """The syscall table format_syscall needs for `dbg`'s process (None:
    x86-64's, its default)."""
    arch = arch_named(dbg.arch)
    return None if arch is AMD64 else arch.syscalls


def format_call(dbg, name, args, read_string=None, ret=None, **options) -> str:
    """format_syscall for a call of `dbg`'s process, by its table."""
    return format_syscall(name, args, read_string, ret, table=table_of(dbg), **options)


def exec_text(dbg, name) -> str:
    """'execve("/bin/true", ["true"], [/* 20 vars */])' for an exec whose entry
    we did not see, from what the new image shows in /proc."""
    pid = dbg.pid
    argv = ", ".join(json.dumps(a) for a in cmdline(pid))
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            count = str(f.read().count(b"\0"))
    except OSError:
        count = "?"
    return f'{name}({json.dumps(dbg.path)}, [{argv}], [/* {count} vars */])'


def signed(value: int) -> int:
    """A 64-bit register as the signed number a syscall returns (-errno)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def syscall_registers(thread) -> list:
    """[name, arg0..arg5, return value] of a thread at a syscall stop, by
    its architecture's convention (x86-64: the number in orig_rax, the
    arguments in rdi, rsi, rdx, r10, r8, r9; i386: orig_eax, ebx, ecx, edx,
    esi, edi, ebp). A 32-bit error return (-4095..-1 in eax) is given as
    the 64-bit value signed() reads as negative."""
    arch = thread.arch
    values = [thread.syscall_number] + [getattr(thread, f"syscall_arg{i}") for i in range(6)]
    ret = thread.syscall_return
    if arch.word == 4 and ret >= (1 << 32) - 4095:
        ret |= 0xFFFFFFFF00000000
    return [arch.syscall_name(values[0])] + values[1:] + [ret]


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


def entry_fd_paths(pid: int, name: str, args, arch=AMD64) -> dict:
    """{fd: path} of a syscall's file-descriptor arguments, read at its entry."""
    try:
        signature = arch.syscall_signature(name) or ()
    except ValueError:
        signature = ()
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
