"""The Debugger's options (debugger()'s arguments), as properties.

The values live in the process's Settings (`control.settings`, which a
followed child copies at its birth) and, for the program, on the control."""
from __future__ import annotations


TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any, Iterable

from ..arch import I386, arch_of_elf_header
from ..arch.amd64.syscalls import syscall_name, syscall_number
from ..symbols.program_file import program_location
from .base import FacadeBase

# With a syscall filter, a process we let go would keep the filter, and with
# no tracer its SECCOMP_RET_TRACE calls fail with ENOSYS (seccomp(2)): the
# settings that let children go are refused.
_LETS_CHILDREN_GO = {"follow_children": False, "detach_on_fork": True}


def filter_names(syscall: str | int) -> set[str]:
    """The names a syscall_filter keeps for `syscall`: a number is x86-64's;
    a name is x86-64's (aliases too), and i386's as it is (mmap2 exists in
    32-bit programs only; sendfile64 is x86-64's sendfile and a call of its
    own in 32-bit programs)."""
    own = set()
    if isinstance(syscall, str) and syscall in I386.syscalls.SYSCALL_NUMBERS:
        own = {syscall}
    try:
        return {syscall_name(syscall_number(syscall))} | own
    except ValueError:
        if own:
            return own
        raise


def syscall_filter_of(syscalls: str | int | Iterable[str | int] | None, follow_children: bool,
                      detach_on_fork: bool) -> frozenset[str] | None:
    """debugger(syscall_filter=...) -> frozenset of syscall names, or None.
    ValueError for an unknown syscall, an empty list, or settings that let
    children go untraced."""
    if syscalls is None:
        return None
    if isinstance(syscalls, (str, int)):
        syscalls = [syscalls]
    numbers = frozenset(name for s in syscalls for name in filter_names(s))
    if not numbers:
        raise ValueError("syscall_filter is an empty list (None: no filter)")
    if not follow_children or detach_on_fork:
        raise ValueError("syscall_filter needs follow_children=True and detach_on_fork=False: "
                         "a process let go keeps the filter, and its filtered syscalls would "
                         "fail with ENOSYS")
    return numbers


