"""The snapshot types: ThreadSnapshot, ProcessSnapshot, TreeSnapshot, and the
ProcessImage that the thread snapshots of one process share. What they hold
and what they offer is described in snapshot.py, which takes them from live
processes; file_writer.py writes them and serialize.py reads them back."""
from __future__ import annotations

import os
TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)

from ..arch import arch_named
from ..arch.amd64.registers import format_registers, frozen_registers
from ..memory.hexdump import check_word_size, dump_lines
from ..memory.maps import MemoryMapList, format_maps
from ..symbols.position import resolve_position, resolve_symbol
from ..symbols.cfi import Unwinder, modules_of
from ..symbols.symbol_list import SymbolList, build_symbols, symbol_at
from .memory import MemoryMapSnapshotList, SnapshotMemory, SnapshotMemoryView

if TYPE_CHECKING:
    from ..arch.amd64.registers import X86Registers
    from .diff import Diff, TreeDiff

__all__ = ["ProcessImage", "ProcessSnapshot", "ThreadSnapshot", "TreeSnapshot"]


class ProcessImage:
    """What the threads of one process share in a snapshot: pid, level,
    maps (with captured contents) and the maps the level could not read.

    reads_files: whether the files its maps name may be opened for symbols
    and unwind tables. True for a snapshot of a live process (the kernel
    named them); a loaded snapshot names whatever its file says, so it
    reads them only when load_snapshot(read_mapped_files=True) asked."""

    def __init__(self, pid: int, level: str, maps, skipped: dict, binary_path: str | None,
                 arch: str = "amd64", reads_files: bool = True):
        self.pid = pid
        self.reads_files = reads_files
        self.level = level
        self.binary_path = binary_path
        self.arch = arch
        self.maps = MemoryMapSnapshotList(sorted(maps, key=lambda m: m.start), binary_path)
        self.skipped = dict(skipped)  # map start -> reason
        self.memory = SnapshotMemory(level, self.maps, self.skipped)
        self._symbols: SymbolList | None = None

    @property
    def symbols(self) -> SymbolList:
        """The symbols of the mapped files, read from the files on disk when
        first needed (a loaded snapshot whose files are gone has fewer; one
        loaded without read_mapped_files=True has none)."""
        if self._symbols is None:
            self._symbols = build_symbols(self.maps) if self.reads_files else SymbolList()
        return self._symbols

    def unwind_modules(self) -> list:
        """(load base, ElfFile) of the mapped files, for the unwinder ([] when
        the files may not be read)."""
        return modules_of(self.maps) if self.reads_files else []

    def resolve_position(self, position, file: str = "hybrid") -> int:
        """The address a position names in these maps: the live Debugger's
        rules (an int per the addressing mode `file`, or a symbol expression)."""
        return self._explained(resolve_position, position, file, lambda: self.maps,
                               lambda: self.symbols, lambda: self.binary_path)

    def resolve_symbol(self, symbol, file: str = "hybrid") -> int:
        """The address of a symbol expression in these maps."""
        return self._explained(resolve_symbol, symbol, self.symbols, self.maps, file)

    def _explained(self, resolve, *args):
        try:
            return resolve(*args)
        except ValueError as e:
            if self.reads_files or "not found" not in str(e):
                raise
            raise ValueError(f"{e} (this snapshot was loaded without reading the files its maps "
                             f"name, so it has no symbols: load it with read_mapped_files=True "
                             f"to read them)") from None


