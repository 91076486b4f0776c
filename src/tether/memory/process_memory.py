"""Raw access to one process's memory: process_vm_readv for reads (one system
call for any size), /proc/<pid>/mem for writes and for reads of pages the
process itself can't read (the kernel's FOLL_FORCE path, the same one
PTRACE_POKEDATA uses, so breakpoints can be written into read-only code)."""
import errno
import os

from .. import _native as native
from ..errors import MemoryAccessError

# /proc/<pid>/mem takes the address as the file offset, and pread/pwrite's
# offset is signed: the top half of the address space (the kernel's, and the
# [vsyscall] page) cannot be named there. process_vm_readv takes any address.
_SIGNED_OFFSET_END = 1 << 63
# Reads above this size are checked against the memory map before anything is
# allocated: a length no mapping could satisfy must fail with a message, not
# with a MemoryError from allocating it.
_CHECKED_READ = 1 << 24


class ProcessMemory:
    __slots__ = ("pid", "_fd", "_live_tids")

    def __init__(self, pid: int, live_tids=None):
        self.pid = pid
        self._fd: int | None = None
        # When the main thread has exited (pthread_exit) but others run on, the
        # pid is a zombie with no memory: go through a live thread instead.
        self._live_tids = live_tids

    def _other_tid(self):
        if self._live_tids is None:
            return None
        for tid in self._live_tids():
            if tid != self.pid and os.path.exists(f"/proc/{self.pid}/task/{tid}"):
                return tid
        return None

    def _mem_fd(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(f"/proc/{self.pid}/mem", os.O_RDWR | os.O_CLOEXEC)
            except OSError:
                tid = self._other_tid()
                if tid is None:
                    raise
                self._fd = os.open(f"/proc/{self.pid}/task/{tid}/mem", os.O_RDWR | os.O_CLOEXEC)
        return self._fd

    def reopen(self) -> None:
        """After exec the old /proc/pid/mem still points at the old image."""
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def read(self, address: int, size: int) -> bytes:
        if size == 0:
            return b""
        if address < 0 or address + size > 1 << 64:
            raise MemoryAccessError(f"cannot read {size} bytes at {address:#x} in process "
                                    f"{self.pid}: outside the address space")
        if size > _CHECKED_READ:
            self._check_mapped(address, size)
        try:
            return native.read_memory(self.pid, address, size)
        except OSError as e:
            if e.errno == errno.ESRCH:
                tid = self._other_tid()
                if tid is None:
                    raise
                return native.read_memory(tid, address, size)
            if e.errno not in (errno.EFAULT, errno.EIO, errno.EPERM, errno.ENOMEM):
                raise
        # Unreadable to the process itself (e.g. PROT_NONE, or execute-only): force.
        if address + size > _SIGNED_OFFSET_END:
            raise MemoryAccessError(f"cannot read {size} bytes at {address:#x} in process "
                                    f"{self.pid}: not readable (kernel half of the address space)")
        try:
            data = os.pread(self._mem_fd(), size, address)
        except OSError as e:
            raise MemoryAccessError(
                f"cannot read {size} bytes at {address:#x} in process {self.pid}: not mapped") from e
        if len(data) != size:
            raise MemoryAccessError(
                f"cannot read {size} bytes at {address:#x} in process {self.pid}: "
                f"only {len(data)} bytes are mapped")
        return data

    def _check_mapped(self, address: int, size: int) -> None:
        """MemoryAccessError unless [address, address+size) is all mapped."""
        end = address + size
        at = address
        try:
            with open(f"/proc/{self.pid}/maps", "rb") as f:
                for line in f:
                    lo_text, _, hi_text = line.split(b" ", 1)[0].partition(b"-")
                    lo, hi = int(lo_text, 16), int(hi_text, 16)
                    if lo > at:
                        break
                    if hi > at:
                        at = hi
                    if at >= end:
                        return
        except OSError:
            return  # (gone: the read itself says so)
        raise MemoryAccessError(f"cannot read {size} bytes at {address:#x} in process {self.pid}: "
                                f"{at:#x} is not mapped")

    def write(self, address: int, data: bytes) -> None:
        if not data:
            return
        if address < 0 or address + len(data) > 1 << 64:
            raise MemoryAccessError(f"cannot write {len(data)} bytes at {address:#x} in process "
                                    f"{self.pid}: outside the address space")
        if address + len(data) > _SIGNED_OFFSET_END:
            raise MemoryAccessError(f"cannot write {len(data)} bytes at {address:#x} in process "
                                    f"{self.pid}: not writable (kernel half of the address space)")
        try:
            written = native.write_mem_file(self._mem_fd(), bytes(data), address)
        except OSError as e:
            if e.errno == errno.ESRCH:
                raise
            raise MemoryAccessError(
                f"cannot write {len(data)} bytes at {address:#x} in process {self.pid}: not mapped") from e
        if written != len(data):
            raise MemoryAccessError(
                f"cannot write {len(data)} bytes at {address:#x} in process {self.pid}: "
                f"only {written} bytes are mapped")