def _setting(name: str, doc: str) -> property:
    """A bool property stored in the Settings under `name`."""
    def get(self: FacadeBase) -> bool:
        return getattr(self._ctl.settings, name)

    def set_(self: FacadeBase, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
        settings = self._ctl.settings
        if settings.syscall_filter is not None and _LETS_CHILDREN_GO.get(name) is value:
            raise ValueError(f"{name}={value} with a syscall_filter: a process let go keeps "
                             "the filter, and its filtered syscalls would fail with ENOSYS")
        setattr(settings, name, value)
    return property(get, set_, doc=doc)


def checked_env(env: Any) -> dict[str, str] | None:
    """debugger()'s and d.env's `env`: None, or a copy of a dict (libdebug
    raises TypeError for anything else)."""
    if env is None:
        return None
    if not isinstance(env, dict):
        raise TypeError(f"env must be a dict of str to str or None, not {type(env).__name__}")
    return dict(env)


def checked_pass_fds(value: Iterable[int]) -> tuple[int, ...]:
    """`pass_fds` as a sorted tuple of fds; TypeError / ValueError naming
    what is wrong (whether each fd is open is checked at run())."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"pass_fds must be a sequence of fds, not {type(value).__name__}")
    fds: set[int] = set()
    for fd in value:
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise TypeError(f"pass_fds entries must be ints, not {type(fd).__name__}")
        if fd < 0:
            raise ValueError(f"pass_fds: {fd} is not a file descriptor")
        fds.add(fd)
    return tuple(sorted(fds))


class SettingsMixin(FacadeBase):
    """aslr, fast_memory, kill_on_exit, follow_children, ... argv, path, env."""

    aslr = _setting("aslr", "Randomise the address space at the next run().")
    fast_memory = _setting("fast_memory", "Accepted for compatibility: memory access is always bulk.")
    kill_on_exit = _setting("kill_on_exit", "Kill the process (tree) when the script ends.")
    follow_children = _setting("follow_children", "Follow new child processes (else detach them).")
    auto_interrupt_on_command = _setting(
        "auto_interrupt_on_command",
        "ASAP mode: a command given while the process runs interrupts it (instead of "
        "waiting for it to stop), and the process stays stopped afterwards.")
    inherit_stopping_events = _setting(
        "inherit_stopping_events", "Children start with copies of this process's stopping events.")
    detach_on_fork = _setting("detach_on_fork", "With follow_fork_mode='child': let the parent go.")
    close_fds = _setting(
        "close_fds", "run() passes only fds 0-2 and pass_fds to the program (default: every "
        "inheritable fd, as subprocess with close_fds=False).")

    @property
    def pass_fds(self) -> tuple[int, ...]:
        """Fds run() passes to the program besides 0-2, made inheritable there;
        giving any closes the others (subprocess's pass_fds)."""
        return self._ctl.settings.pass_fds

    @pass_fds.setter
    def pass_fds(self, value: Iterable[int]) -> None:
        self._ctl.settings.pass_fds = checked_pass_fds(value)

    @property
    def syscall_filter(self) -> list[str] | None:
        """The syscall names declared at launch (debugger(syscall_filter=...)),
        the only ones that stop the process; None without a filter."""
        names = self._ctl.settings.syscall_filter
        return None if names is None else sorted(names)

    @property
    def escape_antidebug(self) -> bool:
        """Make ptrace(PTRACE_TRACEME) succeed in the program."""
        return self._ctl.settings.escape_antidebug

    @escape_antidebug.setter
    def escape_antidebug(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"escape_antidebug must be a bool, not {type(value).__name__}")
        ctl = self._ctl
        ctl.settings.escape_antidebug = value
        if ctl.process is not None:
            ctl.events.update_syscall_tracing(ctl.process)  # it needs syscall stops

    @property
    def follow_fork_mode(self) -> str:
        """Which process the Debugger stays with at a fork: "parent" (the
        child gets a Debugger of its own) or "child" (gdb's setting)."""
        return self._ctl.settings.follow_fork_mode

    @follow_fork_mode.setter
    def follow_fork_mode(self, value: str) -> None:
        if value not in ("parent", "child"):
            raise ValueError(f"follow_fork_mode must be 'parent' or 'child', not {value!r}")
        self._ctl.settings.follow_fork_mode = value

    @property
    def scheduler_locking(self) -> str:
        """Which threads run when one is resumed: "off" (all), "step" (only
        the stepped one while stepping), "on" (only the resumed one)."""
        return self._ctl.settings.scheduler_locking

    @scheduler_locking.setter
    def scheduler_locking(self, value: str) -> None:
        if value not in ("off", "step", "on"):
            raise ValueError(f"scheduler_locking must be 'off', 'step' or 'on', not {value!r}")
        self._ctl.settings.scheduler_locking = value

    @property
    def argv(self) -> list[str | bytes]:
        """The program and its arguments (a copy; assign a new list to change them)."""
        return list(self._ctl.argv)

    @argv.setter
    def argv(self, value: str | bytes | list[str | bytes] | tuple[str | bytes, ...]) -> None:
        if isinstance(value, (str, bytes)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise TypeError("argv must be a program path or a list of arguments")
        for a in value:
            if not isinstance(a, (str, bytes)):
                raise TypeError(f"argv entries must be str or bytes, not {type(a).__name__}")
        self._ctl.argv = list(value)

    @property
    def path(self) -> str | None:
        """The absolute path of the program run() executes: the one given,
        else argv[0], found through PATH like libdebug (as given while no such
        file exists); after an exec, the new program's."""
        path = self._ctl.program_path()
        return None if path is None else program_location(path)

    @path.setter
    def path(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError("path must be a str")
        self._ctl.path = value

    @property
    def env(self) -> dict[str, str] | None:
        """The environment given to debugger() or set here, which run() gives
        the program (a dict, changed in place by `d.env["X"] = "1"`); None
        when none was given (as in libdebug): run() then passes the script's
        own environment (a followed child: its parent's)."""
        return self._ctl.given_env()

    @env.setter
    def env(self, value: dict[str, str] | None) -> None:
        self._ctl.env = checked_env(value)

    @property
    def arch(self) -> str:
        """The architecture of the traced program, by libdebug's names:
        "amd64", or "i386" for a 32-bit program (of the process as it runs
        now, which an exec may change; before run(), of the program file)."""
        proc = self._ctl.process
        if proc is not None:
            return proc.arch.name
        try:
            # check_program: a regular, readable file (never a FIFO to block on).
            with open(self._ctl.binary_path, "rb") as f:
                found = arch_of_elf_header(f.read(20))
        except (OSError, ValueError, TypeError):
            found = None
        return found.name if found is not None else "amd64"
