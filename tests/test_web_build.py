"""Fast checks of the static web build (no browser): what `python -m web.build` writes.

The browser behaviour is tested in tests/e2e/test_web.py; here: the files are there, the
default site carries the offline Pyodide the browser tests use, a failed build leaves the
previous site alone, every URL is relative, the chart specs and presets are the ones nncore
and charts define, the nncore zip imports on its own, and the worker's Python glue
(web/src/bridge.py) serves its commands under CPython too.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import nncore
import nncore.pretrained
from nncore.lab import SPEEDS, Session, experiment, vocabulary
from web import build as web_build

ROOT = Path(__file__).resolve().parents[1]
PYODIDE = ROOT / "web" / "node_modules" / "@pyodide" / "pyodide" / "dist"
# The string argument of import ... from, import(), fetch(), new Worker() and new URL().
URL_PATTERN = r'(?:import[^"]*from\s*|import\(\s*|fetch\(\s*|Worker\(\s*|new URL\(\s*)"([^"]+)"'
CHART_SOURCES = {
    "loss": {"loss"}, "accuracy": {"accuracy"}, "boundary": {"grid", "points"},
    "probabilities": {"probabilities"}, "confusion": {"confusion"},
}


def require_local_pyodide():
    if not (PYODIDE / "pyodide.js").is_file():
        pytest.fail("web/node_modules is missing: run `npm ci --prefix web`", pytrace=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A site built the default way: the local Pyodide 0.17.1 copied into it."""
    require_local_pyodide()
    out = tmp_path_factory.mktemp("site") / "out"
    web_build.build(out)
    return out


def test_site_has_every_file(site):
    for name in ("index.html", "favicon.svg", "config.json", "charts.json", "nncore.zip",
                 "src/main.js", "src/worker.js", "src/bridge.py", "src/style.css", "src/pad.js",
                 "vendor/vega.min.js", "vendor/vega-lite.min.js", "vendor/vega-embed.min.js",
                 "pyodide/pyodide.js"):
        assert (site / name).is_file(), name
    assert not list(site.rglob("__pycache__"))
    # the one drawing pad, the very file the Streamlit app mounts (app/pad.py)
    assert (site / "src" / "pad.js").read_bytes() == (ROOT / "pad" / "pad.js").read_bytes()
    assert '<link rel="icon" type="image/svg+xml" href="favicon.svg">' in (
        site / "index.html").read_text()


def test_default_site_is_self_contained_with_the_local_pyodide(site):
    assert json.loads((site / "config.json").read_text())["pyodide"] == "pyodide/"
    assert (PYODIDE / "pyodide.js").read_bytes() == (site / "pyodide" / "pyodide.js").read_bytes()


def test_cdn_is_an_explicit_option_pinned_to_a_release(tmp_path):
    assert web_build.place_pyodide("cdn", tmp_path) == web_build.CDN_PYODIDE
    assert re.fullmatch(r"https://cdn\.jsdelivr\.net/pyodide/v0\.(2[6-9]|[3-9]\d)\.\d+/full/",
                        web_build.CDN_PYODIDE)
    assert web_build.place_pyodide("https://example.org/py", tmp_path) == "https://example.org/py/"
    assert list(tmp_path.iterdir()) == []  # nothing copied for a URL


def test_every_url_in_the_page_is_relative(site):
    html = (site / "index.html").read_text()
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert not re.match(r"^([a-z]+:|/)", url), url
    for script in (site / "src").glob("*.js"):
        text = script.read_text()
        for url in re.findall(URL_PATTERN, text):
            assert not re.match(r"^([a-z]+:|/)", url), (script.name, url)
        assert "http://" not in text and "https://" not in text, script.name


def test_chart_specs_come_from_the_charts_package(site):
    from charts import export_specs

    specs = json.loads((site / "charts.json").read_text())
    assert specs == json.loads(json.dumps(export_specs()))
    for name, sources in CHART_SOURCES.items():
        text = json.dumps(specs[name])
        found = set(re.findall(r'"data": \{"name": "([a-z]+)"\}', text))
        assert found == sources, name
        assert "datasets" not in specs[name]  # the page streams the rows itself


