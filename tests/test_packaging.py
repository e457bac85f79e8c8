"""A plain `pip install .` carries everything nncore needs: its subpackages (nncore.lab), the
MNIST subset and the weights.

The wheel is built the way `pip install .` builds it, in pip's isolated build environment
(setuptools fetched from PyPI as pyproject.toml asks), so the test needs nothing that a fresh
venv with ./scripts/test lacks (no `wheel` package installed by hand)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_the_package_data(tmp_path):
    # built from a copy of what the wheel is made of, so the checkout gets no build/ folder
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "nncore", source / "nncore",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
         "--quiet", "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("nncore-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("nncore/__init__.py", "nncore/network.py", "nncore/lab/__init__.py",
                     "nncore/lab/session.py", "nncore/data/mnist.npz",
                     "nncore/data/README.md", "nncore/pretrained/mnist-mlp.npz",
                     "nncore/pretrained/mnist-cnn.npz"):
        assert required in names, required
    assert not any(name.startswith(("app/", "web/", "tests/")) for name in names)
