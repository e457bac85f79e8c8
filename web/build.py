"""Assemble the static web site: `python -m web.build --out DIR [--pyodide URL | DIR]`.

The site is self-contained except for Pyodide, which comes from the official CDN by default
(a pinned release) or, with `--pyodide DIR`, from a local distribution copied into the site:

    DIR/index.html            the page (web/index.html)
    DIR/src/                  page scripts, styles, the worker and its Python glue (web/src)
    DIR/vendor/               vega, vega-lite, vega-embed (from web/node_modules)
    DIR/nncore.zip            the nncore package, with its MNIST subset and pretrained weights
    DIR/config.json           where Pyodide is, presets, layer options, losses, optimizers
    DIR/charts.json           the Vega-Lite spec of every chart, from charts.export_specs()
    DIR/pyodide/              only with --pyodide DIR: the runtime plus the numpy package

Every URL inside the site is relative, so it can be served from any sub-path.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from pathlib import Path

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
NNCORE = ROOT / "nncore"
NODE_MODULES = WEB / "node_modules"

# The runtime visitors get by default: a pinned Pyodide release on the official CDN.
DEFAULT_PYODIDE = "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"
# The only Pyodide package the site loads (nncore needs nothing else).
PYODIDE_PACKAGES = ("numpy",)
# npm files copied into vendor/: (package, file inside the package).
VENDOR_FILES = (
    ("vega", "build/vega.min.js"),
    ("vega-lite", "build/vega-lite.min.js"),
    ("vega-embed", "build/vega-embed.min.js"),
)
SKIPPED_NAMES = {"__pycache__", ".pytest_cache", ".DS_Store"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class BuildError(RuntimeError):
    """The site cannot be built; the message says what is missing."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web.build", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="directory to write the site into")
    parser.add_argument(
        "--pyodide",
        default=DEFAULT_PYODIDE,
        help="Pyodide: a URL ending in / (default %(default)s) or a local distribution "
        "directory to copy into the site (e.g. web/node_modules/@pyodide/pyodide/dist)",
    )
    arguments = parser.parse_args(argv)
    try:
        summary = build(Path(arguments.out), arguments.pyodide)
    except BuildError as error:
        print(f"web build failed: {error}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def build(out: Path, pyodide: str = DEFAULT_PYODIDE) -> str:
    """Write the site into `out` (replacing its previous content); returns a one-line summary."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    shutil.copy2(WEB / "index.html", out / "index.html")
    copy_tree(WEB / "src", out / "src")
    copy_vendor(out / "vendor")
    write_nncore_zip(out / "nncore.zip")
    pyodide_url = place_pyodide(pyodide, out)
    write_json(out / "config.json", site_config(pyodide_url))
    write_json(out / "charts.json", chart_specs())
    files = sum(1 for path in out.rglob("*") if path.is_file())
    return f"web site written to {out} ({files} files, Pyodide from {pyodide_url})"


def copy_tree(source: Path, target: Path) -> None:
    patterns = [*SKIPPED_NAMES, *("*" + suffix for suffix in SKIPPED_SUFFIXES)]
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*patterns))


def copy_vendor(target: Path) -> None:
    target.mkdir(parents=True)
    for package, name in VENDOR_FILES:
        source = NODE_MODULES / package / name
        if not source.is_file():
            raise BuildError(f"{source} is missing: run `npm ci --prefix web` first")
        shutil.copy2(source, target / source.name)


def write_nncore_zip(target: Path) -> None:
    """nncore/ as a zip whose entries start with `nncore/` (data and weights included)."""
    if not (NNCORE / "__init__.py").is_file():
        raise BuildError(f"{NNCORE} is not a Python package (no __init__.py)")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(NNCORE.rglob("*")):
            relative = path.relative_to(ROOT)
            if path.is_dir() or SKIPPED_NAMES.intersection(relative.parts):
                continue
            if path.suffix in SKIPPED_SUFFIXES:
                continue
            archive.write(path, relative.as_posix())


def place_pyodide(pyodide: str, out: Path) -> str:
    """The Pyodide index URL the worker will use: the given URL, or a copy under pyodide/."""
    if "://" in pyodide:
        return pyodide if pyodide.endswith("/") else pyodide + "/"
    source = Path(pyodide)
    if not (source / "pyodide.js").is_file():
        raise BuildError(f"{source} is not a Pyodide distribution (no pyodide.js in it)")
    copy_pyodide(source, out / "pyodide")
    return "pyodide/"


def copy_pyodide(source: Path, target: Path) -> None:
    """Copy the runtime and the packages the site loads, leaving the other packages out.

    Pyodide lists its packages in packages.json (0.17: `<name>.js` + `<name>.data` files) or
    pyodide-lock.json (0.23+: one wheel per package); every file of a package we do not
    load is skipped, everything else (the runtime itself) is copied.
    """
    other_packages = package_files(source) - needed_package_files(source)
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file() and path.name not in other_packages:
            shutil.copy2(path, target / path.name)


def _package_index(source: Path) -> dict:
    """{package name: (file names, dependencies)} from either kind of Pyodide index."""
    lock = source / "pyodide-lock.json"
    if lock.is_file():
        packages = json.loads(lock.read_text())["packages"]
        return {
            name: ({entry["file_name"]}, list(entry.get("depends", [])))
            for name, entry in packages.items()
        }
    legacy = source / "packages.json"
    if legacy.is_file():
        dependencies = json.loads(legacy.read_text())["dependencies"]
        return {
            name: ({name + ".js", name + ".data"}, list(depends))
            for name, depends in dependencies.items()
        }
    raise BuildError(f"{source} has neither pyodide-lock.json nor packages.json")


def package_files(source: Path) -> set:
    return {name for files, _ in _package_index(source).values() for name in files}


def needed_package_files(source: Path) -> set:
    index = _package_index(source)
    needed, pending = set(), list(PYODIDE_PACKAGES)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in index:
            raise BuildError(f"the Pyodide distribution in {source} has no package {name!r}")
        needed.add(name)
        pending.extend(index[name][1])
    return {file for name in needed for file in index[name][0]}


def site_config(pyodide_url: str) -> dict:
    """What the page needs before Python is up: presets, layer options, losses, optimizers."""
    sys.path.insert(0, str(ROOT))
    try:
        import nncore
        from nncore import optimizers, spec
    except ImportError as error:
        raise BuildError(f"cannot import nncore from {ROOT}: {error}") from None
    return {
        "pyodide": pyodide_url,
        "nncore_version": getattr(nncore, "__version__", "unknown"),
        "presets": spec.PRESETS,
        "training": spec.TRAINING,
        "training_defaults": spec.TRAINING_DEFAULTS,
        "layer_options": spec.LAYER_OPTIONS,
        "losses": list(nncore.LOSSES),
        "optimizers": optimizers.OPTIONS,
    }


def chart_specs() -> dict:
    """Every chart's Vega-Lite spec, from the same Altair functions the Streamlit app draws."""
    sys.path.insert(0, str(ROOT))
    try:
        from charts import export_specs
    except ImportError as error:
        raise BuildError(f"cannot import charts (pip install altair): {error}") from None
    return export_specs()


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=1, sort_keys=True, default=_plain))


def _plain(value):
    """Tuples and NumPy scalars inside presets become JSON lists and numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot write {value!r} to JSON")


if __name__ == "__main__":
    sys.exit(main())
