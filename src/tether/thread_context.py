"""ThreadContext: one traced thread as users see it (libdebug's name).

Register access goes through the thread's cache (fetched once per stop).
The state checks and the hand-offs to the tracer thread go through the
facade's ProcessControl of the thread's process, which is the process's
listener (`task.proc.listener`, see facade/control.py)."""
from __future__ import annotations

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

from .arch.amd64.registers import X86Registers, format_registers
from .arch.amd64.signals import signal_name, signal_number
from .errors import ProcessDeadError
from .ptrace import proc_state
from .runtime.stepping import Stepper
from .state.states import ProcState, TaskState
from .symbols.symbol_list import symbol_at

if TYPE_CHECKING:
    from .memory.view import MemoryView
    from .snapshots.snapshot_types import ThreadSnapshot
    from .state.task import Task
_DEAD = TaskState.DEAD


def context_of(task: "Task") -> "ThreadContext":
    """The ThreadContext of `task`, made once per thread."""
    ctx = task.context
    if ctx is None:
        ctx = ThreadContext(task)
        task.context = ctx
    return ctx


class ThreadContext:
    """One thread of a traced process: its registers, its syscall and signal
    views, and the commands that move it."""

    def __init__(self, task: "Task") -> None:
        self._task = task
        self._regs = task.proc.arch.registers(task)

    # --- identity and state ---
    @property
    def task(self) -> "Task":
        """The runtime's Task of this thread (what stopping events' hit_on()
        looks at); tether's own parts use it, scripts need not."""
        return self._task

    @property
    def debugger(self) -> Any:
        """The Debugger of the thread's process."""
        return self._task.proc.debugger

    @property
    def tid(self) -> int:
        """The thread id."""
        return self._task.tid

    thread_id = tid

    @property
    def pid(self) -> int:
        """The id of the thread's process."""
        return self._task.proc.pid

    process_id = pid

    def _sync(self) -> None:
        """A cont() posted by this thread is done before we look (Tracer.post)."""
        control = self._task.proc.listener
        if control is not None:
            control.tracer.sync()

    @property
    def dead(self) -> bool:
        """Whether the thread has exited."""
        self._sync()
        return self._task.dead

    @property
    def zombie(self) -> bool:
        """Whether the thread has exited but was not reaped yet (a zombie in /proc)."""
        return not self._task.dead and proc_state(self._task.tid) == "Z"

    @property
    def exit_code(self) -> int | None:
        """The thread's exit code once it exited normally, else None."""
        self._sync()
        return self._task.exit_code

    @property
    def exit_signal(self) -> str | None:
        """The name of the signal that killed the thread, else None."""
        sig = self._task.exit_signal
        return None if sig is None else signal_name(sig)

    @property
    def running(self) -> bool:
        """Whether the thread is running (neither stopped nor dead)."""
        self._sync()
        return not self._task.stopped and not self._task.dead

    def __repr__(self):
        task = self._task
        state = TaskState.DEAD if task.dead else (TaskState.STOPPED if task.stopped else TaskState.RUNNING)
        return f"<ThreadContext tid={self.tid} pid={self.pid} {state.value}>"

    # --- registers ---
    def _ready(self):
        """The process's control, once the process is stopped (waited for,
        or interrupted in ASAP mode) and this thread alive, or once the
        thread is dead with its registers kept (post-mortem reads, as in
        libdebug: see Task.keep_registers)."""
        task = self._task
        control = task.proc.listener
        if control is not None and task.state is not _DEAD:
            try:
                control.ensure_stopped()
            except ProcessDeadError:
                if task.state is not _DEAD:
                    raise
        if task.state is _DEAD and task.gpr_cache is None and task.last_gpr is None:
            raise ProcessDeadError(f"thread {task.tid} is dead and its registers were not kept "
                                   "(they are kept at a signal that kills it and at kill())")
        return control

    @property
    def regs(self) -> X86Registers:
        """The thread's registers (read and written in place: regs.rax = 0),
        named as its process's architecture names them (regs.eax in a
        32-bit process)."""
        self._ready()
        regs = self._regs
        names = self._task.proc.arch.registers
        if type(regs) is not names:  # exec'd a program of another architecture (edge-cases §36)
            regs = self._regs = names(self._task)
        return regs

    @property
    def arch(self):
        """The table of the thread's architecture (tether.arch.Arch)."""
        return self._task.proc.arch

    @property
    def instruction_pointer(self) -> int:
        """The thread's rip (eip in a 32-bit process)."""
        return getattr(self.regs, self.arch.ip)

    @instruction_pointer.setter
    def instruction_pointer(self, value: int) -> None:
        setattr(self.regs, self.arch.ip, value)

    @property
    def memory(self) -> "MemoryView":
        """The process's memory (the Debugger's `memory`)."""
        return self.debugger.memory

    mem = memory

    # --- syscall view (meaningful at a syscall stop) ---
    @property
    def syscall_number(self) -> int:
        """The number of the syscall the thread is stopped at (orig_rax;
        orig_eax in a 32-bit process, with the i386 numbers); settable."""
        return getattr(self.regs, self.arch.syscall_number_reg)

    @syscall_number.setter
    def syscall_number(self, value: int) -> None:
        setattr(self.regs, self.arch.syscall_number_reg, value)

    @property
    def syscall_return(self) -> int:
        """The syscall's return value (rax, eax in a 32-bit process;
        meaningful at its exit); settable."""
        return getattr(self.regs, self.arch.syscall_return_reg)

    @syscall_return.setter
    def syscall_return(self, value: int) -> None:
        arch = self.arch
        setattr(self.regs, arch.syscall_return_reg, value & ((1 << 8 * arch.word) - 1))

    def __getattr__(self, name):
        if name.startswith("syscall_arg") and name[11:].isdigit() and int(name[11:]) < 6:
            return getattr(self.regs, self.arch.syscall_arg_regs[int(name[11:])])
        raise AttributeError(f"ThreadContext has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name.startswith("syscall_arg") and name[11:].isdigit() and int(name[11:]) < 6:
            arch = self.arch
            setattr(self.regs, arch.syscall_arg_regs[int(name[11:])], value & ((1 << 8 * arch.word) - 1))
            return
        object.__setattr__(self, name, value)

    # --- signals ---
    @property
    def signal(self) -> str | None:
        """The name of the signal the thread will receive when resumed (None:
        none); set it to another name or number to change it, or to None to
        suppress it."""
        sig = self._task.deliver_signal
        return signal_name(sig) if sig else None

    @signal.setter
    def signal(self, value: str | int | None) -> None:
        self._task.deliver_signal = 0 if value in (None, 0) else signal_number(value)

    @property
    def signal_number(self) -> int:
        """The number of the signal the thread will receive when resumed (0: none)."""
        return self._task.deliver_signal

    # --- flow ---
    def _drive(self, control, command, *args) -> None:
        """Run a Stepper command on this thread. Inside this thread's own
        callback the other threads run on, and the process goes on when the
        callback returns: a step (or finish...) there leaves them as it found
        them, unless it stopped for something else the user must see."""
        task = self._task
        proc = task.proc
        in_callback = proc.in_callback and proc.state is ProcState.RUNNING \
            and control.tracer.on_tracer_thread()
        control.tracer.call(command, task, *args)
        if in_callback and proc.state is ProcState.STOPPED and proc.last_task is task \
                and task.stop_reason in ("step", "finish"):
            control.tracer.call(control.session.resume_process, proc, task)

    def step(self) -> None:
        """Execute one instruction of this thread."""
        control = self._task.proc.listener
        control.ensure_stopped()
        self._drive(control, Stepper(control.session).step)
        control.raise_pending_error()

    def step_until(self, position: int | str, max_steps: int = -1, file: str = "hybrid") -> None:
        """Single-step this thread until it reaches `position` (an address or a
        symbol expression), at most `max_steps` steps (-1: no limit)."""
        if not isinstance(max_steps, int):
            raise TypeError("max_steps must be an int")
        control = self._task.proc.listener
        control.ensure_stopped()
        address = control.resolve_position(position, file)
        self._drive(control, Stepper(control.session).step_until, address, max_steps)

    def finish(self, heuristic: str = "backtrace") -> None:
        """Run this thread until the current function returns: to the return
        address the backtrace gives ("backtrace"), or by stepping over calls
        until a ret ("step-mode")."""
        if heuristic not in ("backtrace", "step-mode"):
            raise ValueError(f"finish heuristic must be 'backtrace' or 'step-mode', not {heuristic!r}")
        control = self._task.proc.listener
        control.ensure_stopped()
        if heuristic == "step-mode":
            self._drive(control, Stepper(control.session).finish_step_mode)
            return
        frames = self.backtrace()
        if len(frames) < 2:
            raise ValueError("finish(): the caller's return address is unknown")
        sp = getattr(self.regs, self.arch.sp)
        self._drive(control, Stepper(control.session).run_to, frames[1], sp)

    def next(self) -> None:
        """Execute one instruction of this thread, a call as a whole."""
        control = self._task.proc.listener
        control.ensure_stopped()
        self._drive(control, Stepper(control.session).next)

    def cont(self) -> None:
        """Resume this thread only if scheduler locking is "on", else the whole process."""
        control = self._task.proc.listener
        control.refuse_in_own_callback("cont")
        proc = control.ensure_stopped()
        if control.settings.scheduler_locking == "on":
            control.tracer.call(control.session.resume_thread, self._task)
        else:
            control.tracer.call(control.session.resume_process, proc)

    si = step
    su = step_until
    fin = finish
    ni = next

    def backtrace(self, as_symbols: bool = False) -> list[Any]:
        """The return addresses of the thread's call stack, innermost first
        (its rip first); names ("main+0x1c") instead with as_symbols=True."""
        from .symbols.cfi import Unwinder, modules_of
        control = self._task.proc.listener
        control.ensure_stopped()
        regs = self.regs
        arch = self.arch
        read = control.memory.read
        word = arch.word

        def read_word(address):
            try:
                return int.from_bytes(read(address, word), "little")
            except Exception:
                return None
        frames = Unwinder(modules_of(control.maps), arch).unwind(
            getattr(regs, arch.ip), getattr(regs, arch.sp), getattr(regs, arch.fp), read_word)
        if as_symbols:
            syms = control.symbols
            return [symbol_at(a, syms) or hex(a) for a in frames]
        return frames

    def pprint_backtrace(self) -> None:
        """Print the backtrace, one frame a line: number, address, symbol."""
        frames = self.backtrace()
        syms = self._task.proc.listener.symbols
        print("\n".join(f"#{i:<2} {a:#018x} {symbol_at(a, syms) or '??'}" for i, a in enumerate(frames)))

    @property
    def saved_ip(self) -> int:
        """The return address of the current function (the caller's rip)."""
        frames = self.backtrace()
        if len(frames) < 2:
            raise ValueError("no caller frame found: the return address is unknown")
        return frames[1]

    def pprint_registers(self) -> None:
        """Print the general-purpose registers."""
        print(format_registers(self.regs, include_fp=False))

    def pprint_registers_all(self) -> None:
        """Print every register, the FP/vector ones included."""
        print(format_registers(self.regs, include_fp=True))

    pprint_regs = pprint_registers
    pprint_regs_all = pprint_registers_all

    def create_snapshot(self, level: str = "base", name: str | None = None) -> "ThreadSnapshot":
        """A ThreadSnapshot of this thread: its registers, and per `level`
        ("base", "writable", "full") its process's maps and memory."""
        from .snapshots.snapshot import thread_snapshot
        self._ready()
        return thread_snapshot(self.debugger, self._task, level, name)
