"""Wait status -> what kind of stop it is. Pure: no system calls.

Every tracee is attached with PTRACE_SEIZE, so the kernel reports stops in the
SEIZE dialect (ptrace(2), "PTRACE_SEIZE" and "Group-stop"):
  * status >> 16 is the PTRACE_EVENT_* number for event stops;
  * a group-stop is PTRACE_EVENT_STOP with a stop signal;
  * PTRACE_INTERRUPT and a new auto-attached tracee's first stop are
    PTRACE_EVENT_STOP with SIGTRAP;
  * with PTRACE_O_TRACESYSGOOD a syscall-stop is SIGTRAP | 0x80, so it can't
    be confused with a breakpoint or single-step SIGTRAP.
"""
import signal as _signal
from enum import IntEnum

EVENT_FORK = 1
EVENT_VFORK = 2
EVENT_CLONE = 3
EVENT_EXEC = 4
EVENT_VFORK_DONE = 5
EVENT_EXIT = 6
EVENT_SECCOMP = 7
EVENT_STOP = 128

_STOP_SIGNALS = frozenset((_signal.SIGSTOP, _signal.SIGTSTP, _signal.SIGTTIN, _signal.SIGTTOU))


class Stop(IntEnum):
    EXITED = 1          # WIFEXITED: value = exit code
    KILLED = 2          # WIFSIGNALED: value = signal
    SIGNAL = 3          # signal-delivery-stop (not SIGTRAP): value = signal
    TRAP = 4            # SIGTRAP delivery: int3, single-step, hardware debug trap, or a real SIGTRAP
    SYSCALL = 5         # syscall-enter or -exit stop
    GROUP_STOP = 6      # PTRACE_EVENT_STOP with a stop signal: value = signal
    INTERRUPT = 7       # PTRACE_EVENT_STOP with SIGTRAP: PTRACE_INTERRUPT or a new tracee's first stop
    FORK = 8
    VFORK = 9
    CLONE = 10
    EXEC = 11
    VFORK_DONE = 12
    EXIT_EVENT = 13     # PTRACE_EVENT_EXIT: about to exit, still inspectable
    SECCOMP = 14
    # Not a wait status: tether's own event, kept pending on a thread stopped
    # at the entry of a write to an attributed output stream until the
    # stream is free (runtime/output_turns.py).
    OUTPUT_TURN = 15


# The kinds as module constants, for per-stop code (a member looked up on its
# enum class costs ~60 ns on Python 3.11: EnumType's __getattr__ hook).
(STOP_EXITED, STOP_KILLED, STOP_SIGNAL, STOP_TRAP, STOP_SYSCALL, STOP_GROUP_STOP, STOP_INTERRUPT,
 STOP_FORK, STOP_VFORK, STOP_CLONE, STOP_EXEC, STOP_VFORK_DONE, STOP_EXIT_EVENT, STOP_SECCOMP,
 STOP_OUTPUT_TURN) = Stop

_EVENT_KIND = {
    EVENT_FORK: Stop.FORK,
    EVENT_VFORK: Stop.VFORK,
    EVENT_CLONE: Stop.CLONE,
    EVENT_EXEC: Stop.EXEC,
    EVENT_VFORK_DONE: Stop.VFORK_DONE,
    EVENT_EXIT: Stop.EXIT_EVENT,
    EVENT_SECCOMP: Stop.SECCOMP,
}


_NEW_CHILD = frozenset((Stop.FORK, Stop.VFORK, Stop.CLONE))
# Stops that the kernel may report for a thread while we stop its process,
# and that are kept (pending) for when the process is resumed. A seccomp stop
# is a syscall's entry (our filter's SECCOMP_RET_TRACE), kept like one, and
# so is a write's wait for its turn.
_DEFERRABLE = frozenset((Stop.SIGNAL, Stop.SYSCALL, Stop.TRAP, Stop.SECCOMP, Stop.OUTPUT_TURN))


