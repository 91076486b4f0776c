"""Symbols kept apart from a program's file, found as gdb finds them.

Distributions strip their binaries and ship the symbol tables separately;
a backtrace through a stripped libc otherwise shows only its exported names
(and "??" in its internal functions). Three places hold the rest:

* a separate debug file named by the file's build id:
  <dir>/.build-id/<first two hex digits>/<the others>.debug, for each debug
  directory (Debian's *-dbg packages, Fedora's debuginfo);
* a separate debug file named by the file's .gnu_debuglink section (a file
  name and the CRC-32 of that file), looked up next to the file, in its
  .debug/ subdirectory, and under each debug directory followed by the
  file's own directory; a file whose CRC differs is another build's and is
  ignored;
* .gnu_debugdata ("MiniDebugInfo", Fedora's): an xz-compressed ELF file
  inside the file itself, holding a .symtab of the functions .dynsym lacks.

The places and their order are gdb's ("Separate Debug Files" in its
manual). A separate debug file keeps the original's virtual addresses
(objcopy --only-keep-debug), so its symbols need no other relocation.

Everything stays bounded and quiet: a debug file costs at most the ELF
reader's MAX_READ, MiniDebugInfo decompresses to at most
MAX_DEBUGDATA bytes, the debuglink name must be a plain file name (no
directory part: it comes from the file, not the user), and any fault
(missing, corrupt, wrong CRC or build id) means "no extra symbols".

How far the search goes is `settings.level` (libdebug's sym_lvl, which
tether.libcontext sets): 0 no symbols, 1 the file's own tables, 2 also
MiniDebugInfo, 3 and more also the separate debug file. (libdebug's levels
2 and 4 parse DWARF and 5 downloads with debuginfod; tether does neither,
so those levels read what the level below reads.)
"""
from __future__ import annotations

import contextlib
import os
import struct
import threading
import weakref
import zlib

from ..safe_files import open_regular, read_at
from .elf import MAX_READ, ElfError, ElfFile

__all__ = ["MAX_DEBUGDATA", "SymbolSettings", "settings", "debuglink", "build_id_candidates",
           "debuglink_candidates", "find_debug_file", "mini_debug_info", "file_symbols"]

MAX_DEBUGDATA = 64 << 20        # bytes MiniDebugInfo may decompress to
_MAX_DEBUGDATA_XZ = 16 << 20    # bytes of compressed MiniDebugInfo read
_MAX_DEBUGLINK = 4096 + 8       # a file name, padding and the CRC
_CRC_CHUNK = 1 << 20

LEVEL_OWN, LEVEL_MINI, LEVEL_SEPARATE = 1, 2, 3


class SymbolSettings:
    """Where tether looks for symbols (process-wide, like gdb's settings).

    level: 0-5, libdebug's sym_lvl (see the module's docstring).
    debug_directories: gdb's debug-file-directory list."""

    def __init__(self, level: int = 5, debug_directories: list | None = None):
        self.level = level
        self.debug_directories = ["/usr/lib/debug"] if debug_directories is None \
            else debug_directories

    def __repr__(self) -> str:
        return f"SymbolSettings(level={self.level!r}, debug_directories={self.debug_directories!r})"

    def key(self) -> tuple:
        """What a cache of symbols built under these settings depends on."""
        return (self.level, tuple(self.debug_directories))


settings = SymbolSettings()


