"""Whose is a SIGTRAP (runtime/trap_owner.py software_trap): the answers
that need no siginfo, over an AddressSpace on a plain buffer. The rest (a
taken-out int3, a debug register's trap, a program's own SIGTRAP) is
driven end to end in tests/e2e/test_detach_at_breakpoint.py and
test_stress.py."""
from tether.runtime.trap_owner import TRAP_HIT, TRAP_REAL, TRAP_SLOT, software_trap
from tether.state.address_space import AddressSpace

from test_address_space_slot import BASE, Buffer


class Task:
    """The one field of a thread software_trap() reads: none (it is a key)."""


def test_a_trap_past_an_installed_int3_is_a_hit():
    aspace = AddressSpace(Buffer())
    aspace.insert(BASE + 0x10)
    assert software_trap(Task(), aspace, BASE + 0x10) == TRAP_HIT


def test_the_slots_owed_trap_is_ours_once_and_for_that_thread_only():
    aspace = AddressSpace(Buffer())
    owed, other = Task(), Task()
    aspace.slot_owed[owed] = BASE + 0x21   # rip past the slot's instruction
    assert software_trap(other, aspace, BASE + 0x20) == TRAP_REAL
    assert software_trap(owed, aspace, BASE + 0x1F) == TRAP_REAL   # another rip: not that trap
    assert software_trap(owed, aspace, BASE + 0x20) == TRAP_SLOT
    assert owed not in aspace.slot_owed
    assert software_trap(owed, aspace, BASE + 0x20) == TRAP_REAL  # (a second SIGTRAP is the program's)


def test_the_slots_trap_comes_first_even_onto_a_breakpoint():
    """rip past the slot's instruction may be on another breakpoint: the
    trap is still the slot's (the caller then reports that breakpoint)."""
    aspace = AddressSpace(Buffer())
    task = Task()
    aspace.insert(BASE + 0x30)
    aspace.slot_owed[task] = BASE + 0x30
    assert software_trap(task, aspace, BASE + 0x2F) == TRAP_SLOT


def test_nothing_of_ours_there_is_the_programs():
    aspace = AddressSpace(Buffer())
    assert software_trap(Task(), aspace, BASE + 0x40) == TRAP_REAL
