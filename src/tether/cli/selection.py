"""The sets of `-e trace=SET` and `-e signal=SET`, read as strace reads them.

A set is a comma-separated list; a leading '!' negates the whole of it.
Syscall items: a name, a number, %CLASS (see arch/amd64/syscall_classes),
/REGEX (names it matches), `all`, `none`; '?' before an item lets it match
nothing without an error. Names are those of x86-64 and of i386 (a call only
32-bit programs make, such as mmap2, is named too); numbers and classes are
x86-64's. Signal items: names with or without SIG, numbers, `all`, `none`."""
import re

from ..arch import I386
from ..arch.amd64.signals import SIGNAL_NAMES, signal_number
from ..arch.amd64.syscall_classes import syscall_class
from ..arch.amd64.syscalls import SYSCALL_NAMES, SYSCALL_NUMBERS, syscall_name, syscall_number

_ALL_SYSCALLS = frozenset(SYSCALL_NAMES.values()) | frozenset(I386.syscall_names.values())


def _order(name: str) -> tuple:
    """x86-64 calls by number, then the i386-only ones by theirs."""
    number = SYSCALL_NUMBERS.get(name)
    return (0, number) if number is not None else (1, I386.syscall_number(name))


def _syscall_item(item: str) -> set:
    optional = item.startswith("?")
    if optional:
        item = item[1:]
    try:
        if item == "all":
            return set(_ALL_SYSCALLS)
        if item == "none":
            return set()
        if item.startswith("%"):
            return set(syscall_class(item[1:]))
        if item.startswith("/"):
            try:
                pattern = re.compile(item[1:])
            except re.error as e:
                raise ValueError(f"bad regular expression {item[1:]!r} in -e trace=: {e}") \
                    from None
            found = {name for name in _ALL_SYSCALLS if pattern.search(name)}
            if not found:
                raise ValueError(f"-e trace=: no system call matches {item}")
            return found
        # A name of the i386 table is taken as it is, too: "sendfile64" is
        # x86-64's sendfile under another name, and a call of its own in a
        # 32-bit program; "mmap2" is a call of 32-bit programs only.
        own = {item} if item in I386.syscalls.SYSCALL_NUMBERS else set()
        try:
            number = syscall_number(int(item) if item.isdigit() else item)
        except ValueError:
            if own:
                return own
            raise ValueError(f"unknown system call name {item!r} in -e trace=") from None
        return {syscall_name(number)} | own
    except ValueError:
        if optional:
            return set()
        raise


def parse_syscall_set(text: str):
    """-e trace=SET -> None (no syscall traced), [] (all of them) or the
    names, in syscall-number order. ValueError naming a bad item."""
    text = text.strip()
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("-e trace= got an empty set (use none to trace no system call)")
    chosen: frozenset[str] | set[str] = set()
    for item in items:
        chosen |= _syscall_item(item)
    if negate:
        chosen = _ALL_SYSCALLS - chosen
    if not chosen:
        return None
    if chosen >= _ALL_SYSCALLS:
        return []
    return sorted(chosen, key=_order)


def parse_signal_set(text: str):
    """-e signal=SET -> None (every signal shown) or the frozenset of the
    signal numbers shown. ValueError naming a bad item."""
    text = text.strip()
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("-e signal= got an empty set (use none to show no signal)")
    chosen = set()
    for item in items:
        if item == "all":
            chosen |= set(SIGNAL_NAMES)
        elif item != "none":
            try:
                chosen.add(signal_number(item))
            except ValueError:
                raise ValueError(f"unknown signal {item!r} in -e signal=") from None
    if negate:
        chosen = set(SIGNAL_NAMES) - chosen
    return None if chosen >= set(SIGNAL_NAMES) else frozenset(chosen)
