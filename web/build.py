"""Assemble the static web site: `python -m web.build --out DIR [--pyodide DIR | cdn | URL]`.

What the build needs, from a fresh clone:

    pip install -e ".[app]"     # (or ".[dev]") the chart specs come from charts/, i.e. Altair
    npm ci --prefix web         # vega, vega-lite, vega-embed and the Pyodide 0.17.1 runtime

The site is self-contained: by default the Pyodide 0.17.1 distribution that npm installs in
web/node_modules/@pyodide/pyodide/dist (the runtime the browser tests use) is copied into it,
numpy included, the other packages left out. `--pyodide DIR` copies another local
distribution; `--pyodide cdn` (the pinned jsdelivr release CDN_PYODIDE) or `--pyodide URL`
makes the page load Pyodide from that address instead, which no test here exercises.

    DIR/index.html            the page (web/index.html) and its icon (web/favicon.svg)
    DIR/src/                  page scripts, styles, the worker and its Python glue (web/src),
                              and the drawing pad both hosts share (pad/pad.js)
    DIR/vendor/               vega, vega-lite, vega-embed (from web/node_modules)
    DIR/nncore.zip            the nncore package's code (what the page needs to be Ready)
    DIR/nncore/data/, DIR/nncore/pretrained/
                              its .npz files (the MNIST subset, the pretrained weights), as
                              plain files: the worker fetches them while Python boots and
                              hands them to Python after Ready (config.json "data_files")
    DIR/config.json           where Pyodide is, presets, layer options, losses, optimizers
    DIR/charts.json           the Vega-Lite spec of every chart, from charts.export_specs()
    DIR/pyodide/              the runtime plus the numpy package (not with a URL)

Every URL inside the site is relative, so it can be served from any sub-path. The site is
written only when the whole build succeeds: it is built in a temporary folder next to DIR,
which then takes DIR's place; a failed build leaves the previous DIR as it was.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
NNCORE = ROOT / "nncore"
NODE_MODULES = WEB / "node_modules"
PAD = ROOT / "pad" / "pad.js"  # the drawing pad, shared with the Streamlit app (app/pad.py)

# The default runtime: the distribution `npm ci --prefix web` installs, under NODE_MODULES.
LOCAL_PYODIDE = ("@pyodide", "pyodide", "dist")
# `--pyodide cdn`: a pinned Pyodide release on the official CDN (not exercised by the tests).
CDN_PYODIDE = "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"
# The only Pyodide package the site loads (nncore needs nothing else).
PYODIDE_PACKAGES = ("numpy",)
# nncore's data files (the MNIST subset, the pretrained weights) stay out of nncore.zip: the
# first view needs none of them, so they load after Ready. The pretrained MLP comes first
# (the Draw tab's default model), the MNIST subset last.
LAZY_SUFFIX = ".npz"
LAZY_ORDER = ("pretrained/mnist-mlp.npz", "pretrained/mnist-cnn.npz")
# npm files copied into vendor/: (package, file inside the package).
VENDOR_FILES = (
    ("vega", "build/vega.min.js"),
    ("vega-lite", "build/vega-lite.min.js"),
    ("vega-embed", "build/vega-embed.min.js"),
)
# Files a site holds at its top level; a folder with other content is not replaced.
SITE_MARKERS = ("index.html", "config.json")
INSTALL_HINT = 'pip install -e ".[dev]" (or ".[app]") and npm ci --prefix web'
SKIPPED_NAMES = {"__pycache__", ".pytest_cache", ".DS_Store"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class BuildError(RuntimeError):
    """The site cannot be built; the message says what is missing."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m web.build", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True,
                        help="directory to write the site into (replaced when the build succeeds)")
    parser.add_argument(
        "--pyodide",
        default=None,
        help="a local Pyodide distribution to copy into the site (default: "
        "web/node_modules/@pyodide/pyodide/dist, from `npm ci --prefix web`), or `cdn` "
        "for %s, or any URL ending in / (the URL options are untested here)" % CDN_PYODIDE,
    )
    arguments = parser.parse_args(argv)
    try:
        summary = build(Path(arguments.out), arguments.pyodide)
    except BuildError as error:
        print(f"web build failed: {error}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def build(out: Path, pyodide: str | None = None) -> str:
    """Write the site into `out`, replacing it only on success; returns a one-line summary.

    pyodide: None for the local distribution under NODE_MODULES, a directory to copy,
    "cdn" for CDN_PYODIDE, or a URL.
    """
    out = Path(out)
    if out.exists() and not _replaceable(out):
        raise BuildError(f"{out} exists and is not a web site built here (no "
                         f"{' / '.join(SITE_MARKERS)}): choose an empty or new --out")
    _import_charts()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        pyodide_url = write_site(staging, pyodide)
        files = sum(1 for path in staging.rglob("*") if path.is_file())
        _replace(out, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return f"web site written to {out} ({files} files, Pyodide from {pyodide_url})"


def write_site(target: Path, pyodide: str | None) -> str:
    """Every file of the site into the (empty) folder `target`; returns the Pyodide URL."""
    shutil.copy2(WEB / "index.html", target / "index.html")
    shutil.copy2(WEB / "favicon.svg", target / "favicon.svg")
    copy_tree(WEB / "src", target / "src")
    shutil.copy2(PAD, target / "src" / PAD.name)
    copy_vendor(target / "vendor")
    write_nncore_zip(target / "nncore.zip")
    data_files = copy_data_files(target)
    pyodide_url = place_pyodide(pyodide, target)
    config = site_config(pyodide_url)
    config["data_files"] = data_files
    config["pyodide_preload"] = preloadable(target / "pyodide")
    write_json(target / "config.json", config)
    write_json(target / "charts.json", chart_specs())
    return pyodide_url


def _replaceable(out: Path) -> bool:
    """An empty folder, or one holding a site (so `--out .` cannot wipe a repository)."""
    if not out.is_dir():
        return False
    return not any(out.iterdir()) or all((out / name).is_file() for name in SITE_MARKERS)


def _replace(out: Path, staging: Path) -> None:
    """Put `staging` where `out` is: the old site is moved aside, then removed."""
    if not out.exists():
        staging.rename(out)
        return
    old = staging.with_name(staging.name.replace(".building-", ".old-"))
    out.rename(old)
    try:
        staging.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _import_charts() -> None:
    """Fail before writing anything when the chart specs cannot be exported."""
    sys.path.insert(0, str(ROOT))
    try:
        import charts  # noqa: F401  (imports Altair)
    except ImportError as error:
        raise BuildError(f"the build imports charts, which needs Altair ({error}): "
                         f"{INSTALL_HINT}") from None


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


def nncore_files():
    """(path, name inside the site) of every file of the nncore package, in order."""
    if not (NNCORE / "__init__.py").is_file():
        raise BuildError(f"{NNCORE} is not a Python package (no __init__.py)")
    for path in sorted(NNCORE.rglob("*")):
        relative = path.relative_to(ROOT)
        if path.is_dir() or SKIPPED_NAMES.intersection(relative.parts):
            continue
        if path.suffix in SKIPPED_SUFFIXES:
            continue
        yield path, relative.as_posix()


def write_nncore_zip(target: Path) -> None:
    """nncore/ as a zip whose entries start with `nncore/`: its code, without the .npz data."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, name in nncore_files():
            if path.suffix != LAZY_SUFFIX:
                archive.write(path, name)


def copy_data_files(target: Path) -> list:
    """nncore's .npz files copied to the same relative paths in the site; returns those
    paths, the pretrained MLP first and the MNIST subset last (the order they load in)."""
    names = [name for path, name in nncore_files() if path.suffix == LAZY_SUFFIX]

    def rank(name):
        ahead = [index for index, end in enumerate(LAZY_ORDER) if name.endswith(end)]
        return (ahead[0] if ahead else len(LAZY_ORDER), name)

    names.sort(key=rank)
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return names


def place_pyodide(pyodide: str | None, out: Path) -> str:
    """The Pyodide index URL the worker will use: a copy under pyodide/, or the given URL."""
    if pyodide == "cdn":
        return CDN_PYODIDE
    if pyodide is not None and "://" in pyodide:
        return pyodide if pyodide.endswith("/") else pyodide + "/"
    if pyodide is None:
        source = NODE_MODULES.joinpath(*LOCAL_PYODIDE)
        if not (source / "pyodide.js").is_file():
            raise BuildError(f"the local Pyodide ({source}) is missing: run `npm ci --prefix web`"
                             " first (or pass --pyodide cdn to load it from the CDN)")
    else:
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


def preloadable(copy: Path) -> list:
    """The package data files the worker may download while Python boots, for a copied
    Pyodide 0.17 (`<name>.data` files fetched by Emscripten's file packager, which takes
    them from Module.getPreloadedPackage); none for a URL or a wheel-based Pyodide."""
    if not (copy / "packages.json").is_file():
        return []
    return [name + ".data" for name in PYODIDE_PACKAGES if (copy / (name + ".data")).is_file()]


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
    """What the page needs before Python is up, all read from nncore.lab: each preset's
    whole experiment, the settings' choices and defaults, and the layer vocabulary."""
    sys.path.insert(0, str(ROOT))
    try:
        import nncore
        from nncore import optimizers
        from nncore.lab import DEFAULT_SPEED, SPEEDS, experiment, vocabulary
    except ImportError as error:
        raise BuildError(f"cannot import nncore from {ROOT}: {error}") from None
    return {
        "pyodide": pyodide_url,
        "nncore_version": getattr(nncore, "__version__", "unknown"),
        "default_preset": experiment.DEFAULT_PRESET,
        "experiments": {name: experiment.default(name) for name in experiment.PRESETS},
        # [name, label] pairs: JSON objects are written with sorted keys, lists keep the order
        "presets": list(experiment.PRESET_LABELS.items()),
        "datasets": list(experiment.DATASETS.items()),
        "plane_datasets": list(experiment.PLANE_DATASETS),  # they use points, noise, test_split
        "losses": list(nncore.LOSSES),
        "optimizers": optimizers.OPTIONS,
        "default_lr": {name: experiment.default_lr(name) for name in optimizers.OPTIONS},
        "speeds": list(SPEEDS),
        "default_speed": DEFAULT_SPEED,
        "vocabulary": vocabulary.describe(),
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
