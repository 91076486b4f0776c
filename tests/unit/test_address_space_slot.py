"""The displaced-step slot's bookkeeping in AddressSpace (state/address_space.py):
the program's bytes are what users read, what a fork child gets, and what is
written back when the last breakpoint goes. The memory is a plain buffer."""
from tether.state.address_space import INT3, SLOT_SIZE, AddressSpace

BASE = 0x1000
SLOT = 0x1100


class Buffer:
    """A process's memory as a bytearray at BASE."""

    def __init__(self, size=0x400):
        self.data = bytearray(range(256)) * (size // 256)

    def read(self, address, size):
        return bytes(self.data[address - BASE:address - BASE + size])

    def write(self, address, data):
        self.data[address - BASE:address - BASE + len(data)] = data


def make():
    mem = Buffer()
    aspace = AddressSpace(mem)
    aspace.slot = SLOT
    return mem, aspace


def test_users_see_the_programs_bytes_and_get_them_back_with_the_last_breakpoint():
    mem, aspace = make()
    program = mem.read(SLOT, SLOT_SIZE)
    aspace.insert(0x1010)
    aspace.fill_slot(b"\x90\xcc")
    assert mem.read(SLOT, 2) == b"\x90\xcc"
    assert aspace.original_bytes(SLOT, mem.read(SLOT, SLOT_SIZE)) == program
    assert aspace.original_bytes(SLOT + 1, mem.read(SLOT + 1, 1)) == program[1:2]
    assert aspace.original_bytes(SLOT - 8, mem.read(SLOT - 8, 12)) == mem.read(SLOT - 8, 8) + program[:4]
    aspace.remove(0x1010)
    assert mem.read(SLOT, SLOT_SIZE) == program and aspace.slot_saved is None


def test_the_slot_is_kept_while_a_thread_runs_in_it():
    mem, aspace = make()
    program = mem.read(SLOT, SLOT_SIZE)
    aspace.insert(0x1010)
    aspace.fill_slot(b"\x0f\xa2\xcc")
    aspace.slot_owner = object()
    aspace.remove(0x1010)
    assert mem.read(SLOT, 3) == b"\x0f\xa2\xcc"   # (written back when it leaves)
    aspace.slot_owner = None
    aspace.restore_slot()
    assert mem.read(SLOT, SLOT_SIZE) == program


def test_a_fork_child_gets_the_programs_bytes():
    mem, aspace = make()
    aspace.insert(0x1010)
    aspace.fill_slot(b"\x0f\xa2\xcc")
    child = Buffer()
    child.data[:] = mem.data
    aspace.scrub_copy(child)
    assert child.read(SLOT, SLOT_SIZE) == aspace.slot_saved
    assert child.read(0x1010, 1) == bytes((aspace.installed[0x1010],))


def test_a_breakpoint_in_the_slot_retires_it():
    mem, aspace = make()
    program = mem.read(SLOT, SLOT_SIZE)
    aspace.insert(0x1010)
    aspace.fill_slot(b"\x0f\xa2\xcc")
    aspace.insert(SLOT + 2)
    assert aspace.slot == 0
    assert aspace.installed[SLOT + 2] == program[2]
    assert mem.read(SLOT, 3) == program[:2] + bytes((INT3,))


def test_a_users_write_over_the_slot_is_the_programs():
    mem, aspace = make()
    aspace.insert(0x1010)
    aspace.fill_slot(b"\x0f\xa2\xcc")
    aspace.write(mem, SLOT, b"\x11\x22")
    assert mem.read(SLOT, 2) == b"\x11\x22" and aspace.slot_saved is None
    aspace.fill_slot(b"\x0f\xa2\xcc")
    assert aspace.slot_saved[:2] == b"\x11\x22"
