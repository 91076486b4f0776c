"""The settings of one Debugger. A followed child gets a copy at fork time
and is independent afterwards (libdebug: children inherit their parent's settings)."""


class Settings:
    """A plain class, not a dataclass: importing dataclasses (and inspect,
    ast, dis with it) would cost every start-up some 11 ms."""

    def __init__(self, aslr: bool = True, fast_memory: bool = False, kill_on_exit: bool = True,
                 follow_children: bool = True, auto_interrupt_on_command: bool = False,
                 escape_antidebug: bool = False, continue_to_binary_entrypoint: bool = True,
                 inherit_stopping_events: bool = False, follow_fork_mode: str = "parent",
                 detach_on_fork: bool = False, scheduler_locking: str = "off",
                 close_fds: bool = False, pass_fds: tuple = (),
                 syscall_filter: frozenset | None = None, output_watch: object = None):
        self.aslr = aslr
        self.fast_memory = fast_memory
        self.kill_on_exit = kill_on_exit
        self.follow_children = follow_children
        self.auto_interrupt_on_command = auto_interrupt_on_command
        self.escape_antidebug = escape_antidebug
        self.continue_to_binary_entrypoint = continue_to_binary_entrypoint
        # tether extras (gdb's controls)
        self.inherit_stopping_events = inherit_stopping_events
        self.follow_fork_mode = follow_fork_mode      # "parent" | "child"
        self.detach_on_fork = detach_on_fork
        self.scheduler_locking = scheduler_locking    # "off" | "step" | "on"
        # fds run() passes to the program (subprocess's convention): the
        # inheritable ones by default; with close_fds, or pass_fds given, only
        # 0-2 and pass_fds (a sorted tuple).
        self.close_fds = close_fds
        self.pass_fds = pass_fds
        # The syscall names declared at launch (debugger(syscall_filter=...)):
        # a seccomp-bpf filter makes only these stop the process, by the numbers
        # of each program's table (x86-64 or i386). None: no filter.
        self.syscall_filter = syscall_filter
        # run(attribute_output=True): the PipeManager's output watch
        # (commlink/attribution.py), given to every process of the tree; None: off.
        self.output_watch = output_watch

    def __repr__(self) -> str:
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()) + ")"

    def __eq__(self, other) -> bool:
        return type(other) is Settings and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # (mutable)

    def for_child(self) -> "Settings":
        # A plain field copy (copy.copy goes through __reduce_ex__: slow, and
        # this runs at every followed fork).
        child = object.__new__(Settings)
        child.__dict__.update(self.__dict__)
        return child
