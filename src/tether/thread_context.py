"""ThreadContext: one traced thread as users see it (libdebug's name).

Register access goes through the thread's cache (fetched once per stop);
commands that move the thread are delegated to its Debugger, which checks the
process state and hands the work to the tracer thread."""
from .arch.amd64.registers import Registers, format_registers
from .arch.amd64.signals import signal_name, signal_number
from .errors import ProcessDeadError
from .state.task import RAX_OFFSET, ORIG_RAX_OFFSET

_ARG_REGS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")


def context_of(task):
    ctx = task.context
    if ctx is None:
        ctx = ThreadContext(task)
        task.context = ctx
    return ctx


class ThreadContext:
    def __init__(self, task):
        self._task = task
        self._regs = Registers(task)

    # --- identity and state ---
    @property
    def debugger(self):
        return self._task.proc.debugger

    @property
    def tid(self) -> int:
        return self._task.tid

    thread_id = tid

    @property
    def pid(self) -> int:
        return self._task.proc.pid

    process_id = pid

    def _sync(self) -> None:
        """A cont() posted by this thread is done before we look (Tracer.post)."""
        dbg = self._task.proc.debugger
        if dbg is not None:
            dbg._tracer.sync()

    @property
    def dead(self) -> bool:
        self._sync()
        return self._task.dead

    @property
    def zombie(self) -> bool:
        from .ptrace import proc_state
        return not self._task.dead and proc_state(self._task.tid) == "Z"

    @property
    def exit_code(self):
        self._sync()
        return self._task.exit_code

    @property
    def exit_signal(self):
        sig = self._task.exit_signal
        return None if sig is None else signal_name(sig)

    @property
    def running(self) -> bool:
        self._sync()
        return not self._task.stopped and not self._task.dead

    def __repr__(self):
        state = "dead" if self._task.dead else ("stopped" if self._task.stopped else "running")
        return f"<ThreadContext tid={self.tid} pid={self.pid} {state}>"

    # --- registers ---
    def _ready(self):
        dbg = self.debugger
        if dbg is not None:
            dbg._ensure_stopped()
        if self._task.dead:
            raise ProcessDeadError(f"thread {self.tid} is dead")

    @property
    def regs(self):
        self._ready()
        return self._regs

    @property
    def instruction_pointer(self) -> int:
        return self.regs.rip

    @instruction_pointer.setter
    def instruction_pointer(self, value: int) -> None:
        self.regs.rip = value

    @property
    def memory(self):
        return self.debugger.memory

    mem = memory

    # --- syscall view (meaningful at a syscall stop) ---
    @property
    def syscall_number(self) -> int:
        return self.regs.orig_rax

    @syscall_number.setter
    def syscall_number(self, value: int) -> None:
        self.regs.orig_rax = value

    @property
    def syscall_return(self) -> int:
        return self.regs.rax

    @syscall_return.setter
    def syscall_return(self, value: int) -> None:
        self.regs.rax = value & 0xFFFFFFFFFFFFFFFF

    def __getattr__(self, name):
        if name.startswith("syscall_arg") and name[11:].isdigit() and int(name[11:]) < 6:
            return getattr(self.regs, _ARG_REGS[int(name[11:])])
        raise AttributeError(f"ThreadContext has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name.startswith("syscall_arg") and name[11:].isdigit() and int(name[11:]) < 6:
            setattr(self.regs, _ARG_REGS[int(name[11:])], value & 0xFFFFFFFFFFFFFFFF)
            return
        object.__setattr__(self, name, value)

    # --- signals ---
    @property
    def signal(self):
        sig = self._task.deliver_signal
        return signal_name(sig) if sig else None

    @signal.setter
    def signal(self, value) -> None:
        self._task.deliver_signal = 0 if value in (None, 0) else signal_number(value)

    @property
    def signal_number(self) -> int:
        return self._task.deliver_signal

    # --- flow (delegated to the Debugger, which owns the process state) ---
    def step(self):
        return self.debugger._step(self._task)

    def step_until(self, position, max_steps: int = -1, file: str = "hybrid"):
        return self.debugger._step_until(self._task, position, max_steps, file)

    def finish(self, heuristic: str = "backtrace"):
        return self.debugger._finish(self._task, heuristic)

    def next(self):
        return self.debugger._next(self._task)

    def cont(self):
        """Resume this thread only if scheduler locking is "on", else the whole process."""
        return self.debugger._cont_thread(self._task)

    si = step
    su = step_until
    fin = finish
    ni = next

    def backtrace(self, as_symbols: bool = False):
        return self.debugger._backtrace(self._task, as_symbols)

    def pprint_backtrace(self):
        print(self.debugger._format_backtrace(self._task))

    @property
    def saved_ip(self) -> int:
        frames = self.backtrace()
        if len(frames) < 2:
            raise ValueError("no caller frame found: the return address is unknown")
        return frames[1]

    def pprint_registers(self):
        print(format_registers(self.regs, include_fp=False))

    def pprint_registers_all(self):
        print(format_registers(self.regs, include_fp=True))

    def create_snapshot(self, level: str = "base", name: str | None = None):
        from .snapshots.snapshot import thread_snapshot
        self._ready()
        return thread_snapshot(self.debugger, self._task, level, name)

    # constants used by the runtime
    _RAX = RAX_OFFSET
    _ORIG_RAX = ORIG_RAX_OFFSET
