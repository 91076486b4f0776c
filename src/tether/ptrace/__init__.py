"""The ptrace layer: the kernel's constants (the calls are in tether._native).

Nothing here decides anything; it only names the kernel's numbers and reads the
few /proc facts the runtime needs."""
import os

# Requests (include/uapi/linux/ptrace.h)
PTRACE_CONT = 7
PTRACE_KILL = 8
PTRACE_SINGLESTEP = 9
PTRACE_GETSIGINFO = 0x4202
PTRACE_DETACH = 17
PTRACE_SYSCALL = 24
PTRACE_SETOPTIONS = 0x4200
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208

# Options
O_TRACESYSGOOD = 1
O_TRACEFORK = 1 << 1
O_TRACEVFORK = 1 << 2
O_TRACECLONE = 1 << 3
O_TRACEEXEC = 1 << 4
O_TRACEVFORKDONE = 1 << 5
O_TRACEEXIT = 1 << 6
O_TRACESECCOMP = 1 << 7
O_EXITKILL = 1 << 20

# TRACESECCOMP: without it a seccomp filter's SECCOMP_RET_TRACE fails the
# syscall with ENOSYS whenever a tracer is attached (seccomp(2)).
BASE_OPTIONS = (O_TRACESYSGOOD | O_TRACEFORK | O_TRACEVFORK | O_TRACECLONE | O_TRACEEXEC
                | O_TRACEVFORKDONE | O_TRACEEXIT | O_TRACESECCOMP)
# PTRACE_EVENT_EXIT stops are only asked of the leader of a process: in a
# process with other threads its death is reported only after every other
# thread's (delayed group-leader reap), so without the stop an all-stop would
# wait for a leader that has already exited; and at that stop its registers
# are kept for post-mortem reads (libdebug keeps a process's registers at its
# exit). Any other thread's death is reported at once, so an exit stop there
# would only cost one more stop per thread.
THREAD_OPTIONS = BASE_OPTIONS & ~O_TRACEEXIT

# The "wake the tracer thread" signal (see native/wait_loop.c). A real-time signal no
# library we know of uses; glibc keeps the first two RT signals for itself.
WAKE_SIGNAL = 64 - 3



def thread_group_of(tid: int) -> int | None:
    """The Tgid of a task, from /proc: tells a new thread from a new process
    whatever ptrace event announced it (docs/edge-cases.md §6)."""
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[1])


def proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(b")") + 2:].split()[0].decode()


def exe_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def cmdline_of(pid: int) -> list:
    """A process's argv, from /proc/<pid>/cmdline (at most 64 KiB read;
    empty for a zombie or a process that is gone)."""
    try:
        fd = os.open(f"/proc/{pid}/cmdline", os.O_RDONLY | os.O_CLOEXEC)
        try:
            data = os.read(fd, 1 << 16)
        finally:
            os.close(fd)
    except OSError:
        return []
    return [a.decode(errors="surrogateescape") for a in data.split(b"\0")[:-1]]


def auxv_entry(pid: int) -> int | None:
    """AT_ENTRY (the program's entry point as loaded) from /proc/<pid>/auxv."""
    import struct
    try:
        fd = os.open(f"/proc/{pid}/auxv", os.O_RDONLY | os.O_CLOEXEC)
        try:
            data = os.read(fd, 4096)  # (a few hundred bytes; raw: read at every run())
        finally:
            os.close(fd)
    except OSError:
        return None
    for key, value in struct.iter_unpack("<QQ", data[: len(data) // 16 * 16]):
        if key == 9:  # AT_ENTRY
            return value
    return None