class StopEvent:
    """One decoded wait status: what kind of stop, its value (exit code,
    signal), and for event stops whose meaning is in the event message
    (fork/vfork/clone: the new task; exec: the former tid) that message.
    The only thing the runtime looks at: no code outside this module reads
    raw status bits. Instances without a message are shared (statuses
    repeat: every syscall stop is the same number), so they are immutable."""
    __slots__ = ("kind", "value", "message", "is_exit", "is_new_child", "deferrable", "needs_message")

    def __init__(self, kind: Stop, value: int, message=None):
        self.kind = kind
        self.value = value
        self.message = message
        self.is_exit = kind is Stop.EXITED or kind is Stop.KILLED
        self.is_new_child = kind in _NEW_CHILD
        self.deferrable = kind in _DEFERRABLE
        self.needs_message = message is None and (self.is_new_child or kind is Stop.EXEC)

    def with_message(self, message) -> "StopEvent":
        """This stop with its event message (a copy: decoded stops are shared).
        Copied field by field: it runs at every thread creation."""
        ev = _new_stop(StopEvent)
        ev.kind = self.kind
        ev.value = self.value
        ev.message = message
        ev.is_exit = self.is_exit
        ev.is_new_child = self.is_new_child
        ev.deferrable = self.deferrable
        ev.needs_message = False
        return ev

    def __eq__(self, other):
        if isinstance(other, StopEvent):
            return (self.kind, self.value, self.message) == (other.kind, other.value, other.message)
        return NotImplemented

    def __hash__(self):
        return hash((self.kind, self.value, self.message))

    def __repr__(self):
        extra = "" if self.message is None else f", message={self.message!r}"
        return f"StopEvent({self.kind.name}, {self.value}{extra})"


_new_stop = object.__new__
_memo: dict = {}


def decode_stop(status: int) -> StopEvent:
    """Classify a wait status into a StopEvent (without its event message:
    the runtime adds it where the kind needs one). Memoised: the dispatcher
    looks in `decoded` first (a dict lookup) and calls this only for a
    status not seen before."""
    found = _memo.get(status)
    if found is None:
        found = StopEvent(*_decode(status))
        if len(_memo) < 4096:
            _memo[status] = found
    return found


# Status -> StopEvent, for every status decoded so far (at most 4096).
decoded = _memo


def stop_of(kind: Stop, value: int = 0, message=None) -> StopEvent:
    """A StopEvent from its parts (for the runtime's own events and tests)."""
    return StopEvent(kind, value, message)


def decode(status: int) -> tuple[Stop, int]:
    """Classify a wait status. Returns (kind, value)."""
    ev = decode_stop(status)
    return ev.kind, ev.value


def _decode(status: int) -> tuple[Stop, int]:
    low = status & 0x7F
    if low == 0:
        return Stop.EXITED, (status >> 8) & 0xFF
    if (status & 0xFF) != 0x7F:
        if low == 0x7F:
            # 0xff in the low byte is WIFCONTINUED (only with WCONTINUED, which
            # tether never asks for): no exit, death or stop, and no signal 127.
            raise ValueError(f"wait status {status:#x} is not an exit, a death or a stop")
        # WIFSIGNALED (bit 7 is the core-dump flag)
        return Stop.KILLED, low
    sig = (status >> 8) & 0xFF
    event = (status >> 16) & 0xFFFF
    if event:
        if event == EVENT_STOP:
            if sig in _STOP_SIGNALS:
                return Stop.GROUP_STOP, sig
            return Stop.INTERRUPT, sig
        kind = _EVENT_KIND.get(event)
        if kind is None:
            raise ValueError(f"unknown ptrace event {event} in wait status {status:#x}")
        return kind, sig
    if sig == (_signal.SIGTRAP | 0x80):
        return Stop.SYSCALL, _signal.SIGTRAP
    if sig == _signal.SIGTRAP:
        return Stop.TRAP, sig
    return Stop.SIGNAL, sig


def is_exit(kind: Stop) -> bool:
    return kind is Stop.EXITED or kind is Stop.KILLED
