"""Every public class, method and property of tether's API has a docstring.

The API: Debugger, ThreadContext, the stopping events (Breakpoint,
SyscallHandler, SignalCatcher), PipeManager, libcontext's LibContext, the
symbols (Symbol, SymbolList), the snapshot package's public
classes and functions (tether.snapshots.__all__), and debugger(). A class's
members are read along its MRO, within the tether package (a name defined in
a tether class counts where users find it: the first class of the MRO that
defines it); names starting with "_" are not public.
"""
import inspect

import pytest

import tether
from tether import snapshots
from tether.commlink.pipes import PipeManager
from tether.debugger import Debugger
from tether.libcontext import LibContext
from tether.symbols.symbol_list import Symbol, SymbolList
from tether.state.stopping_events import Breakpoint, SignalCatcher, SyscallHandler
from tether.thread_context import ThreadContext

CLASSES = [Debugger, ThreadContext, Breakpoint, SyscallHandler, SignalCatcher, PipeManager,
           LibContext, Symbol, SymbolList]
CLASSES += [obj for name in snapshots.__all__
            if inspect.isclass(obj := getattr(snapshots, name))]
FUNCTIONS = [tether.debugger] + [obj for name in snapshots.__all__
                                 if inspect.isfunction(obj := getattr(snapshots, name))]


def in_tether(cls) -> bool:
    return cls.__module__ == "tether" or cls.__module__.startswith("tether.")


def documented(value) -> bool:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    doc = getattr(value, "__doc__", None)
    return bool(doc and doc.strip())


def undocumented_members(cls) -> list[str]:
    missing = []
    if not documented(cls):
        missing.append(f"{cls.__module__}.{cls.__qualname__} (the class)")
    seen = set()
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)  # the first definition along the MRO is what users get
            if not in_tether(klass):
                continue
            if not (inspect.isfunction(value) or isinstance(value, (property, staticmethod, classmethod))):
                continue
            if not documented(value):
                kind = "property" if isinstance(value, property) else "method"
                missing.append(f"{cls.__name__}.{name} ({kind}, defined in "
                               f"{klass.__module__}.{klass.__qualname__})")
    return missing


@pytest.mark.timeout(10)
def test_every_public_member_has_a_docstring():
    missing = [line for cls in CLASSES for line in undocumented_members(cls)]
    missing += [f"{f.__module__}.{f.__qualname__} (function)" for f in FUNCTIONS if not documented(f)]
    assert not missing, (f"{len(missing)} public name(s) without a docstring:\n  "
                         + "\n  ".join(missing))


@pytest.mark.timeout(10)
def test_the_check_itself():
    class Base:
        """Documented."""

        def shown(self):
            """Yes."""

        def bare(self):
            pass

    class Child(Base):
        """Documented."""
        bare = Base.shown     # an alias takes its target's docstring
        prop = property(lambda self: 1)

        def _private(self):
            pass
    Base.__module__ = Child.__module__ = "tether.sample"
    assert undocumented_members(Child) == ["Child.prop (property, defined in tether.sample."
                                           "test_the_check_itself.<locals>.Child)"]
    assert undocumented_members(Base) == ["Base.bare (method, defined in tether.sample."
                                          "test_the_check_itself.<locals>.Base)"]
    assert Debugger in CLASSES and PipeManager in CLASSES and snapshots.TreeSnapshot in CLASSES
