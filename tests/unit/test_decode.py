import signal

import pytest

from tether.events.decode import Stop, decode


def stopped(sig, event=0):
    return (event << 16) | (sig << 8) | 0x7F


@pytest.mark.parametrize(
    "status, expected",
    [
        (0x0000, (Stop.EXITED, 0)),
        (3 << 8, (Stop.EXITED, 3)),
        (signal.SIGKILL, (Stop.KILLED, signal.SIGKILL)),
        (signal.SIGSEGV | 0x80, (Stop.KILLED, signal.SIGSEGV)),  # core dumped
        (stopped(signal.SIGTRAP | 0x80), (Stop.SYSCALL, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP), (Stop.TRAP, signal.SIGTRAP)),
        (stopped(signal.SIGUSR1), (Stop.SIGNAL, signal.SIGUSR1)),
        # Under SEIZE a SIGSTOP is first a signal-delivery-stop...
        (stopped(signal.SIGSTOP), (Stop.SIGNAL, signal.SIGSTOP)),
        # ...and then, if delivered, a group-stop (PTRACE_EVENT_STOP + stop signal).
        (stopped(signal.SIGSTOP, 128), (Stop.GROUP_STOP, signal.SIGSTOP)),
        (stopped(signal.SIGTSTP, 128), (Stop.GROUP_STOP, signal.SIGTSTP)),
        # PTRACE_INTERRUPT and a new child's first stop.
        (stopped(signal.SIGTRAP, 128), (Stop.INTERRUPT, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP, 1), (Stop.FORK, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP, 2), (Stop.VFORK, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP, 3), (Stop.CLONE, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP, 4), (Stop.EXEC, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP, 5), (Stop.VFORK_DONE, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP, 6), (Stop.EXIT_EVENT, signal.SIGTRAP)),
        (stopped(signal.SIGTRAP, 7), (Stop.SECCOMP, signal.SIGTRAP)),
    ],
)
def test_decode(status, expected):
    assert decode(status) == expected


def test_unknown_event_is_an_error():
    with pytest.raises(ValueError):
        decode(stopped(signal.SIGTRAP, 42))
