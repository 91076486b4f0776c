"""Single-step based commands: step, step_until, finish, next. They run on
the tracer thread and drive the event loop themselves (Session.pump_until),
so a fork, exec or signal met on the way is handled as usual."""
from ..state.states import GONE, PROC_STEPPING, PROC_STOPPED, TASK_DEAD
from ..state.task import RSP_OFFSET

_PREFIXES = frozenset((0x66, 0x67, 0xF2, 0xF3, 0x2E, 0x3E, 0x26, 0x64, 0x65, 0x36))


def call_length(code: bytes, rex: bool = True) -> int | None:
    """Length of the instruction at code[0] if it is a call, else None.
    (call rel32, and call r/m64 = FF /2, with any prefixes.) rex=False for
    32-bit code, where 0x40..0x4F are inc/dec instructions, not REX prefixes
    (the ModRM and SIB forms are the same with 32-bit addressing)."""
    i = 0
    while i < len(code) and (code[i] in _PREFIXES or (rex and 0x40 <= code[i] <= 0x4F)):
        i += 1
    if i >= len(code) - 1:
        return None
    if code[i] == 0xE8:
        return i + 5
    if code[i] == 0xFF and (code[i + 1] >> 3) & 7 == 2:
        modrm = code[i + 1]
        mod, rm = modrm >> 6, modrm & 7
        n = i + 2
        if mod != 3 and rm == 4:
            sib = code[n]
            n += 1
            if mod == 0 and sib & 7 == 5:
                n += 4
        if mod == 0 and rm == 5:
            n += 4
        elif mod == 1:
            n += 1
        elif mod == 2:
            n += 4
        return n
    return None


def is_return(code: bytes) -> bool:
    i = 0
    while i < len(code) and code[i] in (0xF2, 0xF3):  # rep ret / bnd ret
        i += 1
    return i < len(code) and code[i] in (0xC3, 0xC2)


class Stepper:
    def __init__(self, session):
        self.session = session
        self.resumer = session.resumer

    def _code_at(self, task, address):
        proc = task.proc
        data = proc.mem.read(address, 16)
        return proc.aspace.original_bytes(address, data)

    def step(self, task) -> None:
        proc = task.proc
        rip = task.rip()  # first: raises if the thread died meanwhile, changing nothing
        proc.set_state(PROC_STEPPING)
        task.stepping = "user"
        task.stop_reason = None
        if rip in proc.aspace.installed:
            # Step the original instruction: lift our int3 for this one step.
            proc.aspace.lift(rip)
            task.step_address = rip
        self.resumer.restart(task)
        self.session.pump_until(lambda: proc.state is not PROC_STEPPING
                                or task.state is TASK_DEAD)

    def _step_past(self, task) -> None:
        """One step of a stepping command (step_until, finish in step mode):
        as step(), but a hardware execute breakpoint on the thread's address
        does not hold it back (EFLAGS.RF, as resuming past one does), so
        every step runs an instruction. (A plain step() stays where such a
        breakpoint holds it, as libdebug's does.)"""
        bp = task.proc.breakpoints.get(task.rip())
        if bp is not None and bp.hardware and bp.enabled and bp.condition == "x":
            task.rf_on_resume = True
        self.step(task)

    def step_until(self, task, address: int, max_steps: int) -> None:
        """Single-step until rip is `address`, at most max_steps steps (-1:
        no limit). Breakpoints met on the way neither stop it nor count a
        hit (libdebug 0.9's step_until)."""
        steps = 0
        while task.rip() != address and (max_steps < 0 or steps < max_steps):
            self._step_past(task)
            steps += 1
            if task.state is TASK_DEAD or task.proc.state is not PROC_STOPPED:
                return

    def run_to(self, task, address: int, same_frame_rsp: int | None) -> None:
        """Continue until `task` reaches `address` (with rsp above
        same_frame_rsp, so a recursive call doesn't count)."""
        proc = task.proc
        while True:
            added = address not in proc.internal_breakpoints
            if added:
                proc.internal_breakpoints[address] = "internal"
                proc.aspace.insert(address)
            try:
                self.session.resume_process(proc)
                self.session.pump_until(lambda: proc.state is PROC_STOPPED or proc.state in GONE)
            finally:
                if added and proc.state not in GONE:
                    proc.internal_breakpoints.pop(address, None)
                    proc.aspace.remove(address)
            if proc.state is not PROC_STOPPED:
                return
            last = proc.last_task
            if last is not task or last.stop_reason != "internal" or last.rip() != address:
                return  # stopped for another reason: report that one
            rsp = int.from_bytes(task.gpr()[RSP_OFFSET:RSP_OFFSET + 8], "little")
            if same_frame_rsp is None or rsp > same_frame_rsp:
                task.stop_reason = "finish"
                return

    def finish_step_mode(self, task) -> None:
        """Step over calls until the current function returns. An enabled
        breakpoint met on the way ends it there, as libdebug's exact finish
        does: the thread stops on its address, before running it, and no hit
        is counted (the breakpoint did not trigger)."""
        depth = 0
        proc = task.proc
        while True:
            code = self._code_at(task, task.rip())
            returning = is_return(code)
            if call_length(code, task.proc.arch.word == 8) is not None:
                depth += 1
            self._step_past(task)
            if task.state is TASK_DEAD or proc.state is not PROC_STOPPED:
                return
            if returning:
                if depth == 0:
                    return
                depth -= 1
            bp = proc.breakpoints.get(task.rip())
            if bp is not None and bp.enabled and bp.condition == "x":
                return

    def next(self, task) -> None:
        rip = task.rip()
        word = task.proc.arch.word
        length = call_length(self._code_at(task, rip), word == 8)
        if length is None:
            self.step(task)
            return
        rsp = int.from_bytes(task.gpr()[RSP_OFFSET:RSP_OFFSET + 8], "little")
        # The call pushes a return address: back in this frame means rsp > rsp - word.
        self.run_to(task, rip + length, rsp - word)