def debuglink(elf) -> tuple[str, int] | None:
    """(file name, CRC-32) of `elf`'s .gnu_debuglink, or None when it has
    none or it is malformed. A name with a directory part, or "." / "..",
    is malformed: it would point the search outside the debug directories."""
    try:
        sec = elf.section(".gnu_debuglink")
        if sec is None or sec.size > _MAX_DEBUGLINK:
            return None
        data = elf.section_data(".gnu_debuglink")
    except (OSError, ElfError):
        return None
    if not data:
        return None
    end = data.find(b"\0")
    if end <= 0:
        return None
    # The name, its NUL, padding to a multiple of 4, then the CRC (binutils' layout).
    crc_at = (end + 4) & ~3
    if crc_at + 4 > len(data):
        return None
    try:
        name = data[:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "/" in name or name in (".", ".."):
        return None
    return name, struct.unpack_from("<I", data, crc_at)[0]


def build_id_candidates(build_id: str | None, directories) -> list[str]:
    """The paths a separate debug file named by `build_id` may have."""
    if not build_id or len(build_id) < 4 or not all(c in "0123456789abcdef" for c in build_id):
        return []
    return [os.path.join(d, ".build-id", build_id[:2], build_id[2:] + ".debug") for d in directories]


def debuglink_candidates(file_path: str, name: str, directories) -> list[str]:
    """The paths gdb tries for a .gnu_debuglink `name` of the file at `file_path`."""
    here = os.path.dirname(file_path)
    paths = [os.path.join(here, name), os.path.join(here, ".debug", name)]
    # <debug dir>/<the file's directory>/name: the file's absolute directory
    # is appended, not joined (os.path.join would drop the debug directory).
    paths += [os.path.normpath(d + "/" + here + "/" + name) for d in directories]
    return paths


def _crc32_of(path: str) -> int | None:
    """CRC-32 (the one gdb checks debuglinks with, zlib's) of a regular file
    of at most MAX_READ bytes; None if it can't be read or is larger."""
    try:
        fd, st = open_regular(path, "debug file")
    except (OSError, ValueError):
        return None
    try:
        if st.st_size > MAX_READ:
            return None
        crc, offset = 0, 0
        while offset < st.st_size:
            chunk = read_at(fd, offset, _CRC_CHUNK, st.st_size)
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            offset += len(chunk)
        return crc
    except OSError:
        return None
    finally:
        os.close(fd)


def _open_elf(path: str):
    try:
        return ElfFile(path)
    except (OSError, ValueError):
        return None


def find_debug_file(elf, directories=None):
    """The separate debug file of `elf` (an ElfFile), or None.

    By build id first (the debug file must carry the same build id), then by
    .gnu_debuglink (its CRC must match); never `elf` itself."""
    if directories is None:
        directories = settings.debug_directories
    own = os.path.realpath(elf.path)
    build_id = elf.build_id
    for path in build_id_candidates(build_id, directories):
        debug = _open_elf(path) if os.path.exists(path) else None
        if debug is not None and debug.build_id == build_id and debug.path != own:
            return debug
    link = debuglink(elf)
    if link is None:
        return None
    name, crc = link
    for path in debuglink_candidates(elf.path, name, directories):
        if os.path.realpath(path) == own or not os.path.isfile(path):
            continue
        if _crc32_of(path) == crc:
            debug = _open_elf(path)
            if debug is not None:
                return debug
    return None


def mini_debug_info(elf):
    """The ELF image inside `elf`'s .gnu_debugdata (an ElfFile, not cached),
    or None when there is none or it is corrupt or decompresses to more than
    MAX_DEBUGDATA bytes."""
    sec = elf.section(".gnu_debugdata")
    if sec is None or sec.size > _MAX_DEBUGDATA_XZ:
        return None
    import lzma  # (only for a MiniDebugInfo section: its import costs every start-up ~1 ms)
    try:
        packed = elf.section_data(".gnu_debugdata")
        if not packed:
            return None
        unpacker = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        image = unpacker.decompress(packed, max_length=MAX_DEBUGDATA)
        if not unpacker.eof:  # truncated, or larger than allowed
            return None
        return ElfFile.from_bytes(image, f"{elf.path} (.gnu_debugdata)")
    except (lzma.LZMAError, OSError, ElfError, EOFError):
        return None


# The symbols of one ElfFile under given settings, kept with the ElfFile
# (ElfFile objects are cached per file: libc is searched for once).
_symbols: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_symbols_lock = threading.Lock()


def _extra_tables(elf, level: int) -> list:
    extra = []
    if level >= LEVEL_MINI:
        extra.append(mini_debug_info(elf))
    if level >= LEVEL_SEPARATE:
        extra.append(find_debug_file(elf))
    return [e for e in extra if e is not None]


def file_symbols(elf, level: int | None = None) -> list:
    """The symbols (ElfSymbol, sorted by value) of `elf` and, per `level`
    (default: settings.level), of its MiniDebugInfo and separate debug file,
    without duplicates."""
    if level is None:
        level = settings.level
    if level <= 0:
        return []
    key = (level, tuple(settings.debug_directories))
    with _symbols_lock:
        try:
            kept = _symbols.get(elf)
        except TypeError:  # not weak-referenceable (a test double): not kept
            kept = None
        if kept is not None and kept[0] == key:
            return kept[1]
    found = list(elf.symbols())
    extra = _extra_tables(elf, level)
    if extra:
        seen = {(s.name, s.value) for s in found}
        for table in extra:
            try:
                more = table.symbols()
            except (OSError, ElfError):
                continue
            for sym in more:
                if (sym.name, sym.value) not in seen:
                    seen.add((sym.name, sym.value))
                    found.append(sym)
        found.sort(key=lambda s: (s.value, s.name))
    with _symbols_lock, contextlib.suppress(TypeError):
        _symbols[elf] = (key, found)
    return found
