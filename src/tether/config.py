"""The settings of one Debugger. A followed child gets a copy at fork time
and is independent afterwards (libdebug: children inherit their parent's settings)."""
from dataclasses import dataclass


@dataclass
class Settings:
    aslr: bool = True
    fast_memory: bool = False
    kill_on_exit: bool = True
    follow_children: bool = True
    auto_interrupt_on_command: bool = False
    escape_antidebug: bool = False
    continue_to_binary_entrypoint: bool = True
    # tether extras (gdb's controls)
    inherit_stopping_events: bool = False
    follow_fork_mode: str = "parent"     # "parent" | "child"
    detach_on_fork: bool = False
    scheduler_locking: str = "off"       # "off" | "step" | "on"
    # fds run() passes to the program (subprocess's convention): the
    # inheritable ones by default; with close_fds, or pass_fds given, only
    # 0-2 and pass_fds (a sorted tuple).
    close_fds: bool = False
    pass_fds: tuple = ()
    # The syscall names declared at launch (debugger(syscall_filter=...)):
    # a seccomp-bpf filter makes only these stop the process, by the numbers
    # of each program's table (x86-64 or i386). None: no filter.
    syscall_filter: frozenset | None = None
    # run(attribute_output=True): the PipeManager's output watch
    # (commlink/attribution.py), given to every process of the tree; None: off.
    output_watch: object = None

    def for_child(self) -> "Settings":
        # A plain field copy (copy.copy goes through __reduce_ex__: slow, and
        # this runs at every followed fork).
        child = object.__new__(Settings)
        child.__dict__.update(self.__dict__)
        return child
