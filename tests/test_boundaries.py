"""The boundaries of DESIGN.md, read off the import statements (parsed with ast, not run).

- nncore, all of it, imports only NumPy and the standard library (it runs in Pyodide);
- nncore's core (everything outside nncore/lab) never imports nncore.lab;
- charts/ imports neither host (app, web); neither host imports the other.

Every `import x`, `from x import y` and `from . import y` counts, wherever it stands (inside a
function, under `try`), and so does `importlib.import_module("x")` / `__import__("x")` with
a literal name. The checks are also run over small made-up trees, so that each one is seen
to catch the import it forbids.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIRD_PARTY_ALLOWED_IN_NNCORE = {"numpy"}
SKIPPED = {"node_modules", "__pycache__"}


def python_files(root: Path, folder: str):
    """Every .py file under root/folder (node_modules and caches left out), sorted."""
    return sorted(path for path in (root / folder).rglob("*.py")
                  if not SKIPPED.intersection(path.relative_to(root).parts))


def package_of(path: Path, root: Path):
    """The dotted package a file's relative imports start from, as a list of names."""
    return list(path.relative_to(root).parent.parts)


def imports(path: Path, root: Path):
    """(line, module) for every module the file imports. `from a import b` gives both a and
    a.b (b may be a module); relative imports are resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = package_of(path, root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield node.lineno, module
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{module}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and _call_name(node.func) in (
                    "importlib.import_module", "import_module", "__import__"):
            yield node.lineno, node.args[0].value


def _call_name(function) -> str:
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
        return f"{function.value.id}.{function.attr}"
    return ""


def is_standard_library(name: str) -> bool:
    top = name.split(".")[0]
    if top == "__future__":
        return True
    if hasattr(sys, "stdlib_module_names"):  # Python 3.10+
        return top in sys.stdlib_module_names
    if top in sys.builtin_module_names:
        return True
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        return False
    if spec.origin in ("built-in", "frozen"):
        return True
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    origin = Path(spec.origin).resolve()
    return stdlib in origin.parents and "site-packages" not in origin.parts


def where(path: Path, root: Path, line: int, module: str) -> str:
    return f"{path.relative_to(root).as_posix()}:{line} imports {module}"


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# ----------------------------------------------------------------------------- the checks


def outside_numpy_and_the_standard_library(root: Path):
    """What any nncore module imports beyond NumPy, the standard library and nncore."""
    found = []
    for path in python_files(root, "nncore"):
        for line, module in imports(path, root):
            top = module.split(".")[0]
            if top == "nncore" or top in THIRD_PARTY_ALLOWED_IN_NNCORE:
                continue
            if not is_standard_library(module):
                found.append(where(path, root, line, module))
    return sorted(set(found))


def core_imports_of_the_lab(root: Path):
    """Where a module of nncore outside nncore/lab imports nncore.lab."""
    lab = root / "nncore" / "lab"
    return sorted({where(path, root, line, module)
                   for path in python_files(root, "nncore") if lab not in path.parents
                   for line, module in imports(path, root) if is_within(module, "nncore.lab")})


def imports_of(root: Path, folder: str, forbidden):
    """Where a module under root/folder imports one of the top-level packages `forbidden`."""
    return sorted({where(path, root, line, module)
                   for path in python_files(root, folder)
                   for line, module in imports(path, root)
                   if any(is_within(module, name) for name in forbidden)})


# ----------------------------------------------------------------------------- this tree


def test_the_checks_see_the_trees_python_files():
    names = {path.relative_to(ROOT).as_posix() for folder in ("nncore", "web", "charts", "app")
             for path in python_files(ROOT, folder)}
    for expected in ("nncore/network.py", "nncore/lab/session.py", "web/build.py",
                     "web/src/bridge.py", "charts/__init__.py", "app/streamlit_app.py"):
        assert expected in names
    modules = {module for _, module in imports(ROOT / "nncore" / "network.py", ROOT)}
    assert "numpy" in modules  # the parser sees the imports it checks


def test_nncore_imports_only_numpy_and_the_standard_library():
    assert outside_numpy_and_the_standard_library(ROOT) == []


def test_nncore_core_never_imports_the_lab():
    assert core_imports_of_the_lab(ROOT) == []


def test_web_never_imports_the_streamlit_app():
    assert imports_of(ROOT, "web", {"app"}) == []


def test_the_streamlit_app_never_imports_web():
    assert imports_of(ROOT, "app", {"web"}) == []


def test_charts_import_neither_host():
    assert imports_of(ROOT, "charts", {"app", "web"}) == []


# ----------------------------------------------------------------------------- each check bites


CLEAN = {
    "nncore/__init__.py": "from .network import Network\n",
    "nncore/network.py": "from __future__ import annotations\nimport json\nimport numpy as np\n"
                         "from . import layers\n",
    "nncore/layers.py": "import numpy\n",
    "nncore/pretrained/__init__.py": "from ..network import Network\n",
    "nncore/lab/__init__.py": "from .session import Session\n",
    "nncore/lab/session.py": "from .. import network\nfrom ..layers import numpy\n",
    "charts/__init__.py": "import altair as alt\n",
    "web/build.py": "import json\nfrom nncore.lab import vocabulary\nimport charts\n",
    "web/src/bridge.py": "import nncore\n",
    "app/streamlit_app.py": "import streamlit as st\nfrom app import state\nimport charts\n",
}


def tree(tmp_path: Path, changes=None) -> Path:
    """A small made-up repository: CLEAN with `changes` ({path: source}) made to it."""
    files = dict(CLEAN, **(changes or {}))
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    return tmp_path


def every_check(root: Path) -> dict:
    return {
        "nncore": outside_numpy_and_the_standard_library(root),
        "core": core_imports_of_the_lab(root),
        "web": imports_of(root, "web", {"app"}),
        "app": imports_of(root, "app", {"web"}),
        "charts": imports_of(root, "charts", {"app", "web"}),
    }


def test_a_clean_made_up_tree_passes_every_check(tmp_path):
    assert every_check(tree(tmp_path)) == {"nncore": [], "core": [], "web": [], "app": [],
                                           "charts": []}


@pytest.mark.parametrize("path, source, check, found", [
    ("nncore/layers.py", "import numpy\nimport scipy.special\n", "nncore",
     "nncore/layers.py:2 imports scipy.special"),
    ("nncore/lab/session.py", "def plot():\n    import matplotlib.pyplot as plt\n", "nncore",
     "nncore/lab/session.py:2 imports matplotlib.pyplot"),
    ("nncore/layers.py", "try:\n    from streamlit import cache_data\nexcept ImportError:\n"
     "    pass\n", "nncore", "nncore/layers.py:2 imports streamlit"),
    ("nncore/layers.py", "import importlib\nJS = importlib.import_module('js')\n", "nncore",
     "nncore/layers.py:2 imports js"),
    ("nncore/network.py", "from .lab import session\n", "core",
     "nncore/network.py:1 imports nncore.lab"),
    ("nncore/network.py", "from . import lab\n", "core",
     "nncore/network.py:1 imports nncore.lab"),
    ("nncore/network.py", "def later():\n    import nncore.lab.session\n", "core",
     "nncore/network.py:2 imports nncore.lab.session"),
    ("nncore/pretrained/__init__.py", "from ..lab.session import Session\n", "core",
     "nncore/pretrained/__init__.py:1 imports nncore.lab.session"),
    ("web/build.py", "from app import state\n", "web", "web/build.py:1 imports app"),
    ("web/src/bridge.py", "import app.panels.train\n", "web",
     "web/src/bridge.py:1 imports app.panels.train"),
    ("app/streamlit_app.py", "from web.build import site_config\n", "app",
     "app/streamlit_app.py:1 imports web.build"),
    ("charts/__init__.py", "from app import chart_view\n", "charts",
     "charts/__init__.py:1 imports app"),
    ("charts/__init__.py", "import web\n", "charts", "charts/__init__.py:1 imports web"),
])
def test_each_check_catches_the_import_it_forbids(tmp_path, path, source, check, found):
    results = every_check(tree(tmp_path, {path: source}))
    assert found in results[check], results
    assert [name for name, listed in results.items() if listed] == [check], results
