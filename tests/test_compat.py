"""nncore must run on Python 3.8 + NumPy 1.17 (Pyodide 0.17.1) and import nothing but numpy.

Static checks over every .py file in nncore/ (recursively): its imports, the
`from __future__ import annotations` line, Python 3.8 syntax, and a short list of NumPy and
Python APIs that are newer than that floor.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nncore"
MODULES = sorted(PACKAGE.rglob("*.py"))

# standard-library modules that Python 3.8 does not have
NEWER_STDLIB = {"graphlib", "tomllib", "zoneinfo", "_zoneinfo"}

# attributes of numpy (np.X) that NumPy 1.17 does not have
NEWER_NUMPY = {
    "concat", "trapezoid", "pow", "astype", "unstack", "permute_dims", "isdtype",
    "broadcast_shapes", "exceptions", "dtypes", "vecdot", "matrix_transpose", "cumulative_sum",
    "acos", "asin", "atan", "atan2", "bitwise_count", "long",
}
# names that are newer wherever they appear (Generator.permuted / spawn, stride tricks)
NEWER_ANYWHERE = {"sliding_window_view", "permuted", "spawn", "vector_norm", "matrix_norm",
                  "removeprefix", "removesuffix"}


def source(path):
    return path.read_text(encoding="utf-8")


def relative(path):
    return str(path.relative_to(PACKAGE.parent))


def test_the_package_is_found():
    names = {relative(path) for path in MODULES}
    assert {"nncore/__init__.py", "nncore/layers.py", "nncore/network.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_parses_as_python_3_8(path):
    ast.parse(source(path), filename=str(path), feature_version=(3, 8))


def imported_modules(tree):
    """Top-level names of absolute imports; relative imports are nncore itself."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0], node.lineno


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_imports_only_numpy_and_the_standard_library(path):
    stdlib = set(sys.stdlib_module_names) - NEWER_STDLIB
    foreign = [
        f"{name} (line {line})"
        for name, line in imported_modules(ast.parse(source(path)))
        if name not in stdlib and name not in ("numpy", "nncore")
    ]
    assert not foreign, f"{relative(path)} imports {', '.join(foreign)}"


def test_the_import_check_catches_a_foreign_import():
    tree = ast.parse("import scipy\nfrom torch import nn\nfrom . import layers\nimport os.path\n")
    assert [name for name, _ in imported_modules(tree)] == ["scipy", "torch", "os"]


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_has_future_annotations(path):
    tree = ast.parse(source(path))
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return  # a docstring-only package marker: there is nothing to annotate
    future = [
        node for node in body
        if isinstance(node, ast.ImportFrom) and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
    ]
    assert future, f"{relative(path)} lacks 'from __future__ import annotations'"


def newer_api_uses(tree):
    """(name, line) for every use of an API from the lists above."""
    numpy_names = {"np", "numpy"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            if isinstance(base, ast.Name) and base.id in numpy_names and node.attr in NEWER_NUMPY:
                yield "np." + node.attr, node.lineno
            elif node.attr in NEWER_ANYWHERE:
                yield node.attr, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and "numpy" in node.module:
            for alias in node.names:
                if alias.name in NEWER_ANYWHERE | NEWER_NUMPY:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.Call):
            function = node.func
            called = (function.attr if isinstance(function, ast.Attribute)
                      else function.id if isinstance(function, ast.Name) else None)
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            # np.asarray(copy=...) is NumPy 2; np.array(copy=False / None) changed meaning in 2
            if called == "asarray" and "copy" in keywords:
                yield "asarray(copy=)", node.lineno
            if called == "array" and "copy" in keywords:
                value = keywords["copy"]
                if not (isinstance(value, ast.Constant) and value.value is True):
                    yield "array(copy=False/None)", node.lineno
            # zip(strict=) is Python 3.10
            if called == "zip" and "strict" in keywords:
                yield "zip(strict=)", node.lineno


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_uses_no_api_newer_than_numpy_1_17(path):
    uses = [f"{name} (line {line})" for name, line in newer_api_uses(ast.parse(source(path)))]
    assert not uses, f"{relative(path)} uses {', '.join(uses)}"


def test_the_api_check_catches_newer_calls():
    tree = ast.parse(
        "from numpy.lib.stride_tricks import sliding_window_view\n"
        "a = np.concat([x, y])\n"
        "b = rng.permuted(x)\n"
        "c = np.asarray(x, copy=False)\n"
        "d = np.array(x, copy=False)\n"
        "e = np.trapezoid(x)\n"
        "f = np.concatenate([x]).astype(np.float32, copy=False)\n"
        "g = np.array(x, copy=True)\n"
    )
    found = sorted(newer_api_uses(tree), key=lambda use: use[1])
    assert found == [("sliding_window_view", 1), ("np.concat", 2), ("permuted", 3),
                     ("asarray(copy=)", 4), ("array(copy=False/None)", 5), ("np.trapezoid", 6)]