class _Snapshot:
    """What thread and process snapshots have in common."""

    _file_kind: str | None = None  # the "kind" of its file (see serialize.py); set by each subclass

    def __init__(self, image: ProcessImage, snapshot_id: int, name):
        self._image = image
        self.snapshot_id = snapshot_id
        self.name = name
        self._memory_view = SnapshotMemoryView(image, image.memory)

    # --- identity ---
    @property
    def image(self) -> ProcessImage:
        """What this snapshot shares with the other threads of its process:
        pid, level, arch, binary path, the maps with their captured contents
        and the maps the level could not read (`skipped`, map start -> reason)."""
        return self._image

    @property
    def level(self) -> str:
        """The snapshot's level: "base", "writable" or "full"."""
        return self._image.level

    @property
    def pid(self) -> int:
        """The id of the process snapshotted."""
        return self._image.pid

    process_id = pid

    @property
    def arch(self) -> str:
        """The architecture of the process, by libdebug's names: "amd64" or "i386"."""
        return self._image.arch

    # --- maps, memory, symbols ---
    @property
    def maps(self) -> MemoryMapList:
        """The memory maps at the time of the snapshot."""
        return self._image.maps

    @property
    def memory(self) -> SnapshotMemoryView:
        """The saved memory, indexed like the live one (read-only; per level)."""
        return self._memory_view

    mem = memory

    @property
    def skipped_maps(self) -> list:
        """[(map, reason)] of the maps the level covers but that were not read."""
        return [(m, self._image.skipped[m.start]) for m in self.maps if m.start in self._image.skipped]

    @property
    def symbols(self) -> SymbolList:
        """The symbols of the mapped files, placed at the saved maps' addresses."""
        return self._image.symbols

    def resolve_symbol(self, symbol: str, file: str = "hybrid") -> int:
        """The address of a symbol expression in the saved maps."""
        return self._image.resolve_symbol(symbol, file)

    def _resolve_position(self, position, file: str = "hybrid") -> int:
        # The same rules as the live Debugger, on the saved maps.
        return self._image.resolve_position(position, file)

    # --- backtrace of one thread's registers over the saved memory ---
    def _backtrace_of(self, regs, as_symbols: bool):
        if self.level == "base":
            raise ValueError("a 'base' snapshot holds no stack contents: take it with "
                             "level='writable' or 'full' to get a backtrace")
        arch = arch_named(self._image.arch)
        memory, word = self._image.memory, arch.word
        frames = Unwinder(self._image.unwind_modules(), arch).unwind(
            getattr(regs, arch.ip), getattr(regs, arch.sp), getattr(regs, arch.fp),
            lambda address: memory.try_read_u64(address, word))
        if as_symbols:
            return [symbol_at(a, self.symbols) or hex(a) for a in frames]
        return frames

    def _format_backtrace(self, regs) -> str:
        frames = self._backtrace_of(regs, False)
        return "\n".join(f"#{i:<2} {a:#018x} {symbol_at(a, self.symbols) or '??'}"
                         for i, a in enumerate(frames))

    # --- pretty printing ---
    def pprint_maps(self) -> None:
        """Print the saved maps."""
        print(format_maps(self.maps))

    def pprint_memory(self, start: int | str, end: int | str, file: str = "hybrid",
                      override_word_size: int | None = None, integer_mode: bool = False) -> None:
        """Print the saved memory from `start` to `end` as a hex dump (the
        Debugger's pprint_memory layout and options)."""
        word_size = check_word_size(override_word_size)
        start = self._resolve_position(start, file)
        end = self._resolve_position(end, file)
        if end < start:
            raise ValueError("pprint_memory: end is before start")
        data = self._image.memory.read(start, end - start)
        print("\n".join(dump_lines(start, data, word_size, bool(integer_mode))))

    # --- diff and save ---
    def diff(self, other: _Snapshot) -> Diff:
        """What changed between this snapshot and `other`, of the same kind:
        a Diff from the older to the newer, whichever is given first (as in
        libdebug: the one with the smaller snapshot_id is the older; with
        equal ids, as of two Debuggers, this one)."""
        from .diff import Diff
        if type(other) is not type(self):
            raise TypeError(f"a {type(self).__name__} can only be diffed with another "
                            f"{type(self).__name__}, not {type(other).__name__}")
        if other.snapshot_id < self.snapshot_id:
            return Diff(other, self)
        return Diff(self, other)

    def save(self, path: str | os.PathLike[str], compress: bool | None = None) -> None:
        """Write the snapshot as JSON; gzip-compressed when `compress` is True
        or (by default) when the path ends with ".gz". The file (mode 0600)
        replaces `path` whole, and is never written through a symlink."""
        from .file_writer import write_snapshot
        write_snapshot(self, self._file_kind, path, compress)


