"""One address space: the software breakpoints physically written into it.

Processes that share memory (a vfork child until it execs or exits, a
clone(CLONE_VM) child) share one AddressSpace object, so a byte is installed
once, restored once, and a breakpoint of one process is never removed by
blank-slate cleanup of another (docs/edge-cases.md §4, §6, §7).

It also keeps the displaced-step slot (runtime/displaced.py): 16 bytes at the
program's entry point where a breakpoint's instruction runs out of line, and
their original content, written back once no breakpoint is left.

This is the only code that writes breakpoint bytes into a tracee."""

import threading

from ..errors import MemoryAccessError

INT3 = 0xCC
SLOT_SIZE = 16  # the longest instruction (15 bytes) and the int3 after it
# What a write into a process that is exiting raises: its memory is already
# gone (ESRCH, or nothing written) while its threads still report stops.
# Breakpoint bytes of such a process no longer matter.
_GONE = (OSError, MemoryAccessError)


class AddressSpace:
    __slots__ = ("installed", "refs", "mem", "code", "taken_out",
                 "slot", "slot_base", "slot_saved", "slot_holds", "slot_owner", "slot_step", "slot_waiting", "slot_owed",
                 "plans", "lock")

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
        # The displaced-step slot: its address (None: not looked for yet,
        # 0: none usable), its original bytes while ours are in it, the code
        # ours are, the thread running there and what to undo when it
        # leaves (runtime/displaced.py), the threads waiting for it.
        self.slot: int | None = None
        self.slot_base = 0                    # where slot_saved belongs
        self.slot_saved: bytes | None = None
        self.slot_holds: bytes | None = None
        self.slot_owner = None
        self.slot_step = None
        self.slot_waiting: dict = {}        # task -> the breakpoint address it waits at
        # task -> the rip its SIGTRAP from the slot's int3 will show, when
        # another stop came first (runtime/displaced.py, Stops.on_trap).
        self.slot_owed: dict = {}
        # Breakpoint address -> its displaced-step plan (False: none), made
        # once from `code`.
        self.plans: dict = {}
        # Held while a breakpoint byte is being put in or taken out, and by
        # a user's write made straight from the script's thread
        # (write_if_clear): that write must see `installed` as it is in
        # memory.
        self.lock = threading.Lock()

    def insert(self, address: int) -> None:
        count = self.refs.get(address, 0)
        if count == 0:
            if self.slot and self.slot <= address < self.slot + SLOT_SIZE:
                # A breakpoint in the slot's bytes (on the entry point): the
                # slot is not used from now on (runtime/displaced.py).
                self.restore_slot()
                if self.slot_saved is None:
                    self.slot = 0
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
            self.plans.pop(address, None)
            with self.lock:
                original = self.installed.pop(address, None)
                if original is not None:
                    self.taken_out.add(address)
                    try:
                        self.mem.write(address, bytes((original,)))
                    except _GONE:
                        pass  # process gone: nothing to restore
            if not self.installed:
                self.restore_slot()  # (released for good: the last breakpoint is gone)
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
            if self.in_slot(address, len(data)):
                return False  # the slot holds our code: write() puts the program's back first
            for bp in self.installed:
                if address <= bp < end:
                    return False
            for bp in self.code:
                if address - 16 < bp < end:
                    return False
            mem.write(address, data)
        return True

    def in_slot(self, address: int, size: int) -> bool:
        """Whether [address, address + size) overlaps the displaced-step slot
        while it holds our code."""
        return self.slot_saved is not None and address < self.slot_base + SLOT_SIZE \
            and self.slot_base < address + size

    def original_bytes(self, address: int, data: bytes) -> bytes:
        """`data` read from `address` with our int3s replaced by the original
        bytes, so users (and snapshots) never see tether's breakpoints."""
        if not self.installed:
            return data
        installed = self.installed
        if len(data) == 1:  # the common small read: one lookup
            orig = installed.get(address)
            if orig is None:
                saved = self.slot_saved
                if saved is None or not 0 <= address - self.slot_base < SLOT_SIZE:
                    return data
                orig = saved[address - self.slot_base]
            return bytes((orig,))
        end = address + len(data)
        out = None
        for bp, orig in installed.items():
            if address <= bp < end:
                if out is None:
                    out = bytearray(data)
                out[bp - address] = orig
        saved = self.slot_saved
        base = self.slot_base
        if saved is not None and address < base + SLOT_SIZE and base < end:
            # The slot's own bytes, as the program would see them.
            if out is None:
                out = bytearray(data)
            for i, byte in enumerate(saved):
                if address <= base + i < end:
                    out[base + i - address] = byte
        return data if out is None else bytes(out)

    def write(self, mem, address: int, data: bytes) -> None:
        """The user's write of `data` at `address`, through `mem` (the
        ProcessMemory of the process writing): where a breakpoint is
        installed the new byte becomes the one it restores and the int3
        stays, and the cached instructions near the write are forgotten."""
        installed = self.installed
        code = self.code
        if self.slot_saved is not None and address < self.slot_base + SLOT_SIZE \
                and self.slot_base < address + len(data):
            self.restore_slot()  # the user's bytes go where the program has its own
        for bp in [a for a in code if address - 16 < a < address + len(data)]:
            del code[bp]  # its cached instruction bytes may have changed
            self.plans.pop(bp, None)
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

    def take_all_out(self) -> dict:
        """Write the original bytes back at every breakpoint and forget
        them (another debugger takes the process over); returns what
        put_back() needs to install them again (address -> how many want it)."""
        wanted = dict(self.refs)
        for address, original in self.installed.items():
            try:
                self.mem.write(address, bytes((original,)))
            except _GONE:
                pass
        self.installed.clear()
        self.refs.clear()
        self.code.clear()
        return wanted

    def put_back(self, wanted: dict) -> None:
        """Install again the breakpoints take_all_out() took out (their
        original bytes read anew: the other debugger may have written there)."""
        for address, count in wanted.items():
            self.insert(address)
            self.refs[address] = count

    def scrub_copy(self, mem) -> None:
        """A fork child got a copy of this address space with our int3s in
        it: write the original bytes into the copy (through the child's `mem`)
        before it runs one instruction."""
        for address, original in self.installed.items():
            try:
                mem.write(address, bytes((original,)))
            except _GONE:
                pass
        if self.slot_saved is not None:
            try:
                mem.write(self.slot_base, self.slot_saved)
            except _GONE:
                pass

    # ------------------------------------------------------------------ the slot
    def fill_slot(self, code: bytes) -> None:
        """Write `code` (at most SLOT_SIZE bytes) into the slot, its original
        bytes kept the first time. ProcessLookupError if the process's
        memory is gone."""
        if self.slot_holds == code:
            return
        slot = self.slot
        if not slot:
            raise ValueError("no displaced-step slot in this address space")
        self.slot_holds = None  # (unknown if the write fails half-way)
        try:
            with self.lock:   # (a direct write from the script checks slot_saved under it)
                if self.slot_saved is None:
                    self.slot_saved = self.mem.read(slot, SLOT_SIZE)
                    self.slot_base = slot
                self.mem.write(slot, code)
        except _GONE as e:
            # Its memory is gone (killed, exiting): as a stopped thread's
            # ptrace request would say, its death report follows.
            raise ProcessLookupError(f"address space of a dying process: {e}") from e
        self.slot_holds = code

    def restore_slot(self) -> None:
        """Put the slot's original bytes back, unless a thread runs there."""
        if self.slot_saved is None or self.slot_owner is not None:
            return
        with self.lock:
            saved, self.slot_saved, self.slot_holds = self.slot_saved, None, None
            try:
                self.mem.write(self.slot_base, saved)
            except _GONE:
                pass  # process gone: nothing to restore

    def instruction_at(self, address: int) -> bytes:
        """The 16 bytes at a breakpoint's address with its original first
        byte, read once (the step-over emulator looks at them at every hit)."""
        code = self.code.get(address)
        if code is None:
            code = bytes((self.installed[address],)) + self.mem.read(address + 1, 15)
            self.code[address] = code
        return code
