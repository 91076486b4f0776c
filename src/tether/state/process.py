"""Per-process state: its threads, address space, stopping events, children.
Data only; the runtime (tether.runtime) acts on it."""
from __future__ import annotations

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

from ..arch import arch_of_process
from ..memory.process_memory import ProcessMemory
from .address_space import AddressSpace
from .hub import Hub
from .states import ProcState

NO_HOOKS: dict[str, tuple] = {"fork": (), "exec": (), "exit": (), "thread": (), "thread_exit": (), "stop": ()}


class Proc:
    state: ProcState

    def set_state(self, value: ProcState) -> None:
        """Change `state` (a plain attribute, read on every stop: set it only
        through here, so that the tracer wakes the script's waiting threads,
        which it does only after a change)."""
        self.state = value
        self.hub.changed = True

    # Defaults of the scalar fields, on the class: an instance stores only
    # what differs (a Proc is made at every fork of a traced program).
    exit_code = None
    exit_signal = None
    exec_count = 0
    run_epoch = 0           # bumped whenever a thread is resumed: caches of maps key on it
    traced_since = 0        # clock ticks since boot when we attached (0: we started it)
    attached = False        # seized while it ran untraced (attach), not born traced
    gdb_breakpoints = None  # while in gdb: the int3s to put back (AddressSpace.take_all_out)
    gdb_job_stopped = False  # handed to gdb while in a job-control stop of its own
    own_sigcont = False     # a SIGCONT of ours is on its way: not the program's (runtime/migrate.py)
    exe_path = None
    hw_used = False         # debug registers were ever written: keep them in sync
    step_lock = None        # the thread stepping over a lifted int3 (others held)
    syscall_all = None
    signal_all = None
    trace_syscalls = False  # resume with PTRACE_SYSCALL instead of PTRACE_CONT
    pprint_syscalls = False
    pprint_only = None      # syscalls_to_pprint (numbers) or None
    pprint_hidden = None    # syscalls_to_not_pprint
    last_task: Any = None   # (a Task) the thread whose event stopped the process
    pending_error = None    # exception raised by a callback, for the user
    in_callback = 0         # callbacks of ours running now (nested ones count)
    job_stopped = False     # every thread sits in a job-control stop (tracker.job_stopped)
    debugger = None         # the facade's Debugger (None for a hidden process)
    listener = None         # the facade's ProcessListener (see runtime/listener.py)
    vfork_parent_of = None  # a followed vfork child shares our memory until exec/exit
    inherit_events_pending = False
    hidden = False              # traced only to keep it safe, no Debugger (see runtime/births.py)
    detach_when_stopped = False  # follow-fork-mode child + detach-on-fork
    stop_when_started = False    # stopped by the user before its first stop
    # Syscall handlers whose call the running program's architecture lacks,
    # kept for an exec back (runtime/tree.py, renumber_syscalls).
    dormant_syscalls: tuple = ()

    def __init__(self, pid: int, config, parent=None, aspace=None, hub=None,
                 state: ProcState = ProcState.STOPPED, arch=None):
        self.pid = pid
        self.config = config          # the Debugger's Settings (follow_children, ...)
        self.parent = parent
        self.hub = hub if hub is not None else (parent.hub if parent is not None else Hub())
        self.children: list = []      # child Proc objects, in creation order
        self.tasks: dict = {}         # tid -> Task
        self.mem = ProcessMemory(pid, self.live_tids)
        self.aspace = aspace if aspace is not None else AddressSpace(self.mem)
        self.state = state
        # Its architecture's table (tether.arch): given for a fork (it runs
        # its parent's program); else (started, attached) read from its
        # program's ELF header. Decided again at each exec (Tree.on_exec).
        self.arch = arch if arch is not None else arch_of_process(pid)
        # Read at every stop: instance attributes (a class default read
        # through an instance is several times slower on Python 3.11).
        self.step_lock = None
        self.hw_used = False
        self.trace_syscalls = False
        # Runs under our seccomp filter (started by run() with a
        # syscall_filter, or a descendant: the filter is inherited and kept
        # across exec): only the filtered syscalls stop it, at a seccomp stop.
        self.seccomp = config.syscall_filter is not None
        # Output attribution (run(attribute_output=True)): the facade's
        # watch of the PipeManager's streams, shared by the whole tree
        # (runtime/output_turns.py), or None.
        self.output_watch = config.output_watch
        self.pprint_syscalls = False
        self.run_epoch = 0
        self.syscall_all = None
        self.hidden = False
        self.breakpoints: dict = {}   # address -> Breakpoint (user, software and hardware)
        self.hw_slots = [None, None, None, None]
        self.internal_breakpoints: dict = {}  # address -> tag (finish/next/entry)
        self.syscall_handlers: dict = {}      # number -> SyscallHandler
        self.signal_catchers: dict = {}       # number -> SignalCatcher
        self.signals_to_block: set = set()
        # Lifecycle callbacks (tether extra), inherited by children. Tuples,
        # replaced by add_hook: a child shares its parent's until either adds
        # one (a followed fork copies no lists).
        self.hooks = dict(NO_HOOKS)

    def live_tids(self) -> list:
        return [t.tid for t in self.tasks.values() if not t.dead]

    def add_hook(self, kind: str, callback) -> None:
        self.hooks[kind] = self.hooks[kind] + (callback,)

    def inherit_hooks_from(self, parent) -> None:
        self.hooks = dict(parent.hooks)
        self.signals_to_block = set(parent.signals_to_block)

    def live_tasks(self):
        return [t for t in self.tasks.values() if not t.dead]

    @property
    def main_task(self):
        task = self.tasks.get(self.pid)
        if task is None and self.tasks:
            task = next(iter(self.tasks.values()))
        return task

    def descendants(self):
        out = []
        for child in self.children:
            out.append(child)
            out.extend(child.descendants())
        return out
