"""Linux x86-64 signal numbers and names."""
import signal as pysignal

import pytest

from tether.arch.amd64.signals import (
    NSIG, SIGNAL_NAMES, SIGNAL_NUMBERS, SIGRTMAX, SIGRTMIN, signal_name, signal_number,
)


def test_standard_numbers():
    expected = {"SIGHUP": 1, "SIGINT": 2, "SIGTRAP": 5, "SIGABRT": 6, "SIGKILL": 9,
                "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14,
                "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCONT": 18, "SIGSTOP": 19,
                "SIGTSTP": 20, "SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30, "SIGSYS": 31}
    for name, number in expected.items():
        assert SIGNAL_NUMBERS[name] == number
        assert SIGNAL_NAMES[number] == name


def test_agrees_with_python_on_this_linux():
    # (Python 3.10's signal module lacks SIGSTKFLT: test_standard_numbers has it.)
    names = ("SIGUSR1", "SIGCHLD", "SIGSYS", "SIGSTKFLT", "SIGPWR", "SIGRTMIN", "SIGRTMAX")
    known = [name for name in names if hasattr(pysignal, name)]
    assert len(known) >= len(names) - 1
    for name in known:
        assert signal_number(name) == int(getattr(pysignal, name))
    assert (SIGRTMIN, SIGRTMAX, NSIG) == (34, 64, 65)


def test_signal_number_forms():
    assert signal_number("SIGUSR1") == 10
    assert signal_number("USR1") == 10
    assert signal_number("sigusr1") == 10
    assert signal_number(10) == 10
    assert signal_number("10") == 10
    assert signal_number("SIGRTMIN") == 34
    assert signal_number("SIGRTMIN+3") == 37
    assert signal_number("RTMIN+3") == 37
    assert signal_number("SIGRTMAX-1") == 63
    assert signal_number("SIGIOT") == 6 and signal_number("SIGCLD") == 17
    assert signal_number("SIGPOLL") == 29


@pytest.mark.parametrize("bad", ["SIGFOO", "", "SIGRTMIN+31", "SIGRTMAX-31", "SIGRTMIN-1",
                                 0, 65, -9])
def test_signal_number_rejects_unknown(bad):
    with pytest.raises(ValueError):
        signal_number(bad)


@pytest.mark.parametrize("bad", [None, 10.0, True, b"SIGUSR1"])
def test_signal_number_rejects_wrong_types(bad):
    with pytest.raises(TypeError):
        signal_number(bad)


def test_signal_name():
    assert signal_name(10) == "SIGUSR1"
    assert signal_name(6) == "SIGABRT"
    assert signal_name(34) == "SIGRTMIN"
    assert signal_name(37) == "SIGRTMIN+3"
    assert signal_name(64) == "SIGRTMAX"
    assert signal_name(32) == "SIG32"
    with pytest.raises(ValueError, match="65"):
        signal_name(65)
    with pytest.raises(ValueError):
        signal_name(0)
    with pytest.raises(TypeError):
        signal_name("SIGUSR1")


def test_names_round_trip():
    assert sorted(SIGNAL_NAMES) == list(range(1, 65))
    for number, name in SIGNAL_NAMES.items():
        assert signal_number(name) == number