def test_config_carries_the_experiments_and_the_vocabulary(site):
    config = json.loads((site / "config.json").read_text())
    for name in experiment.PRESETS:
        assert config["experiments"][name] == json.loads(json.dumps(experiment.default(name)))
    assert [name for name, _ in config["presets"]] == list(experiment.PRESETS)
    assert config["vocabulary"] == json.loads(json.dumps(vocabulary.describe()))
    assert config["losses"] == list(nncore.LOSSES)
    assert set(config["optimizers"]) == set(nncore.optimizers.OPTIONS)
    assert config["speeds"] == list(SPEEDS) and config["default_speed"] in SPEEDS


def test_nncore_zip_imports_on_its_own(site, tmp_path):
    with zipfile.ZipFile(site / "nncore.zip") as archive:
        names = archive.namelist()
        assert all(name.startswith("nncore/") for name in names)
        assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
        assert "nncore/lab/session.py" in names
        # the data files load after Ready: plain files of the site, not in the zip
        assert not any(name.endswith(".npz") for name in names)
        archive.extractall(tmp_path)
    put_data_files(site, tmp_path)  # as the worker does after Ready
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import nncore, nncore.datasets; "
            "assert nncore.__file__.startswith(sys.argv[1]), nncore.__file__; "
            "print(nncore.datasets.load_mnist()[0].shape)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                            text=True, cwd=str(tmp_path), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(10000, 28, 28)"


def put_data_files(site, directory):
    """The site's data files (config.json "data_files") into an unpacked nncore.zip."""
    for name in json.loads((site / "config.json").read_text())["data_files"]:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes((site / name).read_bytes())


def test_the_data_files_come_in_the_order_the_page_needs_them(site):
    config = json.loads((site / "config.json").read_text())
    assert config["data_files"] == ["nncore/pretrained/mnist-mlp.npz",
                                    "nncore/pretrained/mnist-cnn.npz", "nncore/data/mnist.npz"]
    for name in config["data_files"]:
        assert (site / name).read_bytes() == (ROOT / name).read_bytes(), name
    # numpy's package file downloads while Python boots (Pyodide 0.17's file packager)
    assert config["pyodide_preload"] == ["numpy.data"]


