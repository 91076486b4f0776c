"""No module reads another object's or another module's private names (read
from the source with `ast`: nothing under src/tether is imported or run).

A private name starts with "_" and is not a dunder ("__name__"). Forbidden:
  - `expr._name`, read or written, and getattr/setattr/hasattr/delattr(expr,
    "_name") with the name as a literal string;
  - `from module import _name`, and `module._name` on an imported module.
Allowed:
  - `self._name` and `cls._name` (an object's own privates), `super()._name`;
  - `ClassName._name` inside the body of class ClassName;
  - `expr._name` when `_name` is a member of a class defined in the same
    file: assigned as `self._name`/`cls._name` in one of its methods, assigned
    in its class body, listed in its __slots__, or one of its methods. (A
    module's helper functions may work on the objects of its own classes.)
    The check goes by name: it cannot know expr's type, so a name that one of
    the file's own classes also uses is let through.
  - `_native`: the C extension's module name (tether._native) is public.
"""
from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "tether"
PUBLIC_DESPITE_UNDERSCORE = {"_native"}
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}
OWN = {"self", "cls"}


def is_private(name: str) -> bool:
    return (name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
            and name not in PUBLIC_DESPITE_UNDERSCORE)


def own_class_members(tree: ast.Module) -> set[str]:
    """Private names that a class defined in this file owns (see the module
    docstring)."""
    names = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name):
                            names.add(leaf.id)
                if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__"
                                                         for t in node.targets)):
                    for leaf in ast.walk(node.value):
                        if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                            names.add(leaf.value)
        for node in ast.walk(cls):
            if (isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del))
                    and isinstance(node.value, ast.Name) and node.value.id in OWN):
                names.add(node.attr)
    return {n for n in names if is_private(n)}


class Finder(ast.NodeVisitor):
    def __init__(self, path: Path, tree: ast.Module):
        self.path = path
        self.own_members = own_class_members(tree)
        self.classes: list[str] = []
        self.found: list[str] = []

    def report(self, node: ast.AST, text: str) -> None:
        rel = self.path.relative_to(SRC.parent)
        self.found.append(f"{rel}:{node.lineno}: {text}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def allowed_on(self, owner: ast.expr, name: str) -> bool:
        if isinstance(owner, ast.Name) and (owner.id in OWN or owner.id in self.classes):
            return True
        if (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                and owner.func.id == "super"):
            return True
        return name in self.own_members

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if is_private(node.attr) and not self.allowed_on(node.value, node.attr):
            self.report(node, ast.unparse(node))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if (isinstance(node.func, ast.Name) and node.func.id in ATTRIBUTE_FUNCTIONS
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str) and is_private(node.args[1].value)
                and not self.allowed_on(node.args[0], node.args[1].value)):
            self.report(node, ast.unparse(node))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        private = [a.name for a in node.names if is_private(a.name)]
        if private:
            self.report(node, f"from {'.' * node.level}{node.module or ''} import {', '.join(private)}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if any(is_private(part) for part in alias.name.split(".")):
                self.report(node, f"import {alias.name}")


def private_accesses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    finder = Finder(path, tree)
    finder.visit(tree)
    return finder.found


@pytest.mark.timeout(10)
def test_no_module_reads_private_names_of_others():
    counts = collections.Counter(line for path in sorted(PACKAGE.rglob("*.py"))
                                 for line in private_accesses(path))
    found = [line if n == 1 else f"{line} ({n} times)" for line, n in counts.items()]
    assert not found, (f"{sum(counts.values())} access(es) to private names of other objects or "
                       f"modules, at {len(found)} place(s) (give the owner a public interface):\n  "
                       + "\n  ".join(found))


SAMPLE = '''
from .x import _hidden, shown
from .. import _native as native
import tether._native
class Box:
    __slots__ = ("_slot",)
    _count = 0
    def __init__(self, other):
        self._mine = 1
        self.__dict__
        other._mine
        other._slot
        Box._count += 1
        super()._base
        native.read()
        other._theirs
    def _helper(self):
        return type(self)._theirs
def helper(box, dbg):
    box._helper()
    getattr(dbg, "_proc", None)
    getattr(box, "_mine")
    dbg.__class__
    return dbg._tracer.call
'''


@pytest.mark.timeout(10)
def test_the_check_itself():
    path = PACKAGE / "sample.py"   # only for the report's file name; never written
    tree = ast.parse(SAMPLE)
    finder = Finder(path, tree)
    finder.visit(tree)
    found = [line.split(": ", 1)[1] for line in finder.found]
    assert found == ["from .x import _hidden", "other._theirs", "type(self)._theirs",
                     "getattr(dbg, '_proc', None)", "dbg._tracer"]
