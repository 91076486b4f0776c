"""`d.memory`: the process's memory, indexed like libdebug's.

  d.memory[addr]                 -> 1 byte
  d.memory[addr, size]           -> size bytes ("hybrid" addressing)
  d.memory[addr, size, file]     -> with an addressing mode / library name
  d.memory[addr, file]           -> 1 byte, in `file`
  d.memory[start:end]            -> a range (hybrid); d.memory[start:end, file]
  d.memory["main+0x10", 8]       -> a symbol expression as the address
  d.memory[...] = b"..."         -> write (the size is the data's length)

Reads never show tether's own int3 bytes; a write over a breakpoint updates
the byte the breakpoint will restore and keeps the breakpoint armed."""
from __future__ import annotations

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

from .. import _native as native
from . import search

_read_memory = native.read_memory  # (one lookup less on the fast paths)
# Writes up to this size into a stopped process are made from the calling
# thread (MemoryView.write); larger ones, rarer, go through the tracer thread.
_DIRECT_WRITE = 4096


class MemoryView:
    """The memory of the process of `owner`, which provides:
      resolve_position(position, file) -> address, `maps`, `binary_path`
    and, for a live process (the facade's ProcessControl):
      stopped_process() (the Proc if it is stopped, else None; without
      syncing with the tracer thread), live_process() (the Proc, or the
      error a command raises) and `tracer` (call() runs a function on the
      tracer thread).
    (A snapshot's view, snapshots/memory.py, reads its own store instead.)"""

    def __init__(self, owner):
        self._owner = owner
        # Bound once: the fast reads below call it on every access.
        self._stopped_process = getattr(owner, "stopped_process", None)

    # --- address resolution ---
    def _resolve(self, position, file: str) -> int:
        return self._owner.resolve_position(position, file)

    def _parse(self, key, write: bool = False):
        """-> (address, size or None)"""
        file = "hybrid"
        if isinstance(key, tuple):
            if len(key) == 3:
                position, size, file = key
            elif len(key) == 2 and (isinstance(key[0], slice) or isinstance(key[1], str)):
                # [start:end, file], or [address, file]: one byte (libdebug's reading)
                position, file = key
                size = None
            elif len(key) == 2:
                position, size = key
            else:
                raise TypeError(f"memory index must be addr, (addr, size) or (addr, size, file), not {key!r}")
            if not isinstance(file, str):
                raise TypeError(f"the file of a memory index must be a str, not {type(file).__name__}")
        else:
            position, size = key, None
        if isinstance(position, slice):
            if position.step is not None:
                raise ValueError("memory slices don't take a step")
            if position.start is None:
                raise TypeError("memory slices need a start address")
            if position.stop is None:
                # [start:] = data writes len(data) bytes there (libdebug's);
                # a read needs an end.
                if not write:
                    raise TypeError("reading a memory slice needs an end address")
                return self._resolve(position.start, file), None
            start = self._resolve(position.start, file)
            stop = self._resolve(position.stop, file)
            if stop < start:
                raise ValueError(f"memory slice ends ({stop:#x}) before it starts ({start:#x})")
            return start, stop - start
        address = self._resolve(position, file)
        if size is None:
            return address, None if write else 1
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"memory size must be an int, not {type(size).__name__}")
        if size < 0:
            raise ValueError(f"memory size must not be negative, got {size}")
        return address, size

    # --- access ---
    def __getitem__(self, key) -> bytes:
        # The common scripted form, d.memory[address, size, "absolute"],
        # checked without the general parser (it runs in tight loops).
        if type(key) is tuple and len(key) == 3:
            address, size, file = key
            if (file == "absolute" and type(address) is int and type(size) is int
                    and address >= 0 and size > 0):
                return self.read(address, size)
        return self._get(key)

    def _get(self, key) -> bytes:
        """Any index, through the general parser and read() (subclasses with
        their own read() use this as their __getitem__)."""
        address, size = self._parse(key)
        return self.read(address, size)

    def __setitem__(self, key, value) -> None:
        # The common scripted form, d.memory[address, size, "absolute"] = b"...",
        # checked without the general parser (as in __getitem__).
        if type(key) is tuple and len(key) == 3 and type(value) is bytes:
            address, size, file = key
            if (file == "absolute" and type(address) is int and type(size) is int
                    and address >= 0 and size == len(value)):
                self.write(address, value)
                return
        if isinstance(value, str):
            raise TypeError("memory takes bytes, not str (encode it first)")
        if not isinstance(value, (bytes, bytearray, memoryview)):
            # (bytes(5) would be five zero bytes: an int is a mistake, not data)
            hint = " (use value.to_bytes(size, 'little'))" if isinstance(value, int) else ""
            raise TypeError(f"memory takes bytes, not {type(value).__name__}{hint}")
        value = bytes(value)
        address, size = self._parse(key, write=True)
        if size is not None and size != len(value):
            raise ValueError(f"writing {len(value)} bytes into a {size}-byte range")
        self.write(address, value)

    def read(self, address: int, size: int) -> bytes:
        """`size` bytes at `address` (tether's int3 bytes shown as the originals)."""
        proc = self._stopped_process()
        if proc is not None and size > 0 and (proc.aspace.slot_saved is None
                                              or not proc.aspace.in_slot(address, size)):
            # The common case straight to process_vm_readv; on any error the
            # careful path below says what went wrong (or reads another way).
            # (Not over the displaced-step slot while it holds our code: the
            # program's own bytes there are shown by original_bytes.)
            try:
                return _read_memory(proc.pid, address, size, proc.aspace.installed)
            except (OSError, OverflowError, MemoryError):
                pass
        proc = self._owner.live_process()
        data = proc.mem.read(address, size)
        if not proc.aspace.installed:
            return data
        return proc.aspace.original_bytes(address, data)

    def write(self, address: int, data: bytes) -> None:
        """Write `data` at `address`; a breakpoint there stays armed and will
        restore the new byte (see AddressSpace.write)."""
        owner = self._owner
        data = bytes(data)
        if self._stopped_process is not None and len(data) <= _DIRECT_WRITE:
            # A small write into a stopped process, away from breakpoints,
            # goes straight from this thread through /proc/<pid>/mem (any
            # thread of ours may use it: only ptrace requests are bound to
            # the tracer thread), unless a cont() posted by the script is
            # not done yet (the write must come after it, as a command does).
            # Any failure: the general way below says what went wrong.
            proc = self._stopped_process()
            tracer = owner.tracer
            if proc is not None and tracer.posted_done == tracer.posted:
                try:
                    if proc.aspace.write_if_clear(proc.mem, address, data):
                        return
                except (OSError, ValueError):
                    pass
        proc = owner.live_process()
        owner.tracer.call(proc.aspace.write, proc.mem, address, data)

    # --- search (memory/search.py: libdebug's semantics) ---
    @property
    def owner(self) -> Any:
        """What this view reads for (its maps, addressing and process)."""
        return self._owner

    def find(self, value: bytes | str | int, file: str = "all", start: int | str | None = None,
             end: int | str | None = None) -> list[int]:
        """Addresses where `value` occurs: bytes, a str (encoded) or an int
        (one byte, 0..255, as libdebug reads it), overlapping occurrences
        included. file="all" searches every readable map (`start`/`end`
        bound it); another file ("binary", "libc", "heap", "stack"...) only
        its maps, with `start`/`end` resolved in that file."""
        return search.find(self, value, file, start, end)

    def find_pointers(self, where: str | int = "*", target: str | int = "*",
                      step: int = 1) -> list[tuple[int, int]]:
        """(address, pointer) pairs: 8-byte values in the maps of `where` that
        point into the maps of `target`; each is "*" (every map), a file name
        or an address (the map containing it)."""
        return search.find_pointers(self, where, target, step)

    def telescope(self, address: int, max_depth: int = 10, min_str_len: int = 3,
                  max_str_len: int = 0x100) -> list[int | str]:
        """Follow a chain of pointers from `address`: [address, *address,
        **address, ...]; the last element is the string pointed to when it
        looks like one (see memory/search.py)."""
        return search.telescope(self, address, max_depth, min_str_len, max_str_len)