def test_local_pyodide_copies_the_runtime_and_numpy_only(site):
    copied = {path.name for path in (site / "pyodide").iterdir()}
    assert {"pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "numpy.js", "numpy.data"} <= copied
    assert "scipy.data" not in copied and "matplotlib.data" not in copied


# ------------------------------------------------------------------ all or nothing


def snapshot(folder: Path) -> dict:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def old_site(tmp_path):
    """A previous site in tmp/parent/out with a file of its own; nothing else in parent."""
    out = tmp_path / "parent" / "out"
    out.mkdir(parents=True)
    for name in web_build.SITE_MARKERS:
        (out / name).write_text("previous " + name)
    (out / "stale.txt").write_text("from the previous build")
    return out


def test_a_failed_build_leaves_the_previous_site_and_no_temporary_folder(old_site, tmp_path,
                                                                         monkeypatch):
    before = snapshot(old_site)
    with pytest.raises(web_build.BuildError, match="not a Pyodide distribution"):
        web_build.build(old_site, str(tmp_path / "nowhere"))
    assert snapshot(old_site) == before
    assert [path.name for path in old_site.parent.iterdir()] == ["out"]

    empty = tmp_path / "no-node-modules"
    empty.mkdir()
    monkeypatch.setattr(web_build, "NODE_MODULES", empty)
    with pytest.raises(web_build.BuildError, match="npm ci --prefix web"):
        web_build.build(old_site)
    with pytest.raises(web_build.BuildError, match="npm ci --prefix web"):
        web_build.build(tmp_path / "parent" / "new")
    assert snapshot(old_site) == before
    assert [path.name for path in old_site.parent.iterdir()] == ["out"]


def test_a_successful_build_replaces_the_previous_site_whole(old_site):
    require_local_pyodide()
    web_build.build(old_site)
    assert not (old_site / "stale.txt").exists()
    assert json.loads((old_site / "config.json").read_text())["pyodide"] == "pyodide/"
    assert [path.name for path in old_site.parent.iterdir()] == ["out"]


def test_a_folder_that_is_not_a_site_is_never_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(web_build.BuildError, match="not a web site"):
        web_build.build(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_errors_say_what_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "no-node-modules"
    empty.mkdir()
    monkeypatch.setattr(web_build, "NODE_MODULES", empty)
    with pytest.raises(web_build.BuildError, match=r"local Pyodide .* `npm ci --prefix web`"):
        web_build.place_pyodide(None, tmp_path)
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "charts", None)  # `import charts` fails, as without Altair
    with pytest.raises(web_build.BuildError) as error:
        web_build.build(tmp_path / "out")
    assert 'pip install -e ".[dev]"' in str(error.value)
    assert "npm ci --prefix web" in str(error.value)
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == [
        "no-node-modules"]


def test_help_names_what_the_build_needs(capsys):
    with pytest.raises(SystemExit):
        web_build.main(["--help"])
    text = capsys.readouterr().out
    for needed in ('pip install -e ".[app]"', '".[dev]"', "npm ci --prefix web",
                   "web/node_modules/@pyodide/pyodide/dist", "--pyodide cdn", "untested"):
        assert needed in text, needed


def test_command_line_reports_success_and_failure(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "web.build", "--out", str(tmp_path / "a")],
                        capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "web site written to" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "web.build", "--out", str(tmp_path / "b"),
                          "--pyodide", str(tmp_path / "nowhere")],
                         capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert bad.returncode == 1
    assert "not a Pyodide distribution" in bad.stderr and "Traceback" not in bad.stderr


# ------------------------------------------------------------------ the worker's Python glue


def test_bridge_is_python_38_syntax():
    source = (ROOT / "web" / "src" / "bridge.py").read_text()
    ast.parse(source, feature_version=(3, 8))


@pytest.fixture(scope="module")
def bridge(site, tmp_path_factory):
    """web/src/bridge.py run the way the worker runs it, but in CPython."""
    namespace = {"__name__": "bridge"}
    exec(compile((site / "src" / "bridge.py").read_text(), "bridge.py", "exec"), namespace)
    directory = tmp_path_factory.mktemp("bridge")
    call(namespace, "setup", archive=str(site / "nncore.zip"), directory=str(directory / "lib"))
    put_data_files(site, directory / "lib")
    call(namespace, "load_data")
    namespace["directory"] = directory
    return namespace


def call(namespace, command, **arguments):
    return json.loads(namespace["dispatch"](command, json.dumps(arguments)))


def run_out(namespace, seconds=0.05):
    """Step the bridge's session until the run ends; returns the reports."""
    reports = [call(namespace, "step", seconds=seconds)["result"]]
    while reports[-1]["status"] in ("running", "evaluating"):
        reports.append(call(namespace, "step", seconds=seconds)["result"])
    return reports


def test_bridge_describes_an_experiment_and_names_the_bad_layer(bridge):
    good = call(bridge, "describe", experiment=experiment.default("xor"))["result"]
    assert good["problem"] is None and good["summary"]["parameters"] == 13
    assert experiment.decode(good["link"]) == experiment.check(experiment.default("xor"))
    bad = experiment.default("xor")
    bad["spec"]["layers"][2]["units"] = 0
    answer = call(bridge, "describe", experiment=bad)["result"]
    assert answer["summary"] is None and answer["link"] is None
    assert answer["problem"]["index"] == 2 and "units" in answer["problem"]["message"]
    assert answer["problem"]["message"].startswith("layer 3 (dense)")  # counted from 1
    slow = dict(experiment.default("xor"), lr=-1)
    assert call(bridge, "describe", experiment=slow)["result"]["problem"]["field"] == "lr"


