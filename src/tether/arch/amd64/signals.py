"""Linux x86-64 signal numbers and names.

Numbers 1..31 come from arch/x86/include/uapi/asm/signal.h. The kernel's real-time
signals are 32..64, but glibc keeps 32 and 33 for its own threads, so a program's
SIGRTMIN is 34 (the value Python's signal.SIGRTMIN reports too). Names follow that
user-visible convention: 34 is "SIGRTMIN", 35..63 are "SIGRTMIN+1".."SIGRTMIN+29",
64 is "SIGRTMAX", and the two glibc-internal ones are "SIG32" and "SIG33".
"""
from __future__ import annotations

__all__ = ["SIGNAL_NAMES", "SIGNAL_NUMBERS", "SIGRTMIN", "SIGRTMAX", "NSIG",
           "signal_number", "signal_name"]

SIGRTMIN = 34
SIGRTMAX = 64
NSIG = 65  # signal numbers are 1..64

_STANDARD = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
    18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
    24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
    30: "SIGPWR", 31: "SIGSYS",
}


def _rt_name(number: int) -> str:
    if number == SIGRTMIN:
        return "SIGRTMIN"
    if number == SIGRTMAX:
        return "SIGRTMAX"
    return f"SIGRTMIN+{number - SIGRTMIN}"


# number -> canonical name, for every valid signal number.
SIGNAL_NAMES: dict[int, str] = dict(_STANDARD)
SIGNAL_NAMES.update({32: "SIG32", 33: "SIG33"})
SIGNAL_NAMES.update({n: _rt_name(n) for n in range(SIGRTMIN, SIGRTMAX + 1)})

# name -> number, with the historical aliases accepted on input.
SIGNAL_NUMBERS: dict[str, int] = {name: number for number, name in SIGNAL_NAMES.items()}
SIGNAL_NUMBERS.update({"SIGIOT": 6, "SIGCLD": 17, "SIGPOLL": 29, "SIGUNUSED": 31})


def _parse_rt(name: str) -> int | None:
    """'SIGRTMIN+3' / 'SIGRTMAX-2' -> number, None if the name is not of that form."""
    for base_name, base, sign in (("SIGRTMIN+", SIGRTMIN, 1), ("SIGRTMAX-", SIGRTMAX, -1)):
        if name.startswith(base_name) and name[len(base_name):].isdigit():
            number = base + sign * int(name[len(base_name):])
            if SIGRTMIN <= number <= SIGRTMAX:
                return number
            raise ValueError(f"{name} is outside the real-time signal range "
                             f"SIGRTMIN..SIGRTMAX ({SIGRTMIN}..{SIGRTMAX})")
    return None


def signal_number(name_or_number) -> int:
    """The number of a signal given as "SIGUSR1", "USR1", "sigusr1", "SIGRTMIN+3",
    "SIGRTMAX-1" or a number (10). ValueError for anything that is not a signal."""
    if isinstance(name_or_number, bool) or not isinstance(name_or_number, (int, str)):
        raise TypeError(f"a signal is given by name (str) or number (int), "
                        f"not {type(name_or_number).__name__}")
    if isinstance(name_or_number, int):
        if name_or_number in SIGNAL_NAMES:
            return name_or_number
        raise ValueError(f"no signal has number {name_or_number} (valid: 1..{NSIG - 1})")
    text = name_or_number.strip().upper().replace(" ", "")
    if text.isdigit():
        return signal_number(int(text))
    if not text.startswith("SIG"):
        text = "SIG" + text
    number = SIGNAL_NUMBERS.get(text)
    if number is None:
        number = _parse_rt(text)
    if number is None:
        raise ValueError(f"unknown signal name {name_or_number!r}")
    return number


def signal_name(number: int) -> str:
    """The canonical name of a signal number (10 -> "SIGUSR1")."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"a signal number is an int, not {type(number).__name__}")
    name = SIGNAL_NAMES.get(number)
    if name is None:
        raise ValueError(f"no signal has number {number} (valid: 1..{NSIG - 1})")
    return name
