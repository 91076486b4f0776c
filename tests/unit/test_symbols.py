"""Symbols at run-time addresses, expressions and lookups (tether.symbols.symbol_list)."""
import os
import subprocess
from collections import namedtuple

import pytest

from tether.memory.maps import parse_maps, read_maps
from tether.symbols.elf import ElfSymbol, Segment
from tether.symbols.symbol_list import (Symbol, SymbolList, build_symbols, load_base,
                                        parse_symbol_expression, resolve_symbol_expression,
                                        symbol_at)

SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
int counter = 7;
__attribute__((noinline)) int alpha(int x) { return x * 3 + counter; }
__attribute__((noinline)) int beta(int x) { return alpha(x) - 1; }
int main(void) {
    printf("%p %p %p %p %p\n", (void *)alpha, (void *)beta, (void *)main,
           (void *)&counter, (void *)printf);
    fflush(stdout);
    getchar();  /* stay alive until the test has read our maps */
    return beta(1) == 0;
}
"""


def _compile(directory, name, *flags):
    src = directory / "prog.c"
    src.write_text(SOURCE)
    out = directory / name
    subprocess.run(["gcc", "-O0", "-o", str(out), str(src), *flags], check=True)
    return str(out)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    d = tmp_path_factory.mktemp("symbols")
    return {"pie": _compile(d, "pie_prog", "-pie", "-fPIE"),
            "nopie": _compile(d, "nopie_prog", "-no-pie", "-fno-pie")}


Live = namedtuple("Live", "path maps symbols addresses")


def _run_and_inspect(path):
    """Run the program natively; return its maps, symbols and printed addresses."""
    proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        addresses = dict(zip(["alpha", "beta", "main", "counter", "printf"],
                             (int(x, 16) for x in line)))
        maps = read_maps(proc.pid, binary_path=path)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    return Live(path, maps, build_symbols(maps), addresses)


@pytest.fixture(scope="module")
def pie(programs):
    return _run_and_inspect(programs["pie"])


@pytest.fixture(scope="module")
def nopie(programs):
    return _run_and_inspect(programs["nopie"])


# --- build_symbols on live processes ----------------------------------------------------

@pytest.mark.parametrize("which", ["pie", "nopie"])
def test_function_addresses_match_the_process(which, request):
    live = request.getfixturevalue(which)
    for name in ("alpha", "beta", "main", "counter"):
        found = [s for s in live.symbols if s.name == name and s.backing_file == live.path]
        assert len(found) == 1, name
        assert found[0].start == live.addresses[name], name
        assert found[0].end > found[0].start


def test_pie_is_relocated_and_nopie_is_not(pie, nopie):
    assert pie.addresses["main"] > 0x500000000000  # PIE loaded high by the kernel
    assert nopie.addresses["main"] < 0x1000000


def test_libc_symbols_are_relocated(pie):
    libc = [s for s in pie.symbols if s.name == "printf" and "libc.so" in s.backing_file]
    assert len(libc) == 1
    assert libc[0].start == pie.addresses["printf"]


def test_backing_files_are_paths(pie):
    files = {s.backing_file for s in pie.symbols}
    assert pie.path in files
    assert any(os.path.basename(f) == "libc.so.6" for f in files)
    assert any(os.path.basename(f).startswith("ld-linux") for f in files)


def test_symbols_filter_and_getitem_on_live(pie):
    syms = pie.symbols
    assert isinstance(syms, SymbolList)
    assert [s.start for s in syms["alpha"]] == [pie.addresses["alpha"]]
    assert syms["alpha"][0].name == "alpha"
    inside = syms.filter(pie.addresses["beta"] + 2)
    assert "beta" in [s.name for s in inside]


def test_resolve_expressions_live(pie):
    maps = pie.maps
    alpha = pie.addresses["alpha"]
    assert resolve_symbol_expression("alpha", pie.symbols, maps, "binary") == alpha
    assert resolve_symbol_expression("alpha+0x10", pie.symbols, maps, "hybrid") == alpha + 0x10
    # As libdebug documents, the offset is always hexadecimal.
    assert resolve_symbol_expression("alpha+10", pie.symbols, maps, "hybrid") == alpha + 0x10
    assert resolve_symbol_expression("printf", pie.symbols, maps, "libc") == pie.addresses["printf"]
    # hybrid falls back to every file when the binary lacks the symbol
    assert resolve_symbol_expression("printf", pie.symbols, maps, "hybrid") == pie.addresses["printf"]
    assert resolve_symbol_expression("printf", pie.symbols, maps, "absolute") == pie.addresses["printf"]


def test_resolve_missing_symbol_names_it(pie):
    with pytest.raises(ValueError, match="printf"):
        resolve_symbol_expression("printf", pie.symbols, pie.maps, "binary")
    with pytest.raises(ValueError, match="no_such_function"):
        resolve_symbol_expression("no_such_function", pie.symbols, pie.maps, "hybrid")
    with pytest.raises(ValueError, match="alpha"):
        resolve_symbol_expression("alpha", pie.symbols, pie.maps, "libc")
    with pytest.raises(ValueError, match="libnothing"):
        resolve_symbol_expression("alpha", pie.symbols, pie.maps, "libnothing")


def test_symbol_at_live(pie, nopie):
    for live in (pie, nopie):
        assert symbol_at(live.addresses["beta"], live.symbols) == "beta"
        assert symbol_at(live.addresses["beta"] + 0x4, live.symbols) == "beta+0x4"
    assert symbol_at(pie.addresses["printf"] + 1, pie.symbols) == "printf+0x1"


def test_build_symbols_skips_non_elf_and_deleted(tmp_path, pie):
    data = tmp_path / "data.bin"
    data.write_bytes(b"not an elf at all")
    gone = tmp_path / "gone.so"
    text = (f"10000-11000 r--p 00000000 08:01 1 {data}\n"
            f"20000-21000 r-xp 00000000 08:01 2 {gone} (deleted)\n"
            f"30000-31000 r-xp 00000000 08:01 3 /nonexistent/lib.so\n"
            f"40000-41000 rw-p 00000000 00:00 0 [heap]\n")
    assert build_symbols(parse_maps(text)) == []


# --- load_base with unusual layouts ------------------------------------------------------

class FakeElf:
    def __init__(self, elf_type, segments, symbols=()):
        self.elf_type = elf_type
        self.load_segments = [Segment(1, v, sz, off, sz, 5) for v, sz, off in segments]
        self._symbols = [ElfSymbol(*s) for s in symbols]

    def symbols(self):
        return self._symbols

    # No MiniDebugInfo, no build id, no debuglink: no separate debug file.
    path = "/nonexistent/fake.so"
    build_id = None

    def section(self, name):
        return None


def test_load_base_first_segment_at_nonzero_vaddr():
    # A prelinked-style library: first PT_LOAD at vaddr 0x10000, offset 0.
    elf = FakeElf("DYN", [(0x10000, 0x1000, 0), (0x11000, 0x2000, 0x1000)])
    maps = parse_maps("7f0000000000-7f0000001000 r--p 00000000 08:01 1 /l.so\n"
                      "7f0000001000-7f0000003000 r-xp 00001000 08:01 1 /l.so\n")
    assert load_base(elf, maps) == 0x7F0000000000 - 0x10000


def test_load_base_unaligned_segment_offset():
    # Only the text segment is mapped first here; its offset 0x1234 is not page aligned.
    elf = FakeElf("DYN", [(0x2234, 0x100, 0x1234)])
    maps = parse_maps("7f0000001000-7f0000002000 r-xp 00001000 08:01 1 /l.so\n")
    assert load_base(elf, maps) == 0x7F0000001000 - 0x2000


def test_load_base_exec_is_zero():
    elf = FakeElf("EXEC", [(0x400000, 0x1000, 0)])
    maps = parse_maps("00400000-00401000 r-xp 00000000 08:01 1 /p\n")
    assert load_base(elf, maps) == 0


def test_build_symbols_with_custom_loader():
    elf = FakeElf("DYN", [(0, 0x3000, 0)], [("f", 0x1100, 0x20, "func"), ("g", 0x1200, 0, "func")])
    maps = parse_maps("7f0000000000-7f0000003000 r-xp 00000000 08:01 1 /x/libfake.so\n")
    syms = build_symbols(maps, elf_loader=lambda path: elf)
    assert syms == [Symbol(0x7F0000001100, 0x7F0000001120, "f", "/x/libfake.so"),
                    Symbol(0x7F0000001200, 0x7F0000001200, "g", "/x/libfake.so")]


# --- SymbolList, expressions and ambiguity on fixed data ----------------------------------

PROG = "/opt/app/prog"
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
LIBX = "/usr/lib/libx.so.1"
FAKE_MAPS = parse_maps(
    f"555555554000-555555556000 r-xp 00000000 08:01 1 {PROG}\n"
    f"7ffff7d80000-7ffff7d90000 r-xp 00000000 08:01 2 {LIBC}\n"
    f"7ffff7e00000-7ffff7e10000 r-xp 00000000 08:01 3 {LIBX}\n", binary_path=PROG)


@pytest.fixture
def syms():
    return SymbolList([
        Symbol(0x555555555100, 0x555555555180, "main", PROG),
        Symbol(0x555555555200, 0x555555555240, "malloc", PROG),   # the program's own
        Symbol(0x555555555300, 0x555555555340, "helper", PROG),
        Symbol(0x555555555400, 0x555555555440, "helper", PROG),   # two static helpers
        Symbol(0x7FFFF7D81000, 0x7FFFF7D81100, "malloc", LIBC),
        Symbol(0x7FFFF7D82000, 0x7FFFF7D82100, "printf", LIBC),
        Symbol(0x7FFFF7D83000, 0x7FFFF7D83100, "__printf_chk", LIBC),
        Symbol(0x7FFFF7D84000, 0x7FFFF7D84100, "shared_name", LIBC),
        Symbol(0x7FFFF7E01000, 0x7FFFF7E01100, "shared_name", LIBX),
        Symbol(0x7FFFF7D85000, 0x7FFFF7D85000, "label", LIBC),    # zero size
        Symbol(0x7FFFF7D86000, 0x7FFFF7D86100, "__GI_memcpy", LIBC),
        Symbol(0x7FFFF7D86000, 0x7FFFF7D86100, "memcpy", LIBC),
    ])


def test_filter_by_name_exact_first(syms):
    names = [s.name for s in syms.filter("printf")]
    assert names == ["printf", "__printf_chk"]
    assert isinstance(syms.filter("printf"), SymbolList)


def test_filter_by_address(syms):
    assert [s.name for s in syms.filter(0x7FFFF7D82010)] == ["printf"]
    assert [s.name for s in syms.filter(0x7FFFF7D85000)] == ["label"]
    assert syms.filter(0x7FFFF7D85001) == []
    assert syms.filter(0x1) == []


def test_filter_type_errors(syms):
    with pytest.raises(TypeError):
        syms.filter(1.0)
    with pytest.raises(TypeError):
        syms.filter(None)


def test_getitem_str_int_slice(syms):
    assert [s.start for s in syms["printf"]] == [0x7FFFF7D82000]  # exact only
    assert [s.name for s in syms["printf_ch"]] == ["__printf_chk"]  # substring fallback
    assert syms["nothing_like_this"] == []
    assert syms[0].name == "main"
    assert isinstance(syms[1:3], SymbolList) and len(syms[1:3]) == 2


def test_parse_symbol_expression():
    assert parse_symbol_expression("main") == ("main", 0)
    assert parse_symbol_expression("main+0x10") == ("main", 0x10)
    assert parse_symbol_expression("main+16") == ("main", 0x16)
    assert parse_symbol_expression("main+a8") == ("main", 0xA8)
    assert parse_symbol_expression(" main + 0x8 ") == ("main", 8)
    with pytest.raises(ValueError, match="zz"):
        parse_symbol_expression("main+zz")
    with pytest.raises(ValueError):
        parse_symbol_expression("")
    with pytest.raises(ValueError):
        parse_symbol_expression("+0x10")
    with pytest.raises(TypeError):
        parse_symbol_expression(0x10)


def test_binary_definition_wins_in_hybrid_and_absolute(syms):
    for mode in ("hybrid", "binary", "absolute"):
        assert resolve_symbol_expression("malloc", syms, FAKE_MAPS, mode) == 0x555555555200
    assert resolve_symbol_expression("malloc", syms, FAKE_MAPS, "libc") == 0x7FFFF7D81000


def test_ambiguous_between_libraries(syms):
    with pytest.raises(ValueError, match="shared_name.*ambiguous"):
        resolve_symbol_expression("shared_name", syms, FAKE_MAPS, "hybrid")
    assert resolve_symbol_expression("shared_name", syms, FAKE_MAPS, "libx") == 0x7FFFF7E01000
    assert resolve_symbol_expression("shared_name+4", syms, FAKE_MAPS, "libc") == 0x7FFFF7D84004


def test_ambiguous_within_binary(syms):
    with pytest.raises(ValueError, match="helper.*ambiguous"):
        resolve_symbol_expression("helper", syms, FAKE_MAPS, "binary")


def test_aliases_at_same_address_are_not_ambiguous():
    syms = SymbolList([Symbol(0x1000, 0x1010, "f", "/a.so"), Symbol(0x1000, 0x1010, "f", "/a.so")])
    maps = parse_maps("1000-2000 r-xp 00000000 08:01 1 /a.so\n")
    assert resolve_symbol_expression("f", syms, maps, "absolute") == 0x1000


def test_binary_path_argument_overrides_maps(syms):
    maps = parse_maps("555555554000-555555556000 r-xp 00000000 08:01 1 /opt/app/prog\n"
                      "7ffff7d80000-7ffff7d90000 r-xp 00000000 08:01 2 " + LIBC + "\n")
    assert resolve_symbol_expression("main", syms, maps, "binary", binary_path=PROG) == 0x555555555100
    with pytest.raises(ValueError):
        resolve_symbol_expression("main", syms, maps, "binary", binary_path=LIBC)


def test_resolve_bad_file_type(syms):
    with pytest.raises(TypeError):
        resolve_symbol_expression("main", syms, FAKE_MAPS, 3)


def test_symbol_at_prefers_public_alias_and_offsets(syms):
    assert symbol_at(0x7FFFF7D86010, syms) == "memcpy+0x10"
    assert symbol_at(0x555555555100, syms) == "main"
    assert symbol_at(0x7FFFF7D85000, syms) == "label"
    assert symbol_at(0x10, syms) is None


def test_symbol_repr_is_hex():
    assert "start=0x1000" in repr(Symbol(0x1000, 0x1010, "f", "/a"))


def test_a_librarys_static_names_answer_only_when_it_is_named():
    prog, lib = "/p/prog", "/l/libx.so"
    maps = parse_maps(f"555555554000-555555556000 r-xp 00000000 08:01 1 {prog}\n"
                      f"7ffff7d80000-7ffff7d90000 r-xp 00000000 08:01 2 {lib}\n")
    syms = SymbolList([Symbol(0x555555555000, 0x555555555010, "helper", prog, True),
                       Symbol(0x7FFFF7D81000, 0x7FFFF7D81010, "getpid", lib, True),
                       Symbol(0x7FFFF7D82000, 0x7FFFF7D82010, "shared", lib, True),
                       Symbol(0x7FFFF7D83000, 0x7FFFF7D83010, "shared", lib)])
    assert resolve_symbol_expression("helper", syms, maps, "hybrid", prog) == 0x555555555000
    assert resolve_symbol_expression("shared", syms, maps, "absolute", prog) == 0x7FFFF7D83000
    assert resolve_symbol_expression("getpid", syms, maps, "libx", prog) == 0x7FFFF7D81000
    for mode in ("hybrid", "absolute"):
        with pytest.raises(ValueError, match='static name in "libx.so"'):
            resolve_symbol_expression("getpid", syms, maps, mode, prog)