def test_bridge_steps_the_lab_session_like_cpython(bridge):
    settings = dict(experiment.default("xor"), epochs=50, optimizer="adam", lr=0.05,
                    batch_size=4, options={})
    assert call(bridge, "speed", name="full speed")["result"]["status"] in ("idle", "finished")
    assert call(bridge, "train", experiment=settings)["result"]["status"] == "running"
    reports = run_out(bridge, seconds=0.01)
    assert reports[-1]["outcome"] == "done" and reports[-1]["epoch"] == 50
    rows = call(bridge, "rows")["result"]
    assert len(rows["grid"]) == 31 * 31 and rows["version"] == reports[-1]["version"]

    local = Session()
    local.speed = None
    local.train(settings)
    while local.status != "finished":
        local.step(1.0)
    assert rows["loss"] == json.loads(json.dumps(local.rows()["loss"]))

    wrong = dict(settings, dataset="mnist")
    error = call(bridge, "train", experiment=wrong)["error"]
    assert error["field"] == "spec" and "784" in error["message"]


def test_bridge_pauses_steps_and_continues(bridge):
    settings = dict(experiment.default("xor"), epochs=100000)
    call(bridge, "speed", name="full speed")
    call(bridge, "train", experiment=settings)
    call(bridge, "step", seconds=0.05)
    paused = call(bridge, "pause")["result"]
    assert paused["status"] == "paused"
    assert call(bridge, "step", seconds=0.05)["result"]["epoch"] == paused["epoch"]
    call(bridge, "step_epoch", experiment=settings)
    assert run_out(bridge)[-1]["epoch"] == paused["epoch"] + 1
    stopped = call(bridge, "stop")["result"]
    assert stopped["outcome"] == "stopped"
    call(bridge, "continue", experiment=dict(settings, epochs=3))
    assert run_out(bridge)[-1]["epoch"] == stopped["epoch"] + 3


def test_bridge_rejects_a_corrupt_model_file_with_a_message(bridge):
    path = bridge["directory"] / "corrupt.npz"
    path.write_bytes(b"not a model at all")
    error = call(bridge, "import_model", path=str(path), name="corrupt.npz",
                 experiment=experiment.default("xor"))["error"]
    assert error["message"] and "Traceback" not in error["message"]


def test_bridge_imports_a_model_and_the_experiment_follows_it(bridge):
    path = bridge["directory"] / "cnn.npz"
    network = nncore.pretrained.load("mnist-cnn")
    path.write_bytes(nncore.io.to_bytes(network))
    answer = call(bridge, "import_model", path=str(path), name="cnn.npz",
                  experiment=experiment.default("xor"))["result"]
    assert answer["experiment"]["spec"] == network.to_spec()
    assert answer["experiment"]["dataset"] == "mnist"
    assert answer["model"]["origin"] == "imported from cnn.npz"
    assert call(bridge, "report")["result"]["status"] == "idle"


def test_bridge_says_when_mnist_is_missing(bridge, monkeypatch):
    datasets = bridge["nncore"].datasets
    monkeypatch.setattr(datasets, "MNIST_PATH", str(bridge["directory"] / "missing.npz"))
    answer = call(bridge, "load_data")["result"]
    assert answer["mnist"] is None and "MNIST is unavailable" in answer["mnist_error"]
    settings = dict(experiment.default("mnist-mlp"), train_size=100, epochs=1)
    error = call(bridge, "train", experiment=settings)["error"]
    assert "MNIST is unavailable" in error["message"]
    monkeypatch.undo()
    assert call(bridge, "load_data")["result"]["mnist"] == {"train": 10000, "test": 10000}


def test_bridge_ends_a_run_whose_step_failed(bridge, monkeypatch):
    call(bridge, "train", experiment=dict(experiment.default("xor"), epochs=5))
    session = bridge["state"]["session"]

    def broken(*arguments, **options):
        raise ValueError("the data broke")

    monkeypatch.setattr(session, "_take", broken)
    report = call(bridge, "step", seconds=1.0)["result"]
    assert report["outcome"] == "error" and "the data broke" in report["message"]
    assert call(bridge, "step", seconds=0.01)["result"]["status"] == "finished"
