"""One address space: the software breakpoints physically written into it.

Processes that share memory (a vfork child until it execs or exits, a
clone(CLONE_VM) child) share one AddressSpace object, so a byte is installed
once, restored once, and a breakpoint of one process is never removed by
blank-slate cleanup of another (docs/edge-cases.md §4, §6, §7).

This is the only code that writes breakpoint bytes into a tracee."""

import threading

from ..errors import MemoryAccessError

INT3 = 0xCC
# What a write into a process that is exiting raises: its memory is already
# gone (ESRCH, or nothing written) while its threads still report stops.
# Breakpoint bytes of such a process no longer matter.
_GONE = (OSError, MemoryAccessError)


class AddressSpace:
    __slots__ = ("installed", "refs", "mem", "code", "taken_out", "lock")

    def __init__(self, mem):
        self.installed: dict[int, int] = {}   # address -> original byte
        self.refs: dict[int, int] = {}        # address -> how many breakpoints want it
        self.mem = mem                        # a ProcessMemory of one process using it
        # The 16 original bytes at each breakpoint, read once: the step-over
        # emulator looks at them on every hit.
        self.code: dict[int, bytes] = {}
        # Addresses whose int3 we took out again: a thread may have executed
        # it just before and not yet reported the trap (see
        # Stops.on_trap). As many as there were breakpoints.
        self.taken_out: set[int] = set()
        # Held while a breakpoint byte is being put in or taken out, and by
        # a user's write made straight from the script's thread
        # (write_if_clear): that write must see `installed` as it is in
        # memory.
        self.lock = threading.Lock()

    def insert(self, address: int) -> None:
        count = self.refs.get(address, 0)
        if count == 0:
            with self.lock:
                original = self.mem.read(address, 1)[0]
                self.mem.write(address, bytes((INT3,)))
                self.installed[address] = original
            self.taken_out.discard(address)
        self.refs[address] = count + 1

    def remove(self, address: int) -> None:
        count = self.refs.get(address, 0)
        if count <= 1:
            self.refs.pop(address, None)
            self.code.pop(address, None)
            with self.lock:
                original = self.installed.pop(address, None)
                if original is not None:
                    self.taken_out.add(address)
                    try:
                        self.mem.write(address, bytes((original,)))
                    except _GONE:
                        pass  # process gone: nothing to restore
        else:
            self.refs[address] = count - 1

    def write_if_clear(self, mem, address: int, data: bytes) -> bool:
        """The user's write of `data` at `address` straight through `mem`, on
        any thread (no hand-off to the tracer thread), if no breakpoint byte
        lies in the range and no cached instruction overlaps it. False, and
        nothing written, otherwise: write() (on the tracer thread) then keeps
        the books. Errors of the write itself propagate."""
        end = address + len(data)
        with self.lock:
            for bp in self.installed:
                if address <= bp < end:
                    return False
            for bp in self.code:
                if address - 16 < bp < end:
                    return False
            mem.write(address, data)
        return True

    def original_bytes(self, address: int, data: bytes) -> bytes:
        """`data` read from `address` with our int3s replaced by the original
        bytes, so users (and snapshots) never see tether's breakpoints."""
        if not self.installed:
            return data
        installed = self.installed
        if len(data) == 1:  # the common small read: one lookup
            orig = installed.get(address)
            return data if orig is None else bytes((orig,))
        end = address + len(data)
        out = None
        for bp, orig in installed.items():
            if address <= bp < end:
                if out is None:
                    out = bytearray(data)
                out[bp - address] = orig
        return data if out is None else bytes(out)

    def write(self, mem, address: int, data: bytes) -> None:
        """The user's write of `data` at `address`, through `mem` (the
        ProcessMemory of the process writing): where a breakpoint is
        installed the new byte becomes the one it restores and the int3
        stays, and the cached instructions near the write are forgotten."""
        installed = self.installed
        code = self.code
        for bp in [a for a in code if address - 16 < a < address + len(data)]:
            del code[bp]  # its cached instruction bytes may have changed
        if installed:
            out = bytearray(data)
            for bp in list(installed):
                if address <= bp < address + len(data):
                    installed[bp] = out[bp - address]
                    out[bp - address] = INT3
            data = bytes(out)
        mem.write(address, data)

    def lift(self, address: int) -> None:
        """Put the original byte back for one single step over `address`
        (the bookkeeping stays: rearm() writes the int3 again)."""
        original = self.installed.get(address)
        if original is not None:
            try:
                self.mem.write(address, bytes((original,)))
            except _GONE:
                pass  # exiting (killed): its death report follows

    def rearm(self, address: int) -> None:
        """Write the int3 at `address` again after a step, if it is still wanted."""
        if address in self.installed:
            try:
                self.mem.write(address, bytes((INT3,)))
            except _GONE:
                pass  # exiting (killed): its death report follows

    def scrub_copy(self, mem) -> None:
        """A fork child got a copy of this address space with our int3s in
        it: write the original bytes into the copy (through the child's `mem`)
        before it runs one instruction."""
        for address, original in self.installed.items():
            try:
                mem.write(address, bytes((original,)))
            except _GONE:
                pass

    def instruction_at(self, address: int) -> bytes:
        """The 16 bytes at a breakpoint's address with its original first
        byte, read once (the step-over emulator looks at them at every hit)."""
        code = self.code.get(address)
        if code is None:
            code = bytes((self.installed[address],)) + self.mem.read(address + 1, 15)
            self.code[address] = code
        return code
