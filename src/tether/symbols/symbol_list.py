"""Symbols of a running process at their absolute addresses.

`build_symbols(maps)` reads the symbol tables of every ELF file mapped in
the process and relocates them by that file's load base; a `SymbolList`
answers "which symbol is at this address" and "where is this name", and
`resolve_symbol_expression` turns "main+0x10" into an address the way
libdebug documents it (the offset after '+' is always hexadecimal).
"""
from __future__ import annotations

import os

from ..memory.addressing import backing_file_of
from ..memory.maps import program_file, strip_deleted
from .debug_files import file_symbols
from .demangle import demangle, is_mangled
from .elf import ElfFile

__all__ = ["Symbol", "SymbolList", "build_symbols", "load_base",
           "resolve_symbol_expression", "parse_symbol_expression", "symbol_at"]

PAGE_SIZE = 4096  # x86-64 mappings are page aligned


class Symbol:
    """A symbol at absolute addresses [start, end) of the file `backing_file`.

    `mangled_name` is the name the symbol table holds; `name` is the one
    people write: a C++ name demangled ("ns::add(int, int)"), any other as
    it is. It is demangled when first asked for (C programs pay nothing).
    Immutable. (A plain class: see memory.maps.MemoryMap on dataclasses.)"""

    start: int
    end: int
    mangled_name: str
    backing_file: str
    # A static (STB_LOCAL) name: private to its file, so a search of every
    # mapped file passes it over (name the file to find it). Not part of equality.
    local: bool

    def __init__(self, start: int, end: int, mangled_name: str, backing_file: str,
                 local: bool = False):
        self.__dict__.update(start=start, end=end, mangled_name=mangled_name,
                             backing_file=backing_file, local=local)

    def __setattr__(self, name, value):
        raise AttributeError(f"Symbol is immutable: cannot set {name}")

    def _key(self) -> tuple:
        return (self.start, self.end, self.mangled_name, self.backing_file)

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):   # (a dataclass's equality)
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def name(self) -> str:
        """The symbol's name, demangled if it is a C++ name."""
        return demangle(self.mangled_name)

    def is_named(self, name: str) -> bool:
        """Whether `name` is this symbol's name, mangled or demangled."""
        return name == self.mangled_name or (is_mangled(self.mangled_name) and name == self.name)

    def __repr__(self) -> str:
        return (f"Symbol(start={self.start:#x}, end={self.end:#x}, name={self.name!r}, "
                f"backing_file={self.backing_file!r})")


def _may_be_cxx(name: str) -> bool:
    """Whether `name` could be a demangled C++ name: those all hold "(", "::",
    "<" or a space ("ns::x", "f(int)", "vtable for X"); a plain C name never."""
    return any(c in name for c in "(:< ")


def _named(symbols, name: str) -> list:
    """The symbols called `name`, mangled or demangled. The plain comparison
    first: demangled names are compared only for a name that could be one."""
    found = [s for s in symbols if s.mangled_name == name]
    if found or not _may_be_cxx(name):
        return found
    return [s for s in symbols if is_mangled(s.mangled_name) and s.name == name]


def _contains(sym: Symbol, address: int) -> bool:
    # A zero-size symbol (hand-written assembly labels) covers its start only.
    return sym.start <= address < sym.end or sym.start == address


class SymbolList(list):
    """A list of Symbol, also indexable by name (libdebug's hybrid access)."""

    def filter(self, value: int | str) -> "SymbolList":
        """int: the symbols containing that address. str: the symbols named
        exactly `value`, followed by those whose name contains it."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError(f"symbols.filter takes an address (int) or a name (str), "
                            f"not {type(value).__name__}")
        if isinstance(value, int):
            return SymbolList(s for s in self if _contains(s, value))
        exact = _named(self, value)
        chosen = {id(s) for s in exact}
        partial = [s for s in self if value in s.name and id(s) not in chosen]
        return SymbolList(exact + partial)

    def __getitem__(self, key):
        """symbols["printf"] gives the symbols named exactly "printf" (or, if
        there is none, those whose name contains it); ints and slices index
        the list as usual."""
        if isinstance(key, str):
            exact = SymbolList(_named(self, key))
            return exact if exact else self.filter(key)
        result = super().__getitem__(key)
        return SymbolList(result) if isinstance(key, slice) else result

    def __repr__(self) -> str:
        return f"SymbolList({list.__repr__(self)})"


def load_base(elf, file_maps) -> int:
    """Load bias of `elf` given its maps: the amount added to its virtual
    addresses. 0 for a fixed-address (ET_EXEC) program.

    For ET_DYN the lowest-offset mapping holds a PT_LOAD segment whose
    page-aligned file offset equals the mapping's offset; that segment's
    page-aligned vaddr sits at the mapping's start (gABI "Program Loading")."""
    if elf.elf_type == "EXEC":
        return 0
    first = min(file_maps, key=lambda m: (m.offset, m.start))
    for seg in elf.load_segments:
        if seg.offset & ~(PAGE_SIZE - 1) == first.offset:
            return first.start - (seg.vaddr & ~(PAGE_SIZE - 1))
    return first.start - first.offset


def build_symbols(maps, elf_loader=ElfFile, level: int | None = None) -> SymbolList:
    """Symbols of every file-backed ELF in `maps`, at absolute addresses,
    with those of their MiniDebugInfo and separate debug files as `level`
    (default: debug_files.settings.level, libcontext.sym_lvl) allows.

    Files that are deleted, unreadable or not ELF are skipped."""
    by_file: dict[str, list] = {}
    for m in maps:
        if m.is_file_backed and strip_deleted(m.backing_file) == m.backing_file:
            by_file.setdefault(m.backing_file, []).append(m)
    out = SymbolList()
    for path, file_maps in by_file.items():
        try:
            elf = elf_loader(path)
        except (OSError, ValueError):
            continue
        base = load_base(elf, file_maps)
        for sym in file_symbols(elf, level):
            start = base + sym.value
            out.append(Symbol(start, start + sym.size, sym.name, path, sym.binding == "local"))
    return out


