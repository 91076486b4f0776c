"""A small reader for ELF64 little-endian (x86-64) files.

It reads the whole file once (plain read(), not mmap: a file truncated on disk
while mapped would kill the debugger with SIGBUS) and decodes only what a
debugger needs: the header, program headers, section headers, the symbol
tables, the unwind tables (.eh_frame / .eh_frame_hdr) and the build id.
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

__all__ = [
    "ElfFile",
    "ElfSymbol",
    "Section",
    "Segment",
    "check_program",
    "clear_cache",
    "program_location",
    "shebang",
]

# --- constants from the gABI -------------------------------------------------

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
EM_X86_64 = 62

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

NT_GNU_BUILD_ID = 3
VERSYM_HIDDEN = 0x8000  # GNU symbol versioning: a non-default version

_MACHINE_NAMES = {3: "i386", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64",
                  22: "s390", 40: "ARM", 62: "x86-64", 183: "AArch64",
                  243: "RISC-V", 258: "LoongArch"}

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")

Section = namedtuple("Section", "name addr offset size type")
Segment = namedtuple("Segment", "type vaddr memsz offset filesz flags")
ElfSymbol = namedtuple("ElfSymbol", "name value size kind")


# --- validating a program path -------------------------------------------------

def _describe_non_elf(head: bytes) -> str:
    """Say what a file that is not an x86-64 ELF64 executable is."""
    if not head:
        return "an empty file"
    if not head.startswith(ELF_MAGIC):
        return "not an ELF file"
    if len(head) < 20:
        return "a truncated ELF file"
    cls, data = head[4], head[5]
    bits = {ELFCLASS32: "32-bit", ELFCLASS64: "64-bit"}.get(cls, "unknown-class")
    if data == ELFDATA2MSB:
        return f"a big-endian {bits} ELF file; only x86-64 is supported"
    machine = struct.unpack_from("<H", head, 18)[0]
    name = _MACHINE_NAMES.get(machine, f"machine {machine}")
    if cls != ELFCLASS64 or machine != EM_X86_64:
        return f"a {bits} {name} ELF file; only x86-64 ELF64 is supported"
    e_type = struct.unpack_from("<H", head, 16)[0]
    if e_type == 1:
        return "a relocatable object file (.o), not an executable"
    if e_type == 4:
        return "a core dump, not an executable"
    return ""


def shebang(head: bytes):
    """['interpreter', 'optional-arg'] from a '#!' first line (the first
    bytes of a file), else None. Like the kernel (fs/binfmt_script.c), the
    line ends at 255 bytes and everything after the interpreter name is one
    argument."""
    if not head.startswith(b"#!"):
        return None
    parts = head[2:256].split(b"\n", 1)[0].strip().split(None, 1)
    return [os.fsdecode(p) for p in parts] or None


def _resolve_program(path: str) -> str:
    """Find the file `debugger(argv)` means, as libdebug 0.9 does: "~" is
    expanded, a name with a '/' is used as given, a bare name is looked up in
    PATH (like execvp(3)) and, when PATH has no such program, taken from the
    current directory (libdebug's examples write debugger("test") for a file
    next to the script). Returns an absolute path; FileNotFoundError when a
    bare name is in neither place."""
    path = os.path.expanduser(path)
    if "/" in path:
        return os.path.abspath(path)
    dirs = os.environ.get("PATH", os.defpath).split(os.pathsep) + ["."]
    candidates = [os.path.join(d or ".", path) for d in dirs]
    for cand in candidates:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    # Nothing runnable: report the first existing match (so the error says
    # "not executable" rather than "missing"), or the plain name.
    for cand in candidates:
        if os.path.exists(cand):
            return os.path.abspath(cand)
    raise FileNotFoundError(
        f"program '{path}' not found in PATH or in the current directory")


def program_location(path) -> str:
    """The absolute path run() executes for `path` (see _resolve_program),
    or `path` unchanged when there is no such program (yet)."""
    try:
        return _resolve_program(os.fsdecode(path))
    except (FileNotFoundError, TypeError, ValueError):
        return path


def check_program(path) -> str:
    """Validate the program `debugger(argv)` will run; return its absolute path.

    The program is an ELF executable, or a '#!' script (which the kernel runs
    through its interpreter). Raises FileNotFoundError (missing, or a script
    whose interpreter is), PermissionError (a directory, not executable or
    not readable), ValueError (not an x86-64 ELF64 executable nor a script;
    the message says what the file is), TypeError (not a path)."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"program path must be a str or path, not {type(path).__name__}")
    path = os.fspath(path)
    if not path:
        raise FileNotFoundError("program path is empty")
    found = _resolve_program(path)
    try:
        st = os.stat(found)
    except FileNotFoundError:
        raise FileNotFoundError(f"program '{path}' does not exist") from None
    if stat.S_ISDIR(st.st_mode):
        raise PermissionError(f"program '{path}' is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise PermissionError(f"program '{path}' is not a regular file")
    if not os.access(found, os.X_OK):
        raise PermissionError(f"program '{path}' is not executable")
    try:
        fd = os.open(found, os.O_RDONLY | os.O_CLOEXEC)  # (raw: at every run(), no buffer needed)
    except PermissionError:
        raise PermissionError(f"program '{path}' is not readable") from None
    try:
        head = os.read(fd, 256)
    finally:
        os.close(fd)
    interpreter = shebang(head)
    if interpreter is not None:
        _check_interpreter(path, interpreter[0])
        return found
    problem = _describe_non_elf(head[:64])
    if problem:
        raise ValueError(f"program '{path}' is {problem}")
    return found


def _check_interpreter(path: str, interpreter: str) -> None:
    """The kernel runs a script's interpreter by the path written after '#!'
    (relative to the current directory when not absolute): say so when that
    cannot work, instead of the bare ENOENT/EACCES that execve gives."""
    if not os.path.exists(interpreter):
        raise FileNotFoundError(
            f"program '{path}' is a script whose interpreter '{interpreter}' does not exist")
    if os.path.isdir(interpreter) or not os.access(interpreter, os.X_OK):
        raise PermissionError(
            f"program '{path}' is a script whose interpreter '{interpreter}' is not executable")


# --- the reader ----------------------------------------------------------------

_cache: "OrderedDict[tuple, ElfFile]" = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 64


def clear_cache() -> None:
    """Forget every cached ElfFile (tests use it)."""
    with _cache_lock:
        _cache.clear()


def _cstr(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    if end < 0:
        end = len(data)
    return data[offset:end].decode("utf-8", "replace")


class ElfFile:
    """One parsed ELF64 little-endian x86-64 file (executable or shared object).

    Constructing it twice for the same unchanged file (same path, device,
    inode, mtime and size) returns the same cached object. Header, program
    headers and section headers are decoded at once; symbols and unwind data
    on first use."""

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
        if data is None:
            if stat.S_ISDIR(os.stat(path).st_mode):
                raise ValueError(f"'{path}' is a directory, not an ELF file")
            with open(path, "rb") as f:
                data = f.read()
        self._data = data
        problem = _describe_non_elf(data[:64])
        if problem:
            raise ValueError(f"'{path}' is {problem}")
        if len(data) < _EHDR.size:
            raise ValueError(f"'{path}' is a truncated ELF file")
        (_, e_type, _, _, self.entry_point, phoff, shoff, _, _, phentsize,
         phnum, shentsize, shnum, shstrndx) = _EHDR.unpack_from(data, 0)
        self.elf_type = ET_NAMES.get(e_type, str(e_type))
        self.is_pie = e_type == ET_DYN
        self._symbols = None

        self.segments = []
        for i in range(phnum):
            off = phoff + i * phentsize
            if off + _PHDR.size > len(data):
                raise ValueError(f"'{path}': program header {i} lies past the end of the file")
            p_type, flags, p_off, vaddr, _, filesz, memsz, _ = _PHDR.unpack_from(data, off)
            self.segments.append(Segment(p_type, vaddr, memsz, p_off, filesz, flags))
        self.load_segments = [s for s in self.segments if s.type == PT_LOAD]

        self.interpreter = None
        for seg in self.segments:
            if seg.type == PT_INTERP:
                self.interpreter = _cstr(data[seg.offset:seg.offset + seg.filesz], 0)

        self.sections = self._read_sections(shoff, shnum, shentsize, shstrndx)
        self._by_name = {}
        for sec in self.sections:
            self._by_name.setdefault(sec.name, sec)

    def _read_sections(self, shoff, shnum, shentsize, shstrndx):
        data = self._data
        if shoff == 0 or shoff + _SHDR.size > len(data):
            return []  # stripped of section headers (e.g. sstrip): still usable
        # Extended numbering (gABI): a count or string-table index too large
        # for the header lives in section 0's sh_size / sh_link.
        first = _SHDR.unpack_from(data, shoff)
        if shnum == 0:
            shnum = first[5]
        if shstrndx == SHN_XINDEX:
            shstrndx = first[6]
        raw = []
        for i in range(shnum):
            off = shoff + i * shentsize
            if off + _SHDR.size > len(data):
                break
            raw.append(_SHDR.unpack_from(data, off))
        names = b""
        if shstrndx < len(raw):
            s = raw[shstrndx]
            names = data[s[4]:s[4] + s[5]]
        self._raw_sections = raw
        return [Section(_cstr(names, r[0]), r[3], r[4], r[5], r[1]) for r in raw]

    # -- simple accessors ---------------------------------------------------------

    def section(self, name: str):
        """The first section called `name`, or None."""
        return self._by_name.get(name)

    def section_data(self, name: str):
        """The file bytes of section `name` (None if absent or NOBITS)."""
        sec = self._by_name.get(name)
        if sec is None or sec.type == SHT_NOBITS:
            return None
        return self._data[sec.offset:sec.offset + sec.size]

    def bytes_at(self, vaddr: int, size: int | None = None):
        """File bytes backing virtual address `vaddr` (up to `size`, or to the
        end of the segment's file image); None if no segment holds it."""
        for seg in self.load_segments:
            if seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                start = seg.offset + vaddr - seg.vaddr
                end = seg.offset + seg.filesz
                if size is not None:
                    end = min(end, start + size)
                return self._data[start:end]
        return None

    @property
    def executable_ranges(self):
        """(start, end) file virtual-address ranges of executable segments."""
        return [(s.vaddr, s.vaddr + s.memsz) for s in self.load_segments if s.flags & PF_X]

    @property
    def build_id(self):
        """The GNU build id as a hex string, or None."""
        if not hasattr(self, "_build_id"):
            self._build_id = self._find_build_id()
        return self._build_id

    def _find_build_id(self):
        data = self._data
        notes = [(s.offset, s.filesz) for s in self.segments if s.type == PT_NOTE]
        sec = self._by_name.get(".note.gnu.build-id")
        if sec is not None:
            notes.insert(0, (sec.offset, sec.size))
        for start, size in notes:
            pos, end = start, start + size
            # Note entries: namesz, descsz, type, name, desc; each padded to 4.
            while pos + 12 <= end:
                namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                name_off = pos + 12
                desc_off = name_off + ((namesz + 3) & ~3)
                if ntype == NT_GNU_BUILD_ID and data[name_off:name_off + namesz] == b"GNU\0":
                    return data[desc_off:desc_off + descsz].hex()
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
        sec = self._by_name.get(".eh_frame_hdr")
        if sec is not None:
            return self._data[sec.offset:sec.offset + sec.size]
        for seg in self.segments:
            if seg.type == PT_GNU_EH_FRAME:
                return self._data[seg.offset:seg.offset + seg.filesz]
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
        sec = self._by_name.get(".eh_frame")
        if sec is not None:
            return self._data[sec.offset:sec.offset + sec.size]
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
        non-default version is named "name@VERSION" (as readelf shows it)."""
        if self._symbols is None:
            seen = set()
            out = []
            for idx, sec in enumerate(self.sections):
                if sec.type in (SHT_SYMTAB, SHT_DYNSYM):
                    for sym in self._read_symtab(idx):
                        key = (sym.name, sym.value)
                        if key not in seen:
                            seen.add(key)
                            out.append(sym)
            out.sort(key=lambda s: (s.value, s.name))
            self._symbols = out
        return self._symbols

    def _read_symtab(self, index: int):
        data = self._data
        raw = self._raw_sections[index]
        sh_type, off, size, link = raw[1], raw[4], raw[5], raw[6]
        strtab = b""
        if link < len(self._raw_sections):
            s = self._raw_sections[link]
            strtab = data[s[4]:s[4] + s[5]]
        versions = self._version_names(index) if sh_type == SHT_DYNSYM else None
        count = min(size, len(data) - off) // _SYM.size
        for i, (name_off, info, _, shndx, value, sym_size) in enumerate(
                _SYM.iter_unpack(data[off:off + count * _SYM.size])):
            if shndx in (SHN_UNDEF, SHN_ABS) or value == 0 or name_off == 0:
                continue
            kind = STT_NAMES.get(info & 0xF, "notype")
            if kind in _SKIPPED_KINDS:
                continue
            name = _cstr(strtab, name_off)
            if not name:
                continue
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
            yield ElfSymbol(name, value, sym_size, kind)

    def _version_names(self, dynsym_index: int):
        """(versym array, {version index: name}) for .dynsym, or None."""
        data = self._data
        versym = None
        verdef = None
        for raw in self._raw_sections:
            if raw[1] == SHT_GNU_VERSYM and raw[6] == dynsym_index:
                versym = raw
            elif raw[1] == SHT_GNU_VERDEF:
                verdef = raw
        if versym is None:
            return None
        n = versym[5] // 2
        indices = struct.unpack_from(f"<{n}H", data, versym[4])
        names = {}
        if verdef is not None and verdef[6] < len(self._raw_sections):
            s = self._raw_sections[verdef[6]]
            strtab = data[s[4]:s[4] + s[5]]
            pos = verdef[4]
            # Verdef entries (GNU extension): version, flags, ndx, cnt, hash,
            # aux, next; the first Verdaux names the version.
            for _ in range(verdef[7] or 1000):
                if pos + 20 > len(data):
                    break
                _, _, ndx, cnt, _, aux, nxt = struct.unpack_from("<HHHHIII", data, pos)
                if cnt:
                    names[ndx] = _cstr(strtab, struct.unpack_from("<I", data, pos + aux)[0])
                if not nxt:
                    break
                pos += nxt
        return indices, names
