"""What the package ships for its users' tools: type information, the
license, libdebug's `int` alias without a method shadowing the builtin."""
import pathlib

import tether
from tether import Debugger

PACKAGE = pathlib.Path(tether.__file__).parent
ROOT = PACKAGE.parents[1]


def test_py_typed_and_the_extension_stub_are_shipped():
    assert (PACKAGE / "py.typed").exists()
    assert (PACKAGE / "_native.pyi").exists()
    text = (ROOT / "pyproject.toml").read_text()
    assert '"py.typed"' in text and '"_native.pyi"' in text


def test_the_native_stub_names_every_function_of_the_extension():
    import ast
    from tether import _native
    stub = ast.parse((PACKAGE / "_native.pyi").read_text())
    declared = {n.name for n in stub.body if isinstance(n, ast.FunctionDef)}
    declared |= {n.target.id for n in stub.body if isinstance(n, ast.AnnAssign)}
    assert declared == {name for name in dir(_native) if not name.startswith("__")}


def test_libdebug_int_alias_is_interrupt_and_int_in_the_class_is_the_builtin():
    assert Debugger.int is Debugger.interrupt
    import inspect
    from tether.facade import flow
    source = inspect.getsource(flow.FlowMixin)
    assert "def int(" not in source


def test_license_is_spdx_with_its_file():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'license = "MIT"' in text and 'license-files = ["LICENSE"]' in text
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
