"""The C++ demangler (tether.symbols.demangle), with binutils' c++filt as
the oracle, and the symbol lookups that accept both forms."""
import re
import subprocess

import pytest
from hypothesis import given, strategies as st

from tether.symbols.demangle import demangle, is_mangled
from tether.symbols.elf import ElfFile
from tether.symbols.symbol_list import (Symbol, SymbolList, parse_symbol_expression,
                                        resolve_symbol_expression, symbol_at)
from tether.memory.maps import parse_maps

LIBSTDCXX = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"

# c++filt prints the standard abbreviations in full (its "verbose" mode);
# the C++ runtime's demangler keeps them short. Both are right.
_VERBOSE = {
    "std::basic_string<char, std::char_traits<char>, std::allocator<char> >": "std::string",
    "std::basic_istream<char, std::char_traits<char> >": "std::istream",
    "std::basic_ostream<char, std::char_traits<char> >": "std::ostream",
    "std::basic_iostream<char, std::char_traits<char> >": "std::iostream",
}


def _short(text):
    for long, short in _VERBOSE.items():
        text = text.replace(long, short)
    # "<std::string >": the space that kept "> >" apart is not needed after "string".
    return re.sub(r"(string|stream) >", r"\1>", text)


def test_libstdcxx_names_match_cxxfilt():
    names = sorted({s.name for s in ElfFile(LIBSTDCXX).symbols() if is_mangled(s.name)})
    assert len(names) > 1000
    expected = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True,
                              text=True, check=True).stdout.splitlines()
    assert len(expected) == len(names)
    wrong = [(n, demangle(n), e) for n, e in zip(names, expected) if _short(demangle(n)) != _short(e)]
    assert wrong == []


@pytest.mark.parametrize("mangled,plain", [
    ("_ZN6shapes4areaEii", "shapes::area(int, int)"),
    ("_ZNK6shapes3VecplERKS0_", "shapes::Vec::operator+(shapes::Vec const&) const"),
    ("_ZN6shapes5twiceIiEET_S1_", "int shapes::twice<int>(int)"),
    ("_ZL5outerRN6shapes7CounterE", "outer(shapes::Counter&)"),
    ("_Z3foov.cold", "foo() [clone .cold]"),
    ("_ZSt4cout@GLIBCXX_3.4", "std::cout@GLIBCXX_3.4"),
    ("main", "main"), ("_start", "_start"), ("_Z", "_Z"), ("_Zjunk", "_Zjunk"), ("", ""),
])
def test_demangle_table(mangled, plain):
    assert demangle(mangled) == plain


@given(st.text(max_size=40))
def test_demangle_never_raises_and_leaves_plain_names(text):
    out = demangle("_Z" + text)
    assert isinstance(out, str)
    if not text.startswith("_Z"):
        assert demangle(text) == text


PROG = "/p/prog"
MAPS = parse_maps(f"555555554000-555555556000 r-xp 00000000 08:01 1 {PROG}\n")
SYMS = SymbolList([
    Symbol(0x555555555100, 0x555555555120, "_ZN6shapes4areaEii", PROG),
    Symbol(0x555555555200, 0x555555555220, "_ZN6shapes4areaEd", PROG),
    Symbol(0x555555555300, 0x555555555320, "_ZN6shapes7Counter4bumpEi", PROG),
    Symbol(0x555555555400, 0x555555555420, "_ZNK6shapes3VecplERKS0_", PROG),
    Symbol(0x555555555500, 0x555555555520, "main", PROG),
    Symbol(0x555555555600, 0x555555555620, "_ZN6shapes5twiceIiEET_S1_", PROG),
])


def _resolve(expr):
    return resolve_symbol_expression(expr, SYMS, MAPS, "hybrid", PROG)


def test_lookups_take_mangled_and_demangled_names():
    assert _resolve("_ZN6shapes7Counter4bumpEi") == 0x555555555300
    assert _resolve("shapes::Counter::bump(int)") == 0x555555555300
    assert _resolve("shapes::Counter::bump") == 0x555555555300      # its only overload
    assert _resolve("shapes::Counter::bump(int)+8") == 0x555555555308
    assert _resolve("shapes::area(double)") == 0x555555555200
    assert _resolve("shapes::Vec::operator+(shapes::Vec const&) const") == 0x555555555400
    # A function template's demangled name starts with its return type.
    assert _resolve("int shapes::twice<int>(int)") == 0x555555555600
    assert _resolve("shapes::twice<int>(int)") == 0x555555555600
    assert _resolve("shapes::twice<int>") == 0x555555555600
    assert _resolve("main") == 0x555555555500
    with pytest.raises(ValueError, match="ambiguous"):
        _resolve("shapes::area")                                     # two overloads
    with pytest.raises(ValueError, match="not found"):
        _resolve("shapes::Counter::bum")


def test_symbol_list_shows_and_finds_demangled_names():
    assert [s.start for s in SYMS["shapes::area(int, int)"]] == [0x555555555100]
    assert [s.start for s in SYMS["_ZN6shapes4areaEd"]] == [0x555555555200]
    assert {s.start for s in SYMS.filter("shapes::area")} == {0x555555555100, 0x555555555200}
    assert "shapes::Counter::bump(int)" in repr(SYMS)
    assert symbol_at(0x555555555304, SYMS) == "shapes::Counter::bump(int)+0x4"


@pytest.mark.parametrize("expr,parsed", [
    ("V::operator+(V const&) const", ("V::operator+(V const&) const", 0)),
    ("V::operator++()", ("V::operator++()", 0)),
    ("V::operator+=(int)", ("V::operator+=(int)", 0)),
    ("V::operator+(V const&) const+10", ("V::operator+(V const&) const", 0x10)),
    ("main+1c", ("main", 0x1C)),
])
def test_operator_plus_is_part_of_the_name(expr, parsed):
    assert parse_symbol_expression(expr) == parsed
