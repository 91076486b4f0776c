"""Displaced stepping: a breakpoint's instruction run out of line
(docs/edge-cases.md §40).

A thread resuming from one of our int3s must run the instruction the int3
replaced. The emulator (emulate.py) does the common prologue instructions in
the registers; anything else used to be single-stepped with the int3 lifted
while every other thread of the process was held (resume.py, the step-over
lock), which costs an interrupt and a stop per other thread at every hit.

Here, as gdb does, the instruction is copied into a slot of 16 bytes at the
program's entry point (AT_ENTRY: `_start`, never run again once the program
has started; not used if its first 16 bytes may hold more than entry code,
see entry_fits), followed by an int3, and the thread runs it there: rip set to
the slot, PTRACE_CONT, and the int3 after the instruction stops it. The
breakpoint's own int3 stays armed, so the other threads keep running and
still hit it. Then rip goes to the instruction's real end. The slot, and
not a single step, also lets a `rep` string instruction run all its
iterations in one go.

What an instruction does must not depend on where it runs, so branches,
calls, returns, system calls and software interrupts are not displaced (the
lock path steps them, see native/displaced.c `movable`). A RIP-relative
operand is rewritten to [scratch + disp32] with a scratch register (rsi or
rdi, one the instruction does not name) holding the address the instruction
ends at, and the register is put back afterwards.

One slot per address space; a thread that finds it taken waits (stopped,
`AddressSpace.slot_waiting`) while the others run, and is restarted when the
slot is free. The thread in the slot leaves it at its first stop, whatever
it is (tracker.route sends it to Stops.on_step_done): at the int3 after the
instruction that is the end of the step; at any other stop (a fault, a
signal, PTRACE_INTERRUPT, a group-stop, an exit) rip is put back on the
instruction if it did not run (or past it if it did) before the stop is
handled, so a signal handler, the user and a detach see the real pc.

Only for 64-bit code (CS 0x33); not while a signal is to be delivered (the
handler would start with the slot as its return address), then the lock
path steps it. The slot's bytes are written once per instruction that uses
it, their original content restored when the last breakpoint of the address
space is removed (detach); a fork child gets them back at once
(AddressSpace.scrub_copy)."""
import struct

from .. import _native as native
from ..arch.amd64.registers import GPR_OFFSETS, RIP_OFFSET
from ..errors import MemoryAccessError
from ..events.decode import STOP_SIGNAL, STOP_TRAP
from ..memory.maps import read_maps
from ..ptrace import auxv_entry
from ..state.address_space import SLOT_SIZE
from ..state.states import TASK_STOPPED
from .emulate import REG_SLOT
from .tracker import STEP_DISPLACED

_u64 = struct.Struct("<Q").unpack_from
_p64 = struct.Struct("<Q").pack_into
_CS = GPR_OFFSETS["cs"]
_MASK64 = (1 << 64) - 1
USER_CS_64 = 0x33  # the code segment of 64-bit user code (i386 tasks run with 0x23)

# What start() says.
NOT_DISPLACED = 0  # not this one: step it with the int3 lifted
STARTED = 1        # rip is in the slot: restart the thread (PTRACE_CONT)
WAITING = 2        # the slot is taken: stay stopped until it is free


def entry_fits(code: bytes) -> bool:
    """Do the first SLOT_SIZE bytes of `code` (read at the entry point, with
    15 more) all belong to the entry code? Its instructions are decoded: a
    branch, call, return, system call or hlt that ends before SLOT_SIZE may
    be followed by another function (a Go program's entry is one jmp), which
    the slot must not overwrite."""
    offset = 0
    while offset < SLOT_SIZE:
        rest = code[offset:offset + 15]
        length = native.insn_length(rest)
        if not length:
            return False
        if offset + length < SLOT_SIZE and native.displace_plan(rest) is None:
            return False
        offset += length
    return True


def find_slot(pid: int, aspace) -> int:
    """The slot's address in process `pid`'s memory: its entry point if the
    16 bytes there are in one executable mapping, all entry code
    (entry_fits) and hold no breakpoint of ours; 0 if there is no usable
    one."""
    entry = auxv_entry(pid)
    if not entry:
        return 0
    try:
        maps = read_maps(pid)
    except OSError:
        return 0
    if not any(m.is_executable and m.start <= entry and entry + SLOT_SIZE <= m.end for m in maps):
        return 0
    if any(a in aspace.installed for a in range(entry, entry + SLOT_SIZE)):
        return 0
    try:
        code = aspace.mem.read(entry, SLOT_SIZE + 15)
    except (OSError, MemoryAccessError):
        return 0
    return entry if entry_fits(code) else 0


