"""nncore inside the real Pyodide 0.17.1 of the web site (Python 3.8, NumPy 1.17, whose default
integer is 32 bits), in a real Chromium: shape arithmetic gives CPython's answers, and model
files written and read there behave as they do here.

A blank page loads Pyodide from web/node_modules/@pyodide/pyodide (installed by
`npm ci --prefix web`) and nncore from a zip of this checkout's package, both served
over local HTTP; Python runs in the page through pyodide.runPython.
"""
from __future__ import annotations

import functools
import http.server
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nncore

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "web" / "node_modules" / "@pyodide" / "pyodide" / "dist"
READY_TIMEOUT_MS = 120_000

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>nncore in Pyodide</title>
<script src="pyodide/pyodide.js"></script>
<script>
window.ready = (async () => {
  const base = new URL(".", location.href).href;
  const pyodide = await loadPyodide({ indexURL: base + "pyodide/" });
  await pyodide.loadPackage("numpy");
  const archive = await fetch("nncore.zip").then((response) => response.arrayBuffer());
  window.FS = pyodide.FS || pyodide._module.FS;  // pyodide._module.FS in 0.17
  window.FS.writeFile("/nncore.zip", new Uint8Array(archive));
  pyodide.runPython(
    "import sys, zipfile\\n" +
    "zipfile.ZipFile('/nncore.zip').extractall('/lib')\\n" +
    "sys.path.insert(0, '/lib')\\n" +
    "import nncore");
  window.pyodide = pyodide;
  return pyodide.runPython("import sys, numpy; sys.version.split()[0] + ' ' + numpy.__version__");
})();
</script>
"""

# The stacks the issue found in the static site: 65536 * 65537 wrapped around to 65536
# (accepted, 655,370 parameters), 99998 * 99998 * 8 to -1,607,578,592 ("output would be empty").
STACKS = {
    "wide-flatten": {"input_shape": [65536, 65537, 1], "layers": [
        {"type": "flatten"}, {"type": "dense", "units": 10}]},
    "huge-image": {"input_shape": [100000, 100000, 3], "layers": [
        {"type": "conv2d", "filters": 8, "kernel_size": 3}, {"type": "flatten"},
        {"type": "dense", "units": 10}]},
    "past-64-bits": {"input_shape": [2**32, 2**32, 2], "layers": [
        {"type": "flatten"}, {"type": "dense", "units": 1}]},
}


def spec_error(spec):
    """What nncore says about a stack: the SpecError message, or None when it is accepted."""
    try:
        nncore.Network.from_spec(spec)
    except nncore.SpecError as error:
        return str(error)
    return None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".wasm": "application/wasm", ".js": "text/javascript"})

    def log_message(self, *arguments):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not (PYODIDE / "pyodide.js").is_file():
        pytest.fail("the offline Pyodide is missing: run `npm ci --prefix web`", pytrace=False)
    root = tmp_path_factory.mktemp("pyodide-page")
    (root / "index.html").write_text(PAGE)
    (root / "pyodide").symlink_to(PYODIDE, target_is_directory=True)
    with zipfile.ZipFile(root / "nncore.zip", "w") as archive:
        for path in sorted((ROOT / "nncore").rglob("*.py")):
            archive.write(path, path.relative_to(ROOT).as_posix())
    from tests.test_io import issue_bomb  # the 1 GB bomb of the issue, 1 MB on disk

    (root / "bomb.npz").write_bytes(issue_bomb())
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def python(browser, site):
    """Runs Python source in the page's Pyodide and returns the JSON its last line makes."""
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(site)
    page.wait_for_function("() => window.pyodide !== undefined || window.failed",
                           timeout=READY_TIMEOUT_MS)
    versions = page.evaluate("window.ready")
    assert versions.startswith("3.8.") and " 1.17." in versions, versions
    assert problems == []

    def run(source):
        return json.loads(page.evaluate("(source) => window.pyodide.runPython(source)", source))

    run.page = page
    yield run
    context.close()


def test_the_browser_numpy_has_32_bit_default_integers(python):
    """The premise: there, np.prod wraps where Python ints do not."""
    answer = python("import json, numpy\n"
                    "json.dumps([numpy.array([1]).dtype.itemsize,"
                    " int(numpy.prod([65536, 65537, 1]))])")
    assert answer == [4, 65536]


def test_spec_errors_in_the_browser_equal_cpythons(python):
    expected = {name: spec_error(spec) for name, spec in STACKS.items()}
    assert expected["wide-flatten"] == (
        "layer 2 (dense): the stack reaches 42,950,328,330 parameters here, over the limit "
        "of 50,000,000")
    assert "799,968,000,554 parameters" in expected["huge-image"]
    found = python(
        "import json, nncore\n"
        "def spec_error(spec):\n"
        "    try:\n"
        "        nncore.Network.from_spec(spec)\n"
        "    except nncore.SpecError as error:\n"
        "        return str(error)\n"
        "stacks = json.loads(%r)\n"
        "json.dumps({name: spec_error(spec) for name, spec in stacks.items()})"
        % json.dumps(STACKS))
    assert found == expected


def test_summary_counts_in_the_browser_equal_cpythons(python):
    spec = {"input_shape": [300, 300, 3], "layers": [
        {"type": "conv2d", "filters": 4}, {"type": "maxpool2d", "pool_size": 2},
        {"type": "flatten"}, {"type": "dense", "units": 10}]}
    network = nncore.Network.from_spec(spec)
    found = python(
        "import json, nncore\n"
        "network = nncore.Network.from_spec(json.loads(%r))\n"
        "json.dumps([network.count_parameters(),"
        " [list(row['output_shape']) for row in network.summary_rows()]])"
        % json.dumps(spec))
    assert found == [network.count_parameters(),
                     [list(row["output_shape"]) for row in network.summary_rows()]]


