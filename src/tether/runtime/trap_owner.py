"""Whose is a SIGTRAP a thread took: tether's (one of its int3s, the
displaced-step slot's int3, a debug register it set, a single step it asked
for) or the program's own (a kill, an int3 of its code, its own trap flag)?
Asked at every SIGTRAP stop (Stops.on_trap) and for the SIGTRAPs still
queued or held when a process is let go (Session.settle_for_release), where
ours are dropped and the program's passed on: untraced it would get the
program's, never ours (docs/edge-cases.md §41)."""
from .. import _native as native
from ..arch.amd64 import debugregs
from ..state.address_space import INT3

SI_KERNEL = 0x80   # si_code of the SIGTRAP an int3 raises
TRAP_TRACE = 2     # si_code of a single step's SIGTRAP (DR6.BS)

# What software_trap() and at_release() say.
TRAP_REAL = 0   # the program's own: deliver it
TRAP_HIT = 1    # our int3 at `address`: a breakpoint hit (rip goes back onto it)
TRAP_STALE = 2  # our int3 at `address`, taken out since: rip goes back, never delivered
TRAP_SLOT = 3   # the displaced-step slot's int3: rip is past the instruction already
TRAP_DONE = 4   # a debug register's or a step's of ours: rip is where it belongs


def int3_trap(task) -> bool:
    """Whether the thread's SIGTRAP came from an int3 (the kernel's si_code
    SI_KERNEL), not from kill() or a single step."""
    return native.getsiginfo(task.tid)[1] == SI_KERNEL


def software_trap(task, aspace, address: int) -> int:
    """`task` took a SIGTRAP with rip at `address` + 1 (one byte past the
    int3, if an int3 raised it). Whose is it (TRAP_REAL, _HIT, _STALE or
    _SLOT)? A TRAP_SLOT answer is consumed: the slot owes the thread that
    SIGTRAP no more."""
    owed = aspace.slot_owed
    if owed and owed.get(task) == address + 1:
        # The SIGTRAP of the slot's int3, held back by an interrupt that came
        # first (displaced.py finish(): rip was put past the instruction then).
        del owed[task]
        return TRAP_SLOT
    if address in aspace.installed:
        return TRAP_HIT
    if address in aspace.taken_out and int3_trap(task) and aspace.mem.read(address, 1)[0] != INT3:
        # It ran our int3 just before the breakpoint was disabled or deleted
        # (its trap held during an all-stop, or still queued when
        # PTRACE_INTERRUPT stopped it). Untraced, the byte there was never an
        # int3: the instruction is to run for real.
        return TRAP_STALE
    return TRAP_REAL


def hardware_slots(task) -> list[int]:
    """The debug registers (0..3) whose condition the thread's DR6 reports
    met, DR6 then cleared: it is sticky on older kernels, and the next trap
    must read true."""
    slots = debugregs.triggered_slots(native.peekuser(task.tid, debugregs.DR6_OFFSET))
    if slots:
        native.pokeuser(task.tid, debugregs.DR6_OFFSET, 0)
    return slots


def at_release(task, proc, address: int) -> int:
    """Whose is the SIGTRAP `task` holds (rip at `address` + 1) when `proc`
    is let go: software_trap(), and also TRAP_DONE for the trap of one of
    our debug registers or of a step we asked for."""
    if proc.hw_used and any(proc.hw_slots[i] is not None for i in hardware_slots(task)):
        return TRAP_DONE
    if task.stepping is not None and native.getsiginfo(task.tid)[1] == TRAP_TRACE:
        return TRAP_DONE
    return software_trap(task, proc.aspace, address)