def parse_symbol_expression(expr: str) -> tuple[str, int]:
    """Split "name+off" into (name, off). As libdebug documents, the offset is
    always hexadecimal, with or without "0x": "main+10" is main+0x10. The
    '+' of a C++ operator ("V::operator+(V const&)") is part of the name."""
    if not isinstance(expr, str):
        raise TypeError(f"symbol expression must be a str, not {type(expr).__name__}")
    text = expr.strip()
    if not text:
        raise ValueError("empty symbol name")
    if "+" in text:
        name, _, off = text.rpartition("+")
        name, off = name.strip(), off.strip()
        if name.rstrip("+").endswith("operator"):
            return text, 0  # C++'s operator+, operator++, operator+=: no offset
        if not name:
            raise ValueError(f"no symbol name in '{expr}'")
        try:
            return name, int(off, 16)
        except ValueError:
            raise ValueError(f"bad offset '{off}' in symbol expression '{expr}' "
                             f"(offsets are hexadecimal)") from None
    return text, 0


def _names_cxx_function(sym: Symbol, name: str) -> bool:
    """Whether `name` designates the C++ function `sym` short of its full
    demangled name: without its parameters ("ns::add", all its overloads, as
    gdb's `break ns::add` takes them), or without the return type a function
    template's name carries ("ns::twice<int>(int)" for "int ns::twice<int>(int)")."""
    if not is_mangled(sym.mangled_name):
        return False
    full = sym.name
    if "(" in name:
        return full.endswith(" " + name)
    head = full.split("(", 1)[0]
    return head == name or head.endswith(" " + name)


def _pick(name: str, found: list, program: str | None, prefer_binary: bool):
    """The one address `found` designates, or ValueError if it is ambiguous."""
    addresses = {s.start for s in found}
    if len(addresses) > 1 and prefer_binary and program is not None:
        own = [s for s in found if s.backing_file == program]
        if own:
            found, addresses = own, {s.start for s in own}
    if len(addresses) > 1:
        where = ", ".join(f"{s.start:#x} in {os.path.basename(s.backing_file)}"
                          for s in sorted(found, key=lambda s: s.start))
        raise ValueError(f"symbol '{name}' is ambiguous: {where}; pass file= to choose")
    return found[0].start


def resolve_symbol_expression(expr: str, symbols, maps, file: str = "hybrid",
                              binary_path: str | None = None) -> int:
    """Absolute address of "name" or "name+hexoffset".

    file: "binary" looks in the debugged program only; "hybrid" in the
    program first and then in every file; "absolute" in every file (the
    program's definition wins a tie); a library name ("libc") in that file.
    A library's static (local) symbols are found only by naming the library;
    the program's own are found by "binary" and "hybrid" too.
    binary_path defaults to maps.binary_path, else the first mapped file.
    Raises ValueError naming the symbol when it is missing or ambiguous."""
    if not isinstance(file, str):
        raise TypeError(f"file must be a str, not {type(file).__name__}")
    name, offset = parse_symbol_expression(expr)
    if binary_path is None:
        binary_path = getattr(maps, "binary_path", None)
    program = program_file(maps, binary_path)
    matching = _named(symbols, name)
    if not matching:  # (a miss: each C++ name is demangled once, then cached)
        matching = [s for s in symbols if _names_cxx_function(s, name)]

    if file in ("binary", "hybrid"):
        own = [s for s in matching if s.backing_file == program]
        if own:
            return _pick(name, own, program, True) + offset
        if file == "binary":
            where = os.path.basename(program) if program else "the binary"
            raise ValueError(f"symbol '{name}' not found in {where}")
        scope = "any mapped file"
    elif file == "absolute":
        scope = "any mapped file"
    else:
        scope = None
    if scope is not None:
        # Every file: a library's static names are its own (ld.so has a
        # private getpid and memcpy; libc6-dbg names them): they answer only
        # when their file is named.
        hidden = [s for s in matching if s.local and s.backing_file != program]
        matching = [s for s in matching if not s.local or s.backing_file == program]
        if not matching and hidden:
            libs = ", ".join(sorted({f'"{os.path.basename(s.backing_file)}"' for s in hidden}))
            raise ValueError(f"symbol '{name}' is not exported by any mapped file; it is a static "
                             f"name in {libs}: pass file= with that library's name")
    else:
        lib = backing_file_of(file, maps, binary_path)
        matching = [s for s in matching if s.backing_file == lib]
        scope = os.path.basename(lib)
    if not matching:
        raise ValueError(f"symbol '{name}' not found in {scope}")
    return _pick(name, matching, program, True) + offset


def symbol_at(address: int, symbols) -> str | None:
    """"name+0x1c" for the symbol containing `address` ("name" at its
    start), or None. Among overlapping symbols the nearest start wins, then
    a public-looking name (aliases like __GI_memcpy lose to memcpy)."""
    best = None
    best_key = None
    for s in symbols:
        if _contains(s, address):
            key = (s.start, s.end > s.start, not s.name.startswith("_"), -len(s.name))
            if best_key is None or key > best_key:
                best, best_key = s, key
    if best is None:
        return None
    delta = address - best.start
    return best.name if delta == 0 else f"{best.name}+{delta:#x}"
