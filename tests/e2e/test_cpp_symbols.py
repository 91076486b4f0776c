"""A C++ program (tests/targets/cpp_shapes.cpp): breakpoints on mangled and
demangled names, demangled backtraces, symbol lookups and pretty printers."""
import pytest

from procutil import kill_tree
from tether import debugger


@pytest.fixture
def shapes(target):
    d = debugger([target("cpp_shapes")])
    d.run()
    yield d
    kill_tree(d)


@pytest.mark.timeout(60)
def test_breakpoints_by_demangled_and_mangled_names(shapes):
    d = shapes
    by_signature = d.breakpoint("shapes::Counter::bump(int)")
    by_mangled = d.breakpoint("_ZN6shapes4areaEii")
    by_short = d.breakpoint("shapes::twice<int>")
    with pytest.raises(ValueError, match="ambiguous"):
        d.breakpoint("shapes::area")  # area(int, int) and area(double)
    d.cont()
    d.wait()
    assert d.regs.rip == by_mangled.address
    d.cont()
    d.wait()
    assert d.regs.rip == by_signature.address
    names = [f.split("+")[0] for f in d.backtrace(as_symbols=True)]
    assert names[:3] == ["shapes::Counter::bump(int)", "outer(shapes::Counter&)", "main"]
    d.cont()
    d.wait()
    assert d.regs.rip == by_short.address
    d.kill()


@pytest.mark.timeout(60)
def test_pprint_backtrace_and_symbol_lists_are_demangled(shapes, capsys):
    d = shapes
    d.breakpoint("shapes::area(double)")
    d.cont()
    d.wait()
    d.pprint_backtrace()
    out = capsys.readouterr().out
    assert "shapes::area(double)" in out and "_ZN" not in out
    found = d.symbols["shapes::Vec::operator+(shapes::Vec const&) const"]
    assert len(found) == 1 and found[0].mangled_name == "_ZNK6shapes3VecplERKS0_"
    assert "shapes::Vec::operator+" in repr(found)
    # A C++ function of the global namespace by its bare name.
    assert d.resolve_symbol("outer") == d.resolve_symbol("_ZL5outerRN6shapes7CounterE")
    d.kill()
