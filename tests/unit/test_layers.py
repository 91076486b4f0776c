"""The package's layers, and no import cycles (read from the source with
`ast`: nothing under src/tether is imported or run here).

LAYERS lists the layers lowest first, each with the module prefixes it holds.
A module may import from its own layer or a lower one, never a higher one.
A prefix names that module and every module under it ("tether.memory" holds
tether.memory.maps); the longest matching prefix decides a module's layer.
The top package "tether" (its __init__, the public facade) holds only itself.

Every import counts: at module level and inside functions and methods (a
deferred import still makes the importer depend on the imported module),
with relative imports resolved. `from pkg import name` counts as an import of
pkg.name when that is a module, else of pkg. The packages above an imported
module (which Python initialises first) are not counted: every module is
under `tether`, whose __init__ imports the facade.
"""
from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

# Lowest first.
LAYERS = [
    ("basic", ("tether._native", "tether.errors", "tether.config", "tether.safe_files", "tether.ptrace",
               "tether.events", "tether.arch")),
    # The address space's layout and contents: maps, addressing modes, reading
    # and writing memory.
    ("memory", ("tether.memory",)),
    # Symbol tables and unwinding (ELF files placed by the maps), and the
    # resolution of a user's position (address or symbol expression).
    # tether.memory.position only re-exports tether.symbols.position for the
    # code that still imports it from there: it belongs with what it re-exports.
    ("symbols", ("tether.symbols", "tether.memory.position")),
    ("state", ("tether.state",)),
    ("runtime", ("tether.runtime",)),
    ("facade", ("tether.commlink", "tether.snapshots", "tether.thread_context", "tether.debugger", "tether.facade",
                "tether.lifecycle", "tether.libcontext", "tether")),
    # (src/tether/demo holds only demo.c, data the CLI compiles: its Python
    # side is tether.cli.demo.)
    ("cli", ("tether.cli", "tether.__main__")),
]

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "tether"
# Compiled from C (setup.py): no .py file, still a module others import.
EXTENSION_MODULES = {"tether._native": PACKAGE / "native" / "module.c"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules() -> dict[str, Path]:
    modules = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    modules.update(EXTENSION_MODULES)
    return modules


MODULES = find_modules()


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the longest prefix matching `module`, or None."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if prefix == "tether":
                matches = module == "tether"
            else:
                matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def imports_of(module: str, path: Path) -> list[tuple[str, int]]:
    """[(imported tether module, line)] of every import in `path`."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: -(node.level - 1)]
                assert base, f"{path}:{node.lineno}: relative import beyond the top package"
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in MODULES else target, node.lineno))
    out = []
    for name, line in found:
        # The most specific known module the name designates ("import
        # tether.memory.maps" and "tether.memory.maps.X" both mean that file).
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            out.append((name, line))
    return out


def import_graph() -> dict[str, list[tuple[str, int]]]:
    return {m: imports_of(m, p) for m, p in MODULES.items() if p.suffix == ".py"}


GRAPH = import_graph()


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(SRC.parent)}:{line}"


@pytest.mark.timeout(10)
def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if layer_of(m) is None)
    assert not missing, "modules in no layer (add them to LAYERS): " + ", ".join(missing)
    for path in EXTENSION_MODULES.values():
        assert path.exists(), f"{path} is gone: update EXTENSION_MODULES"


@pytest.mark.timeout(10)
def test_every_layer_prefix_names_a_module():
    stale = [p for _, prefixes in LAYERS for p in prefixes
             if not any(m == p or m.startswith(p + ".") for m in MODULES)]
    assert not stale, "LAYERS names modules that do not exist: " + ", ".join(stale)


def upward_imports() -> list[str]:
    out = []
    for module, imports in sorted(GRAPH.items()):
        mine = layer_of(module)
        for imported, line in sorted(imports, key=lambda x: x[1]):
            theirs = layer_of(imported)
            if mine is not None and theirs is not None and theirs > mine:
                out.append(f"module {module} (layer {LAYERS[mine][0]}) imports {imported} "
                           f"(layer {LAYERS[theirs][0]}, higher) at {where(module, line)}")
    return out


@pytest.mark.timeout(10)
def test_no_lower_layer_imports_a_higher_one():
    violations = upward_imports()
    assert not violations, (f"{len(violations)} upward import(s):\n  " + "\n  ".join(violations))


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    out.append(sorted(component))
    return out


def shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside `members`."""
    previous = {}
    queue = collections.deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return list(reversed(path)) + [start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is in no cycle")


def import_cycles() -> list[str]:
    graph = {m: {i for i, _ in imports} for m, imports in GRAPH.items()}
    lines = {(m, i): line for m, imports in GRAPH.items() for i, line in reversed(imports)}
    out = []
    for component in strongly_connected(graph):
        if len(component) < 2:
            continue
        members = set(component)
        cycle = shortest_cycle(graph, component[0], members)
        steps = ", ".join(f"{a} -> {b} at {where(a, lines[a, b])}" for a, b in zip(cycle, cycle[1:]))
        out.append(f"cycle {' -> '.join(cycle)} ({steps})"
                   + (f"; the cycles among {', '.join(component)} all need breaking"
                      if len(component) > len(cycle) - 1 else ""))
    return out


@pytest.mark.timeout(10)
def test_no_import_cycles():
    cycles = import_cycles()
    assert not cycles, f"{len(cycles)} import cycle(s):\n  " + "\n  ".join(cycles)


@pytest.mark.timeout(10)
def test_the_checks_see_imports():
    """The collector itself: relative, deferred and `from pkg import module`
    imports are all found (else the tests above would pass vacuously)."""
    cli_args = dict((m, line) for m, line in GRAPH["tether.cli.args"])
    assert "tether" in cli_args                       # a deferred `from .. import __version__`
    selection = dict((m, line) for m, line in GRAPH["tether.cli.selection"])
    assert "tether.arch.amd64.syscalls" in selection  # relative, two levels up
    assert ("tether._native" in {m for m, _ in GRAPH["tether.memory.view"]})  # `from .. import _native`
    assert layer_of("tether") == layer_of("tether.debugger")
    assert layer_of("tether.cli.main") == len(LAYERS) - 1
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["d"]]
    assert shortest_cycle(graph, "a", {"a", "b", "c"}) == ["a", "b", "c", "a"]


# The project rule: small modules, none over ~600 lines (split a longer one by
# job, keeping its old name as a module that re-exports the parts).
MAX_MODULE_LINES = 600


def long_modules(limit: int = MAX_MODULE_LINES) -> list[str]:
    """'path: N lines' of every .py and .c file under src/tether over `limit` lines."""
    out = []
    for path in sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.c")]):
        count = len(path.read_text(errors="replace").splitlines())
        if count > limit:
            out.append(f"{path.relative_to(SRC.parent)}: {count} lines")
    return out


@pytest.mark.timeout(10)
def test_no_module_is_longer_than_the_limit():
    too_long = long_modules()
    assert not too_long, (f"{len(too_long)} module(s) over {MAX_MODULE_LINES} lines (split them by job):\n  "
                          + "\n  ".join(too_long))


@pytest.mark.timeout(10)
def test_the_length_check_sees_py_and_c_files():
    """The length check itself covers both kinds of source (else it would
    pass vacuously): with a low enough limit it names a .py and a .c file."""
    names = long_modules(limit=50)
    assert any(".py:" in n for n in names) and any(".c:" in n for n in names), names