def test_model_files_resume_and_refuse_the_bomb_in_the_browser(python):
    """NumPy 1.17 writes and reads the file (optimizer state included): 2 epochs, save,
    load, 1 epoch == 3 epochs; the issue's bomb is refused there too."""
    python.page.evaluate("""async () => {
        const bomb = await fetch("bomb.npz").then((response) => response.arrayBuffer());
        window.FS.writeFile("/bomb.npz", new Uint8Array(bomb));
    }""")
    answer = python(
        "import json, numpy, nncore\n"
        "x, y = nncore.datasets.xor()\n"
        "def network():\n"
        "    net = nncore.Network.from_spec(nncore.spec.PRESETS['xor'], dtype='float64')\n"
        "    return net.compile(loss='mse', optimizer='adam', lr=0.05)\n"
        "straight = network()\n"
        "straight.fit(x, y, epochs=3, batch_size=2, shuffle=False)\n"
        "first = network()\n"
        "first.fit(x, y, epochs=2, batch_size=2, shuffle=False)\n"
        "resumed = nncore.io.load(nncore.io.to_bytes(first), dtype='float64')\n"
        "resumed.fit(x, y, epochs=1, batch_size=2, shuffle=False)\n"
        "gap = max(float(abs(a - b).max())\n"
        "          for a, b in zip(resumed.parameters(), straight.parameters()))\n"
        "try:\n"
        "    nncore.load('/bomb.npz')\n"
        "    bomb = 'accepted'\n"
        "except nncore.ModelFileError as error:\n"
        "    bomb = str(error)\n"
        "json.dumps({'gap': gap, 'iterations': resumed.optimizer.iterations, 'bomb': bomb,\n"
        "            'weights': [p.tolist() for p in straight.parameters()]})")
    assert answer["gap"] <= 1e-6 and answer["iterations"] == 6
    assert answer["bomb"] == "not an nncore model file: it has no 'spec' entry"
    # and the browser's run is CPython's run
    straight = nncore.Network.from_spec(nncore.spec.PRESETS["xor"], dtype="float64")
    straight.compile(loss="mse", optimizer="adam", lr=0.05)
    x, y = nncore.datasets.xor()
    straight.fit(x, y, epochs=3, batch_size=2, shuffle=False)
    for found, expected in zip(answer["weights"], straight.parameters()):
        np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)


def test_training_with_int64_labels_in_the_browser_equals_cpython(python):
    """Integer labels as nncore.datasets gives them (int64) on a NumPy whose index type is
    32-bit: cross_entropy's label indexing must not depend on the default integer."""
    program = (
        "import json, numpy as np, nncore\n"
        "from nncore.layers import Dense\n"
        "x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4)\n"
        "y = np.array([0, 1, 2, 0, 1, 2], dtype=np.int64)\n"
        "network = nncore.Network([Dense(3, activation='softmax')], input_shape=(4,), seed=0)\n"
        "network.compile(loss='cross_entropy', optimizer='sgd', lr=0.5)\n"
        "history = network.fit(x, y, epochs=3, batch_size=3, seed=0)\n"
        "json.dumps([float(value) for value in history.history['loss']])")
    namespace = {}
    exec(program.rsplit("\n", 1)[0], namespace)
    expected = [float(value) for value in namespace["history"].history["loss"]]
    assert np.allclose(python(program), expected, rtol=1e-5)


def test_the_browser_numpy_picks_its_products_and_trains_as_cpython(python):
    """Pyodide's NumPy has no BLAS: nncore.products reads that from its configuration and
    computes narrow products with np.matmul, wide ones with np.einsum (CPython here: np.dot).
    A network with a conv (narrow kernel) and a 40-unit dense layer (wide) then trains to
    CPython's losses and weights."""
    from nncore import products

    program = (
        "import json, numpy as np, nncore\n"
        "from nncore import products\n"
        "spec = {'input_shape': [9, 9, 2], 'layers': [\n"
        "    {'type': 'conv2d', 'filters': 4, 'kernel_size': 3, 'activation': 'relu'},\n"
        "    {'type': 'maxpool2d', 'pool_size': 2}, {'type': 'flatten'},\n"
        "    {'type': 'dense', 'units': 40, 'activation': 'tanh'},\n"
        "    {'type': 'dense', 'units': 3}]}\n"
        "rng = np.random.RandomState(3)\n"
        "x = rng.normal(size=(24, 9, 9, 2))\n"
        "y = np.arange(24) % 3\n"
        "network = nncore.Network.from_spec(spec, dtype='float64', seed=0)\n"
        "network.compile(loss='cross_entropy', optimizer='sgd', lr=0.1)\n"
        "history = network.fit(x, y, epochs=3, batch_size=8, seed=0)\n"
        "json.dumps({'blas': products.blas_linked(), 'choice': products.choice(),\n"
        "            'loss': [float(value) for value in history.history['loss']],\n"
        "            'weights': [p.tolist() for p in network.parameters()]})")
    found = python(program)
    assert found["blas"] is False
    assert found["choice"] == products._decide(False) == {
        product: {"narrow": "matmul", "wide": "einsum"} for product in products.PRODUCTS}
    namespace = {}
    exec(program.split("json.dumps")[0], namespace)
    expected = namespace["history"].history["loss"]
    assert products.choice()["times"] == {"narrow": "dot", "wide": "dot"}
    assert found["loss"][-1] < found["loss"][0]  # it learned
    np.testing.assert_allclose(found["loss"], expected, rtol=1e-10, atol=0)
    for weights, native in zip(found["weights"], namespace["network"].parameters()):
        np.testing.assert_allclose(weights, native, rtol=0, atol=1e-10)