class ThreadSnapshot(_Snapshot):
    """The saved state of one thread (and, per level, of its process's memory)."""

    def __init__(self, image: ProcessImage, tid: int, gpr: bytes, xstate: bytes,
                 snapshot_id: int, name=None):
        super().__init__(image, snapshot_id, name)
        self.tid = self.thread_id = tid
        self._gpr = bytes(gpr)
        self._xstate = bytes(xstate)
        # Named as the process's architecture names them (eax... in a 32-bit one).
        self.regs = frozen_registers(self._gpr, self._xstate or None, arch_named(image.arch).registers)

    _file_kind = "thread"

    @property
    def registers(self) -> X86Registers:
        """The saved registers (the same as `regs`)."""
        return self.regs

    @property
    def gpr_bytes(self) -> bytes:
        """The saved general-purpose registers as the kernel lays them out
        (struct user_regs_struct, 216 bytes); `regs` reads them."""
        return self._gpr

    @property
    def xstate_bytes(self) -> bytes:
        """The saved XSAVE area (FP/vector registers), b"" when the thread
        had none to save."""
        return self._xstate

    @property
    def instruction_pointer(self) -> int:
        """The saved rip (eip of a 32-bit process)."""
        return getattr(self.regs, arch_named(self.arch).ip)

    @property
    def syscall_number(self) -> int:
        """The saved orig_rax (orig_eax of a 32-bit process: the syscall
        number at a syscall stop)."""
        return getattr(self.regs, arch_named(self.arch).syscall_number_reg)

    @property
    def syscall_return(self) -> int:
        """The saved rax (eax of a 32-bit process: a syscall's return value at its exit)."""
        return getattr(self.regs, arch_named(self.arch).syscall_return_reg)

    def __getattr__(self, name):
        if name.startswith("syscall_arg") and name[11:].isdigit() and int(name[11:]) < 6:
            return getattr(self.regs, arch_named(self.arch).syscall_arg_regs[int(name[11:])])
        raise AttributeError(f"ThreadSnapshot has no attribute {name!r}")

    def backtrace(self, as_symbols: bool = False) -> list[int] | list[str]:
        """The thread's return addresses over the saved stack (level 'writable' or 'full')."""
        return self._backtrace_of(self.regs, as_symbols)

    def pprint_backtrace(self) -> None:
        """Print backtrace(), one frame a line."""
        print(self._format_backtrace(self.regs))

    def pprint_registers(self) -> None:
        """Print the saved general-purpose registers."""
        print(format_registers(self.regs, include_fp=False))

    def pprint_registers_all(self) -> None:
        """Print every saved register, the FP/vector ones included."""
        print(format_registers(self.regs, include_fp=True))

    def __repr__(self):
        return (f"<ThreadSnapshot id={self.snapshot_id} tid={self.tid} pid={self.pid} "
                f"level={self.level!r} name={self.name!r}>")


class ProcessSnapshot(_Snapshot):
    """The saved state of one process: all its threads, never its children.

    `regs`, `backtrace()` and the register printers are the main thread's
    (the one whose tid is the pid, else the first one), as in libdebug."""

    _file_kind = "process"

    def __init__(self, image: ProcessImage, threads, snapshot_id: int, name=None,
                 skipped_threads: dict | None = None):
        """threads: [(tid, gpr bytes, xstate bytes)]."""
        super().__init__(image, snapshot_id, name)
        self.threads = [ThreadSnapshot(image, tid, gpr, xstate, snapshot_id, name)
                        for tid, gpr, xstate in sorted(threads, key=lambda t: (t[0] != image.pid, t[0]))]
        if not self.threads:
            raise ValueError(f"a process snapshot needs at least one thread (process {image.pid})")
        # tid -> why its registers could not be read (running, in vfork...)
        self.skipped_threads = dict(skipped_threads or {})

    @property
    def main_thread(self) -> ThreadSnapshot:
        """The main thread's snapshot (the thread whose tid is the pid, else the first)."""
        return self.threads[0]

    @property
    def regs(self) -> X86Registers:
        """The main thread's saved registers."""
        return self.main_thread.regs

    registers = regs

    @property
    def instruction_pointer(self) -> int:
        """The main thread's saved rip (eip of a 32-bit process)."""
        return getattr(self.regs, arch_named(self.arch).ip)

    def backtrace(self, as_symbols: bool = False) -> list[int] | list[str]:
        """The main thread's backtrace over the saved stack."""
        return self.main_thread.backtrace(as_symbols)

    def pprint_backtrace(self) -> None:
        """Print the main thread's backtrace."""
        self.main_thread.pprint_backtrace()

    def pprint_registers(self) -> None:
        """Print the main thread's saved general-purpose registers."""
        self.main_thread.pprint_registers()

    def pprint_registers_all(self) -> None:
        """Print every saved register of the main thread."""
        self.main_thread.pprint_registers_all()

    def __repr__(self):
        return (f"<ProcessSnapshot id={self.snapshot_id} pid={self.pid} threads={len(self.threads)} "
                f"level={self.level!r} name={self.name!r}>")


