"""tether: scripted debugging of multithreaded, multiprocess Linux x86-64
programs, with libdebug's API.

    from tether import debugger
    d = debugger(["./prog", "arg"])
    io = d.run()
"""
from __future__ import annotations

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Iterable

from .config import Settings
from .debugger import Debugger
from .facade.settings import checked_pass_fds, syscall_filter_of
from .libcontext import libcontext
from .state.stopping_events import Breakpoint, SignalCatcher, SyscallHandler
from .thread_context import ThreadContext

# libdebug's top-level names.
__all__ = ["Breakpoint", "Debugger", "SignalCatcher", "SyscallHandler", "ThreadContext",
           "debugger", "libcontext"]
__version__ = "0.1.0"


def debugger(argv: str | bytes | list[str | bytes] | tuple[str | bytes, ...] = (), path: str | None = None,
             aslr: bool = True, env: dict[str, str] | None = None, escape_antidebug: bool = False,
             continue_to_binary_entrypoint: bool = True, auto_interrupt_on_command: bool = False,
             fast_memory: bool = False, kill_on_exit: bool = True, follow_children: bool = True,
             *, inherit_stopping_events: bool = False, follow_fork_mode: str = "parent",
             detach_on_fork: bool = False, scheduler_locking: str = "off",
             close_fds: bool = False, pass_fds: Iterable[int] = (),
             syscall_filter: str | int | Iterable[str | int] | None = None) -> Debugger:
    """Create a Debugger for `argv` (a path or a list). Nothing runs until run()
    (or attach()). Keyword-only extras beyond libdebug: inherit_stopping_events,
    follow_fork_mode, detach_on_fork, scheduler_locking (gdb's controls);
    close_fds, pass_fds (which fds the program gets, as in subprocess); and
    syscall_filter: the syscalls (names or numbers) that handlers will be
    given; a seccomp-bpf filter installed before the program's first
    instruction then stops the program (and every process it starts) only at
    those, instead of at every syscall."""
    flags = dict(aslr=aslr, escape_antidebug=escape_antidebug,
                 continue_to_binary_entrypoint=continue_to_binary_entrypoint,
                 auto_interrupt_on_command=auto_interrupt_on_command, fast_memory=fast_memory,
                 kill_on_exit=kill_on_exit, follow_children=follow_children,
                 inherit_stopping_events=inherit_stopping_events, detach_on_fork=detach_on_fork,
                 close_fds=close_fds)
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    if follow_fork_mode not in ("parent", "child"):
        raise ValueError(f"follow_fork_mode must be 'parent' or 'child', not {follow_fork_mode!r}")
    if scheduler_locking not in ("off", "step", "on"):
        raise ValueError(f"scheduler_locking must be 'off', 'step' or 'on', not {scheduler_locking!r}")
    settings = Settings(follow_fork_mode=follow_fork_mode, scheduler_locking=scheduler_locking,
                        pass_fds=checked_pass_fds(pass_fds),
                        syscall_filter=syscall_filter_of(syscall_filter, follow_children,
                                                         detach_on_fork), **flags)
    if argv in ((), [], None, ""):
        # No program: fine for attach(); run() will say what is missing.
        argv = [path] if path is not None else []
    return Debugger(argv, path=path, env=env, settings=settings)
