"""_core.pyi against the compiled module: the docstrings are written once, in the bindings, and
the stubs must say the same (names, parameters, docstrings up to line breaks), so neither can
drift."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from miniflow import _core

STUBS = Path(inspect.getfile(_core)).with_name("_core.pyi")


def stub_functions():
    tree = ast.parse(STUBS.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def module_functions():
    return {
        name for name in dir(_core) if not name.startswith("_") and callable(getattr(_core, name))
    }


def bound_signature(name):
    """pybind11's first docstring line: name(param: type = default, ...) -> type."""
    return getattr(_core, name).__doc__.split("\n", 1)[0]


def test_the_stubs_declare_every_function_of_the_module_and_no_other():
    assert set(stub_functions()) == module_functions()


@pytest.mark.parametrize("name", sorted(module_functions()))
def test_each_stub_has_the_modules_parameters_and_docstring(name):
    stub = stub_functions()[name]
    parameters = re.findall(r"(\w+):", bound_signature(name).split("(", 1)[1].rsplit(")", 1)[0])
    assert [arg.arg for arg in stub.args.args] == parameters
    documented = getattr(_core, name).__doc__.split("\n", 1)[1]
    assert " ".join(ast.get_docstring(stub).split()) == " ".join(documented.split())