class TreeSnapshot:
    """One ProcessSnapshot per live process of a traced tree, taken while the
    whole tree was stopped. `parent_of(pid)`, `path_of(pid)` (creation-order
    indices from the root: root = (), its 2nd child = (1,)) and `children_of(pid)`
    describe the tree."""

    def __init__(self, processes, paths: dict, level: str, snapshot_id: int, name=None):
        self.processes = sorted(processes, key=lambda p: paths[p.pid])
        self._paths = dict(paths)
        self.level = level
        self.snapshot_id = snapshot_id
        self.name = name
        by_path = {path: pid for pid, path in self._paths.items()}
        if () not in by_path:
            raise ValueError("a tree snapshot needs its root process (path ())")
        self.root_pid = by_path[()]
        self._by_path = by_path

    def process(self, pid: int) -> ProcessSnapshot:
        """The ProcessSnapshot of process `pid` (ValueError if not in the tree)."""
        for p in self.processes:
            if p.pid == pid:
                return p
        raise ValueError(f"process {pid} is not in this tree snapshot")

    def path_of(self, pid: int) -> tuple:
        """The creation-order indices leading from the root to process `pid` (root: ())."""
        if pid not in self._paths:
            raise ValueError(f"process {pid} is not in this tree snapshot")
        return self._paths[pid]

    def parent_of(self, pid: int) -> int | None:
        """The pid of process `pid`'s parent in the tree (None for the root)."""
        path = self.path_of(pid)
        return self._by_path.get(path[:-1]) if path else None

    def children_of(self, pid: int) -> list[int]:
        """The pids of process `pid`'s children in the tree, in creation order."""
        path = self.path_of(pid)
        return [self._by_path[p] for p in sorted(self._by_path)
                if len(p) == len(path) + 1 and p[:-1] == path]

    @property
    def pids(self) -> list[int]:
        """The pids of the tree's processes, root first (in tree order)."""
        return [p.pid for p in self.processes]

    def diff(self, other: TreeSnapshot) -> TreeDiff:
        """What changed, process by process, from this tree snapshot to `other`: a TreeDiff."""
        from .diff import TreeDiff
        if not isinstance(other, TreeSnapshot):
            raise TypeError(f"a TreeSnapshot can only be diffed with another TreeSnapshot, "
                            f"not {type(other).__name__}")
        return TreeDiff(self, other)

    def save(self, path: str | os.PathLike[str], compress: bool | None = None) -> None:
        """Write the tree snapshot as JSON (gzip-compressed as for the other snapshots)."""
        from .file_writer import write_snapshot
        write_snapshot(self, "tree", path, compress)

    def pprint(self) -> None:
        """Print the tree: one line per process, indented by depth."""
        for p in self.processes:
            depth = len(self._paths[p.pid])
            print(f"{'  ' * depth}{p.pid}: {len(p.threads)} thread(s), {len(p.maps)} map(s)")

    def __repr__(self):
        return (f"<TreeSnapshot id={self.snapshot_id} root={self.root_pid} "
                f"processes={len(self.processes)} level={self.level!r} name={self.name!r}>")
