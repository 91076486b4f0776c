"""Symbols from separate debug files in a live process: libc's (Debian's
libc6-dbg, installed by .ci/run) and those of a program whose symbols were
split off with objcopy."""
import shutil
import subprocess

import pytest

from procutil import kill_tree
from tether import debugger, libcontext


@pytest.fixture
def stripped(target, tmp_path):
    """split_debug stripped of its symbols, prog.debug next to it (debuglink)."""
    prog, debug = tmp_path / "prog", tmp_path / "prog.debug"
    shutil.copy(target("split_debug"), prog)
    for args in (["--only-keep-debug", prog, debug], ["--strip-all", prog],
                 [f"--add-gnu-debuglink={debug}", prog]):
        subprocess.run(["objcopy", *map(str, args)], check=True)
    return str(prog)


@pytest.fixture
def session():
    made = []

    def start(argv, **kwargs):
        d = debugger(argv, **kwargs)
        made.append(d)
        d.run()
        return d

    yield start
    for d in made:
        kill_tree(d)


@pytest.mark.timeout(60)
def test_backtrace_through_libc_names_every_frame(stripped, session):
    d = session([stripped])
    d.breakpoint("compare_ints")  # only the debug file names it
    d.cont()
    d.wait()
    frames = d.backtrace(as_symbols=True)
    names = [f.split("+")[0] for f in frames]
    assert names[0] == "compare_ints"
    assert "sort_some" in names and "main" in names
    # Between the comparator and sort_some: qsort's internals in libc, named
    # by libc6-dbg's debug file (msort_with_tmp is a static function).
    inner = names[1:names.index("sort_some")]
    assert inner and all(not f.startswith("0x") for f in frames[:names.index("main") + 1])
    assert any(n.startswith("msort_with_tmp") for n in inner), names
    d.kill()


@pytest.mark.timeout(60)
def test_libc_internal_symbols_resolve(target, session):
    d = session([target("split_debug")])
    arena = d.memory["main_arena", 16, "libc"]
    assert len(arena) == 16
    address = d.symbols["main_arena"][0].start
    assert any(m.backing_file.endswith("libc.so.6") and m.start <= address < m.end for m in d.maps)
    # A library's static names answer when the library is named, and a
    # search of every file says where they are.
    with pytest.raises(ValueError, match='static name in "libc.so.6"'):
        d.breakpoint("main_arena")
    assert d.resolve_symbol("main_arena", "libc") == address
    d.kill()


@pytest.mark.timeout(60)
def test_sym_lvl_one_reads_only_the_files_own_tables(stripped, session):
    d = session([stripped])
    with libcontext.tmp(sym_lvl=1):
        assert not d.symbols.filter("compare_ints")
        assert not [s for s in d.symbols if s.name == "main_arena"]
        with pytest.raises(ValueError, match="compare_ints"):
            d.breakpoint("compare_ints")
    assert d.symbols["compare_ints"]
    with libcontext.tmp(sym_lvl=0):
        assert len(d.symbols) == 0
    d.kill()
