"""A small reader for ELF64 little-endian (x86-64) files.

It reads only what a debugger needs, with bounded reads (pread, not mmap: a
file truncated on disk while mapped would kill the debugger with SIGBUS):
the header, program headers, section headers, the symbol tables, the unwind
tables (.eh_frame / .eh_frame_hdr) and the build id. A file that is not ELF
costs one 64-byte read; no file costs more than MAX_READ bytes, and a
corrupt or hostile file raises ElfError (a ValueError) or yields fewer
symbols, never another exception, a hang or an unbounded allocation.
Layouts follow the System V gABI ("ELF-64 Object File Format") and the
x86-64 psABI.

`ElfFile(path)` is cached: opening the same unchanged file again returns the
same object, because a debugger opens libc for every process it follows.
"""
from __future__ import annotations

import os
import stat
import struct
import threading
from collections import OrderedDict, namedtuple

from ..safe_files import open_regular, read_at

__all__ = [
    "ElfError",
    "ElfFile",
    "ElfSymbol",
    "Section",
    "Segment",
    "clear_cache",
    "describe_non_elf",
]

# --- constants from the gABI -------------------------------------------------

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
EM_386, EM_X86_64 = 3, 62

ET_NAMES = {0: "NONE", 1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE"}
ET_EXEC, ET_DYN = 2, 3

PT_LOAD, PT_INTERP, PT_NOTE = 1, 3, 4
PT_GNU_EH_FRAME = 0x6474E550
PF_X, PF_W, PF_R = 1, 2, 4

SHT_NOBITS = 8
SHT_SYMTAB, SHT_DYNSYM = 2, 11
SHT_GNU_VERDEF, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFF
SHN_UNDEF, SHN_ABS, SHN_XINDEX = 0, 0xFFF1, 0xFFFF

STT_NAMES = {0: "notype", 1: "object", 2: "func", 3: "section", 4: "file",
             5: "common", 6: "tls", 10: "ifunc"}
# Section and file symbols name no code or data; TLS symbol values are offsets
# into the thread's TLS block, not addresses (gABI "Symbol Values").
_SKIPPED_KINDS = {"section", "file", "tls"}

_BINDINGS = {0: "local", 1: "global", 2: "weak"}  # STB_*; others (GNU unique) act as global

NT_GNU_BUILD_ID = 3
VERSYM_HIDDEN = 0x8000  # GNU symbol versioning: a non-default version

MACHINE_NAMES = {3: "i386", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64",
                  22: "s390", 40: "ARM", 62: "x86-64", 183: "AArch64",
                  243: "RISC-V", 258: "LoongArch"}

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
# ELF32 (i386 programs): the same fields, 4-byte addresses; the program
# header and the symbol put theirs in another order (gABI, "ELF-32").
EHDR32 = struct.Struct("<16sHHIIIIIHHHHHH")
PHDR32 = struct.Struct("<IIIIIIII")
_SHDR32 = struct.Struct("<IIIIIIIIII")
_SYM32 = struct.Struct("<IIIBBH")

Section = namedtuple("Section", "name addr offset size type")
Segment = namedtuple("Segment", "type vaddr memsz offset filesz flags")
# binding: "local" (a static name, private to its file), "global" or "weak".
ElfSymbol = namedtuple("ElfSymbol", "name value size kind binding", defaults=("global",))


def describe_non_elf(head: bytes) -> str:
    """Say what a file that is not an x86-64 ELF64 or i386 ELF32 executable
    is ("" if it is one).

    The kernel decides as fs/binfmt_elf.c does: the magic, the machine and
    the program header entry size, never the class, byte-order or version
    bytes of e_ident (a file with those corrupted still runs, so it must
    still be debuggable)."""
    if not head:
        return "an empty file"
    if not head.startswith(ELF_MAGIC):
        return "not an ELF file"
    if len(head) < 20:
        return "a truncated ELF file"
    machine = struct.unpack_from("<H", head, 18)[0]
    cls, data = head[4], head[5]
    phentsize = struct.unpack_from("<H", head, 54)[0] if len(head) >= EHDR.size else 0
    if machine == EM_386 and len(head) >= EHDR32.size:
        # An i386 program (run in 32-bit mode by an x86-64 kernel).
        phentsize = struct.unpack_from("<H", head, 42)[0]
        if (cls, data) == (ELFCLASS32, ELFDATA2LSB) or phentsize == PHDR32.size:
            e_type = struct.unpack_from("<H", head, 16)[0]
            if e_type in (1, 4):
                return "a relocatable object file (.o), not an executable" if e_type == 1 \
                    else "a core dump, not an executable"
            if phentsize != PHDR32.size:
                return "a truncated or corrupt ELF file (its program header size is not 32)"
            return ""
    if machine == EM_X86_64 and (phentsize == PHDR.size or (cls, data) == (ELFCLASS64, ELFDATA2LSB)):
        e_type = struct.unpack_from("<H", head, 16)[0]
        if e_type == 1:
            return "a relocatable object file (.o), not an executable"
        if e_type == 4:
            return "a core dump, not an executable"
        if phentsize != PHDR.size:
            return "a truncated or corrupt ELF file (its program header size is not 56)"
        return ""
    bits = {ELFCLASS32: "32-bit", ELFCLASS64: "64-bit"}.get(cls, "unknown-class")
    if data == ELFDATA2MSB:
        return f"a big-endian {bits} ELF file; only x86-64 and i386 are supported"
    name = MACHINE_NAMES.get(machine, f"machine {machine}")
    return f"a {bits} {name} ELF file; only x86-64 ELF64 and i386 ELF32 are supported"


# --- the reader ----------------------------------------------------------------

_cache: "OrderedDict[tuple, ElfFile]" = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 64

# Bounds on what one file may cost, whatever its headers claim (a corrupt or
# hostile file may name sections of any size and count).
MAX_READ = 256 << 20        # bytes read from one file, all reads together
_MAX_PHDRS_SIZE = 65536     # the kernel refuses larger program header tables (fs/binfmt_elf.c)
_MAX_SECTIONS = 1 << 16
_MAX_SYMBOLS = 1 << 21      # per symbol table
_MAX_NAME = 4096            # longer names are cut
_MAX_INTERP = 4096          # PATH_MAX
_MAX_NOTES = 1 << 20
_MAX_VERDEFS = 1 << 12


class ElfError(ValueError):
    """A file that is not an ELF file tether can read, or whose contents
    are corrupt where it matters; the message names the file and the fault."""


def clear_cache() -> None:
    """Forget every cached ElfFile (tests use it)."""
    with _cache_lock:
        _cache.clear()


def _cstr(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset, offset + _MAX_NAME)
    if end < 0:
        end = min(len(data), offset + _MAX_NAME)
    return data[offset:end].decode("utf-8", "replace")


class _FileBytes:
    """Bounded random access to one file's bytes: each read is cut to the
    file's size, and all reads together to MAX_READ. For a file on disk each
    read opens it again (regular files only) and checks it is still the
    file first seen (device, inode, size, mtime): no descriptor stays open
    in the cache, and a file replaced meanwhile is noticed."""

    def __init__(self, path: str, data: bytes | None = None):
        self.path = path
        self.data = data
        self.spent = 0
        if data is None:
            fd, st = open_regular(path, "ELF file")
            os.close(fd)
            self.identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            self.size = st.st_size
        else:
            self.size = len(data)

    def read(self, offset: int, size: int) -> bytes:
        """Up to `size` bytes at `offset` (fewer at the end of the file)."""
        if offset < 0 or size <= 0 or offset >= self.size:
            return b""
        size = min(size, self.size - offset)
        if self.spent + size > MAX_READ:
            raise ElfError(f"'{self.path}': reading it needs more than {MAX_READ} bytes")
        self.spent += size
        if self.data is not None:
            return self.data[offset:offset + size]
        # O_NOFOLLOW: the path was resolved once (ElfFile.__new__); a symlink
        # found there now was put there since.
        fd, st = open_regular(self.path, "ELF file", follow_symlinks=False)
        try:
            if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != self.identity:
                raise ElfError(f"'{self.path}' changed on disk while tether was reading it")
            return read_at(fd, offset, size, self.size)
        finally:
            os.close(fd)


class ElfFile:
    """One parsed little-endian ELF file (executable or shared object):
    x86-64 ELF64, or i386 ELF32 (`word` is 4 then: the bytes of an address).

    Constructing it twice for the same unchanged file (same path, device,
    inode, mtime and size) returns the same cached object. Header, program
    headers and section headers are decoded at once; symbols and unwind data
    on first use. Only those parts of the file are read (a 1 GiB file costs
    what its headers and tables hold), never more than MAX_READ bytes.

    The header is read as the kernel reads it: the file is usable when its
    magic, machine (x86-64) and program header size say so, whatever its
    class, byte-order and version bytes claim; broken section headers leave
    it without sections (and symbols), not unusable. Other faults raise
    ElfError (a ValueError)."""

    def __new__(cls, path):
        path = os.path.realpath(os.fspath(path))
        st = os.stat(path)  # FileNotFoundError / PermissionError as is
        key = (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        with _cache_lock:
            obj = _cache.get(key)
            if obj is not None:
                _cache.move_to_end(key)
                return obj
        obj = super().__new__(cls)
        obj._load(path)
        with _cache_lock:
            _cache[key] = obj
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        return obj

    def __init__(self, path):
        pass  # all work happens once, in __new__/_load

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<memory>") -> "ElfFile":
        """Parse an ELF image held in memory (e.g. the [vdso] read from a
        process). Not cached."""
        obj = super().__new__(cls)
        obj._load(name, bytes(data))
        return obj

    def __repr__(self):
        return f"ElfFile({self.path!r}, type={self.elf_type})"

    # -- decoding --------------------------------------------------------------

    def _load(self, path: str, data: bytes | None = None) -> None:
        self.path = path
        if data is None and stat.S_ISDIR(os.stat(path).st_mode):
            raise ElfError(f"'{path}' is a directory, not an ELF file")
        self._file = file = _FileBytes(path, data)
        head = file.read(0, EHDR.size)
        problem = describe_non_elf(head)
        if problem:
            raise ElfError(f"'{path}' is {problem}")
        is32 = struct.unpack_from("<H", head, 18)[0] == EM_386
        self.word = 4 if is32 else 8
        ehdr, phdr = (EHDR32, PHDR32) if is32 else (EHDR, PHDR)
        self._shdr, self._sym = (_SHDR32, _SYM32) if is32 else (_SHDR, _SYM)
        (_, e_type, _, _, self.entry_point, phoff, shoff, _, _, phentsize,
         phnum, shentsize, shnum, shstrndx) = ehdr.unpack_from(head, 0)
        self.elf_type = ET_NAMES.get(e_type, str(e_type))
        self.is_pie = e_type == ET_DYN
        self._symbols = None
        self._cached_bytes: dict = {}

        if phnum * phdr.size > _MAX_PHDRS_SIZE:
            raise ElfError(f"'{path}': {phnum} program headers, more than the kernel accepts")
        table = file.read(phoff, phnum * phdr.size)
        if len(table) < phnum * phdr.size:
            raise ElfError(f"'{path}': the program headers lie past the end of the file")
        self.segments = []
        if is32:
            for p_type, p_off, vaddr, _, filesz, memsz, flags, _ in phdr.iter_unpack(table):
                self.segments.append(Segment(p_type, vaddr, memsz, p_off, filesz, flags))
        else:
            for p_type, flags, p_off, vaddr, _, filesz, memsz, _ in phdr.iter_unpack(table):
                self.segments.append(Segment(p_type, vaddr, memsz, p_off, filesz, flags))
        self.load_segments = [s for s in self.segments if s.type == PT_LOAD]

        self.interpreter = None
        for seg in self.segments:
            if seg.type == PT_INTERP:
                self.interpreter = _cstr(file.read(seg.offset, min(seg.filesz, _MAX_INTERP)), 0)

        self.sections = self._read_sections(shoff, shnum, shentsize, shstrndx)
        self._by_name: dict = {}
        for sec in self.sections:
            self._by_name.setdefault(sec.name, sec)

    def _read_sections(self, shoff, shnum, shentsize, shstrndx):
        """The section table; [] when it is absent or broken (the kernel
        never reads it: a program runs without one, e.g. after sstrip)."""
        self._raw_sections = []
        file = self._file
        shdr = self._shdr
        if shoff == 0 or shentsize != shdr.size:
            return []
        first = file.read(shoff, shdr.size)
        if len(first) < shdr.size:
            return []
        # Extended numbering (gABI): a count or string-table index too large
        # for the header lives in section 0's sh_size / sh_link.
        first = shdr.unpack_from(first, 0)
        if shnum == 0:
            shnum = first[5]
        if shstrndx == SHN_XINDEX:
            shstrndx = first[6]
        shnum = min(shnum, _MAX_SECTIONS, (file.size - shoff) // shdr.size)
        raw = list(shdr.iter_unpack(file.read(shoff, shnum * shdr.size)))
        names = b""
        if shstrndx < len(raw):
            names = self._section_bytes(raw[shstrndx])
        self._raw_sections = raw
        return [Section(_cstr(names, r[0]), r[3], r[4], r[5], r[1]) for r in raw]

    def _section_bytes(self, raw, limit: int | None = None) -> bytes:
        """The file bytes of a raw section header (b"" for NOBITS), at most `limit`."""
        if raw[1] == SHT_NOBITS:
            return b""
        return self._file.read(raw[4], raw[5] if limit is None else min(raw[5], limit))

    def _kept(self, key, read):
        """read() once; its bytes are kept (unwind tables are read again and again)."""
        if key not in self._cached_bytes:
            try:
                self._cached_bytes[key] = read()
            except (OSError, ElfError):
                self._cached_bytes[key] = None
        return self._cached_bytes[key]

    # -- simple accessors ---------------------------------------------------------

    def section(self, name: str):
        """The first section called `name`, or None."""
        return self._by_name.get(name)

    def section_data(self, name: str):
        """The file bytes of section `name` (None if absent or NOBITS)."""
        sec = self._by_name.get(name)
        if sec is None or sec.type == SHT_NOBITS:
            return None
        return self._file.read(sec.offset, sec.size)

    def bytes_at(self, vaddr: int, size: int | None = None):
        """File bytes backing virtual address `vaddr` (up to `size`, or to the
        end of the segment's file image); None if no segment holds it."""
        for seg in self.load_segments:
            if seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                start = seg.offset + vaddr - seg.vaddr
                end = seg.offset + seg.filesz
                if size is not None:
                    end = min(end, start + size)
                return self._file.read(start, end - start)
        return None

    @property
    def executable_ranges(self):
        """(start, end) file virtual-address ranges of executable segments."""
        return [(s.vaddr, s.vaddr + s.memsz) for s in self.load_segments if s.flags & PF_X]

    @property
    def build_id(self):
        """The GNU build id as a hex string, or None."""
        if not hasattr(self, "_build_id"):
            try:
                self._build_id = self._find_build_id()
            except (OSError, ElfError):
                self._build_id = None
        return self._build_id

    def _find_build_id(self):
        notes = [(s.offset, s.filesz) for s in self.segments if s.type == PT_NOTE]
        sec = self._by_name.get(".note.gnu.build-id")
        if sec is not None:
            notes.insert(0, (sec.offset, sec.size))
        for start, size in notes:
            data = self._file.read(start, min(size, _MAX_NOTES))
            pos = 0
            # Note entries: namesz, descsz, type, name, desc; each padded to 4.
            while pos + 12 <= len(data):
                namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                name_off = pos + 12
                desc_off = name_off + ((namesz + 3) & ~3)
                if ntype == NT_GNU_BUILD_ID and data[name_off:name_off + namesz] == b"GNU\0":
                    return data[desc_off:desc_off + descsz].hex() or None
                pos = desc_off + ((descsz + 3) & ~3)
        return None

    # -- unwind tables -------------------------------------------------------------

    def _eh_frame_hdr_location(self):
        sec = self._by_name.get(".eh_frame_hdr")
        if sec is not None:
            return sec.addr
        for seg in self.segments:
            if seg.type == PT_GNU_EH_FRAME:
                return seg.vaddr
        return None

    @property
    def eh_frame_hdr_addr(self):
        return self._eh_frame_hdr_location()

    @property
    def eh_frame_hdr(self):
        """Raw bytes of .eh_frame_hdr (found by section or PT_GNU_EH_FRAME)."""
        return self._kept("eh_frame_hdr", self._read_eh_frame_hdr)

    def _read_eh_frame_hdr(self):
        sec = self._by_name.get(".eh_frame_hdr")
        if sec is not None:
            return self._file.read(sec.offset, sec.size)
        for seg in self.segments:
            if seg.type == PT_GNU_EH_FRAME:
                return self._file.read(seg.offset, seg.filesz)
        return None

    @property
    def eh_frame_addr(self):
        sec = self._by_name.get(".eh_frame")
        if sec is not None:
            return sec.addr
        return self._eh_frame_from_hdr()

    @property
    def eh_frame(self):
        """Raw bytes of .eh_frame, or None.

        Without section headers it is found through .eh_frame_hdr's
        eh_frame_ptr and runs to the end of its segment (the list ends with a
        zero-length terminator, so extra bytes are harmless)."""
        return self._kept("eh_frame", self._read_eh_frame)

    def _read_eh_frame(self):
        sec = self._by_name.get(".eh_frame")
        if sec is not None:
            return self._file.read(sec.offset, sec.size)
        addr = self._eh_frame_from_hdr()
        return None if addr is None else self.bytes_at(addr)

    def _eh_frame_from_hdr(self):
        hdr, hdr_addr = self.eh_frame_hdr, self._eh_frame_hdr_location()
        if not hdr or len(hdr) < 8 or hdr[0] != 1:
            return None
        # eh_frame_ptr encoding is nearly always pcrel|sdata4 (0x1b).
        if hdr[1] == 0x1B:
            return hdr_addr + 4 + struct.unpack_from("<i", hdr, 4)[0]
        if hdr[1] == 0x03:
            return struct.unpack_from("<I", hdr, 4)[0]
        return None

    # -- symbols ---------------------------------------------------------------------

    def symbols(self):
        """Defined symbols of .symtab and .dynsym as ElfSymbol(name, value,
        size, kind), sorted by value, without duplicates. Undefined, zero-value,
        section/file and TLS symbols are left out. A .dynsym symbol of a
        non-default version is named "name@VERSION" (as readelf shows it).
        A table that cannot be read (corrupt, or past the read bounds) adds
        nothing, or what was read of it."""
        if self._symbols is None:
            kept: dict = {}   # (name, value) -> ElfSymbol
            for idx, sec in enumerate(self.sections):
                if sec.type in (SHT_SYMTAB, SHT_DYNSYM):
                    try:
                        for sym in self._read_symtab(idx):
                            key = (sym.name, sym.value)
                            # A name both local and global at one address
                            # (glibc's memcpy) is the global one.
                            old = kept.get(key)
                            if old is None or (old.binding == "local" and sym.binding != "local"):
                                kept[key] = sym
                    except (OSError, ElfError):
                        continue
            self._symbols = sorted(kept.values(), key=lambda s: (s.value, s.name))
        return self._symbols

    def _read_symtab(self, index: int):
        raw = self._raw_sections[index]
        sh_type, link = raw[1], raw[6]
        sym = self._sym
        table = self._section_bytes(raw, _MAX_SYMBOLS * sym.size)
        strtab = b""
        if link < len(self._raw_sections):
            strtab = self._section_bytes(self._raw_sections[link])
        versions = self._version_names(index) if sh_type == SHT_DYNSYM else None
        count = len(table) // sym.size
        # Names may overlap (a hostile table can point every symbol into one
        # long string): the text decoded is bounded, not just each name.
        name_budget = 2 * len(strtab) + (1 << 20)
        entries = sym.iter_unpack(table[:count * sym.size])
        if sym is _SYM32:  # (name, value, size, info, other, shndx): put in ELF64's order
            entries = ((n, i, o, x, v, z) for n, v, z, i, o, x in entries)
        for i, (name_off, info, _, shndx, value, sym_size) in enumerate(entries):
            if shndx in (SHN_UNDEF, SHN_ABS) or value == 0 or name_off == 0:
                continue
            kind = STT_NAMES.get(info & 0xF, "notype")
            if kind in _SKIPPED_KINDS:
                continue
            name = _cstr(strtab, name_off)
            if not name:
                continue
            name_budget -= len(name)
            if name_budget < 0:
                raise ElfError(f"'{self.path}': its symbol names overlap beyond reason")
            # ld writes "name@@VER" into .symtab for a default version: that is
            # the plain name users type.
            if "@@" in name:
                name = name.split("@@", 1)[0]
            if versions is not None and i < len(versions[0]):
                ver = versions[0][i]
                if ver & VERSYM_HIDDEN and "@" not in name:
                    vname = versions[1].get(ver & 0x7FFF)
                    if vname:
                        name = f"{name}@{vname}"
            yield ElfSymbol(name, value, sym_size, kind, _BINDINGS.get(info >> 4, "global"))

    def _version_names(self, dynsym_index: int):
        """(versym array, {version index: name}) for .dynsym, or None."""
        versym = None
        verdef = None
        for raw in self._raw_sections:
            if raw[1] == SHT_GNU_VERSYM and raw[6] == dynsym_index:
                versym = raw
            elif raw[1] == SHT_GNU_VERDEF:
                verdef = raw
        if versym is None:
            return None
        data = self._section_bytes(versym, _MAX_SYMBOLS * 2)
        indices = struct.unpack_from(f"<{len(data) // 2}H", data)
        names = {}
        if verdef is not None and verdef[6] < len(self._raw_sections):
            strtab = self._section_bytes(self._raw_sections[verdef[6]])
            table = self._section_bytes(verdef, _MAX_VERDEFS * 64)
            pos = 0
            # Verdef entries (GNU extension): version, flags, ndx, cnt, hash,
            # aux, next; the first Verdaux names the version.
            for _ in range(min(verdef[7] or _MAX_VERDEFS, _MAX_VERDEFS)):
                if pos + 20 > len(table):
                    break
                _, _, ndx, cnt, _, aux, nxt = struct.unpack_from("<HHHHIII", table, pos)
                if cnt and pos + aux + 4 <= len(table):
                    names[ndx] = _cstr(strtab, struct.unpack_from("<I", table, pos + aux)[0])
                if not nxt:
                    break
                pos += nxt
        return indices, names
