"""What a program started by run() gets from tether: what a
`subprocess.Popen(argv, close_fds=False)` child of the script's thread would
get, and nothing of tether's own.

The program is created by the tracer thread (ptrace ties a tracee to the
thread that attached it), whose own thread attributes differ from the
script's: it blocks most signals and runs SCHED_BATCH (native/wait_loop.c).
So the attributes a child inherits from the thread that creates it are read
here, on the script's thread, when run() is called, and the child sets them
before its exec (native/spawn.c):

* the signal mask, the scheduling policy and priority, the nice value and
  the CPU affinity (all per thread on Linux);
* signal dispositions: ignored signals stay ignored, handled ones go back to
  the default (as any exec does), and SIGPIPE and SIGXFSZ, which Python
  ignores at start-up, go back to the default (subprocess's restore_signals);
* fds: the inheritable ones pass (every fd tether opens is close-on-exec), or
  with `close_fds` / `pass_fds` only 0-2 and the `pass_fds`.

(docs/edge-cases.md §32.)
"""
import os
import signal

# Policies that fork resets to SCHED_OTHER under SCHED_RESET_ON_FORK.
_REALTIME = (os.SCHED_FIFO, os.SCHED_RR)
_SCHED_DEADLINE = 6  # (not in the os module) a deadline thread cannot fork at all


class Launch:
    """Immutable. (A plain class: see config.Settings on dataclasses.)"""
    __slots__ = ("keep_fds", "sigmask", "sched", "cpus", "stdio")
    keep_fds: tuple | None  # None: every inheritable fd passes; else only these (above 2)
    sigmask: int          # bit n-1 set: signal n blocked
    sched: tuple          # (policy, priority, nice); policy -1: leave it
    cpus: bytes           # the affinity mask (empty: leave it)
    stdio: tuple          # fds to install as 0, 1, 2 (-1: the script's own)

    def __init__(self, keep_fds: tuple | None, sigmask: int, sched: tuple, cpus: bytes,
                 stdio: tuple = (-1, -1, -1)):
        for name, value in zip(self.__slots__, (keep_fds, sigmask, sched, cpus, stdio)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"Launch is immutable: cannot set {name}")

    def _fields(self) -> tuple:
        return (self.keep_fds, self.sigmask, self.sched, self.cpus, self.stdio)

    def __eq__(self, other) -> bool:
        return type(other) is Launch and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "Launch(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    def with_stdio(self, stdio) -> "Launch":
        return Launch(self.keep_fds, self.sigmask, self.sched, self.cpus, tuple(stdio))


def launch_from_thread(tid: int, close_fds: bool, pass_fds) -> Launch:
    """The Launch of a program the script's thread `tid` (0: the calling
    thread) would start now, with the script's own stdio. Raises OSError
    naming the fd when one of `pass_fds` is not open."""
    keep = None
    if close_fds or pass_fds:
        keep = tuple(sorted({fd for fd in pass_fds if fd > 2}))
        for fd in keep:
            try:
                os.fstat(fd)
            except OSError as e:
                raise OSError(e.errno, f"pass_fds: fd {fd} is not open") from None
    # (sched_* and getpriority take a thread id; 0 is the calling thread)
    sched = forked_scheduling(os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority,
                              os.getpriority(os.PRIO_PROCESS, tid))
    return Launch(keep_fds=keep, sigmask=_blocked_signals(tid), sched=sched,
                  cpus=cpu_mask(os.sched_getaffinity(tid)))


def _blocked_signals(tid: int) -> int:
    """The signal mask of thread `tid` (0: the calling thread) as a bit set."""
    if tid == 0:
        mask = 0
        for sig in signal.pthread_sigmask(signal.SIG_BLOCK, ()):
            mask |= 1 << (sig - 1)
        return mask
    with open(f"/proc/self/task/{tid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"SigBlk:"):
                return int(line.split()[1], 16)
    raise OSError(f"no signal mask in /proc/self/task/{tid}/status")


def forked_scheduling(policy: int, priority: int, nice: int) -> tuple:
    """(policy, priority, nice) of a child forked by a thread that has these
    (`policy` as sched_getscheduler gives it, SCHED_RESET_ON_FORK included);
    policy -1 when it can't be set."""
    if policy & os.SCHED_RESET_ON_FORK:
        # The kernel's fork: real-time and deadline become SCHED_OTHER, a
        # negative nice becomes 0, and the flag is not inherited.
        policy &= ~os.SCHED_RESET_ON_FORK
        if policy in _REALTIME or policy == _SCHED_DEADLINE:
            policy, priority = os.SCHED_OTHER, 0
        nice = max(nice, 0)
    if policy == _SCHED_DEADLINE:
        policy = -1  # sched_setscheduler can't set it (and such a thread can't fork)
    return policy, priority, nice


def cpu_mask(cpus) -> bytes:
    """sched_setaffinity's mask of a set of CPU numbers (at least 1024 bits:
    the kernel wants at least as many bits as it has CPU ids)."""
    bits = 0
    for cpu in cpus:
        bits |= 1 << cpu
    size = max(128, (max(cpus, default=0) // 64 + 1) * 8)
    return bits.to_bytes(size, "little")