class Displacer:
    """Runs breakpoints' instructions in the slot (see the module's docstring)."""

    def __init__(self, resumer):
        self.resumer = resumer

    def start(self, task, address: int, code: bytes, gpr: bytearray) -> int:
        """`task` is stopped on our int3 at `address` (registers `gpr`, its
        cache) and must run the instruction `code` there. Returns STARTED
        (the registers are set for the slot: restart it), WAITING (it waits
        for the slot, stopped) or NOT_DISPLACED."""
        aspace = task.proc.aspace
        waiting = aspace.slot_waiting
        if waiting:
            waiting.pop(task, None)
        plan = aspace.plans.get(address)
        if plan is None:
            plan = aspace.plans[address] = native.displace_plan(code) or False
        if plan is False or _u64(gpr, _CS)[0] != USER_CS_64:
            return NOT_DISPLACED
        slot = aspace.slot
        if slot is None:
            slot = aspace.slot = find_slot(task.proc.pid, aspace)
        if not slot:
            return NOT_DISPLACED
        owner = aspace.slot_owner
        if owner is not None:
            if owner.stepping is STEP_DISPLACED and not owner.dead:
                waiting[task] = address
                return WAITING
            aspace.slot_owner = aspace.slot_step = None  # (it vanished while there)
        length, slot_code, scratch = plan
        aspace.fill_slot(slot_code)
        offset = saved = None
        if scratch >= 0:
            # The RIP-relative operand is [scratch + disp32]: the scratch
            # register holds what rip would (the instruction's end).
            offset = REG_SLOT[scratch] * 8
            saved = _u64(gpr, offset)[0]
            _p64(gpr, offset, address + length)
        _p64(gpr, RIP_OFFSET, slot)
        task.gpr_changed = True
        task.stepping = STEP_DISPLACED
        aspace.slot_owner = task
        aspace.slot_step = (address, length, offset, saved, slot)
        return STARTED

    def finish(self, task, ev) -> bool:
        """The first stop of `task` since it entered the slot. Puts its
        registers back where the instruction is (rip past it if it ran, on
        it if not; the scratch register restored), frees the slot and lets
        the next waiting thread have it. True if this is the end of the
        step (the int3 after the instruction); else the stop is to be
        handled as any other."""
        task.stepping = None
        aspace = task.proc.aspace
        if aspace.slot_owner is not task:
            return False  # (the slot was taken from it: nothing of ours in its registers)
        address, length, offset, saved, slot = aspace.slot_step
        aspace.slot_owner = aspace.slot_step = None
        end = slot + length
        try:
            gpr = task.gpr()
            rip = _u64(gpr, RIP_OFFSET)[0]
            if rip == end + 1 or rip == end:
                # Ran (end + 1: our int3 after it; end: another trap came
                # first, e.g. a hardware watchpoint, or a signal).
                _p64(gpr, RIP_OFFSET, address + length)
                if rip == end + 1 and ev.kind is not STOP_TRAP:
                    # It ran our int3 too, but another stop (an interrupt)
                    # came before its SIGTRAP was dequeued: that trap comes
                    # when it runs again, and is ours (Stops.on_trap).
                    aspace.slot_owed[task] = address + length
            elif rip == slot:
                # Not run (a fault, or a signal or an interrupt came first),
                # or a rep instruction interrupted part-way: it goes on from
                # its own address (rcx says how far it got).
                _p64(gpr, RIP_OFFSET, address)
                if ev.kind is STOP_SIGNAL:
                    # A fault's siginfo names the faulting instruction
                    # (SIGILL, SIGFPE): the handler must see its own address.
                    native.move_fault_address(task.tid, rip, rip + SLOT_SIZE,
                                              (address - rip) & _MASK64)
            if offset is not None:
                _p64(gpr, offset, saved)
            task.gpr_changed = True
        finally:
            self.next_waiter(aspace)
        return rip == end + 1 and ev.kind is STOP_TRAP

    def abandon(self, task) -> None:
        """`task` died in the slot (its process was killed, or it is a
        CLONE_VM/vfork child sharing the slot with others): the slot is free
        for the threads waiting for it."""
        aspace = task.proc.aspace
        aspace.slot_waiting.pop(task, None)
        aspace.slot_owed.pop(task, None)
        if aspace.slot_owner is task:
            aspace.slot_owner = aspace.slot_step = None
            self.next_waiter(aspace)

    def next_waiter(self, aspace) -> None:
        """The slot is free: restart the first thread waiting for it that
        still does (it takes the slot in start()); with no breakpoint left,
        put the slot's bytes back."""
        waiting = aspace.slot_waiting
        while waiting and aspace.slot_owner is None:
            task = next(iter(waiting))
            address = waiting.pop(task)
            if task.state is not TASK_STOPPED or task.stepping is not None \
                    or task.proc.aspace is not aspace:
                continue  # it went on another way meanwhile
            gpr = task.gpr_cache or task.load_gpr()
            if _u64(gpr, RIP_OFFSET)[0] != address:
                continue
            # (Its breakpoint may be gone meanwhile, disabled by a callback:
            # then the instruction runs for real.)
            try:
                self.resumer.resume(task)
            except ProcessLookupError:
                continue  # killed meanwhile: its death report follows
        if not aspace.installed:
            aspace.restore_slot()
