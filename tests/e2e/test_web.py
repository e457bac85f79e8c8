"""The static web bundle in a real Chromium, with nncore running in a real Pyodide 0.17.1.

The site is built once per module with the offline Pyodide from npm
(web/node_modules/@pyodide/pyodide, installed by `npm ci --prefix web`), served over HTTP
from a sub-path (so relative URLs are exercised), and one page is shared by the tests
that need Python: starting Pyodide takes several seconds. Measured times are printed,
never asserted tightly.
"""
from __future__ import annotations

import base64
import functools
import http.server
import json
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import nncore
from nncore import preprocess

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "web" / "node_modules" / "@pyodide" / "pyodide" / "dist"
SCREENSHOT = ROOT / "docs" / "web.png"
SUB_PATH = "demo/nncore/"
READY_TIMEOUT_MS = 90_000
TRAIN_TIMEOUT_MS = 120_000
MEASURED = {}


def report(name, seconds):
    MEASURED[name] = seconds
    print(f"\n[web timing] {name}: {seconds:.3f} s")


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from web.build import build

    if not (PYODIDE / "pyodide.js").is_file():
        pytest.fail("the offline Pyodide is missing: run `npm ci --prefix web`", pytrace=False)
    root = tmp_path_factory.mktemp("web-root")
    build(root / SUB_PATH, str(PYODIDE))
    return root


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".wasm": "application/wasm", ".js": "text/javascript"})

    def log_message(self, *arguments):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a page closed mid-download (the hash tests) resets its connections


@pytest.fixture(scope="module")
def site_url(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{SUB_PATH}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app(browser, site_url):
    """One page with Python loaded, shared by the tests of this module."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    started = time.time()
    page.goto(site_url)
    page.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
    report("time to Ready", time.time() - started)
    yield page
    context.close()
    print("\n" + "\n".join(f"[web timing] {name:<50} {seconds:.3f} s"
                           for name, seconds in MEASURED.items()))


def history(page):
    return page.evaluate("window.nncoreWeb.history")


def train(page, timeout=TRAIN_TIMEOUT_MS):
    """Press Train and wait for the run's final result; returns (history, seconds)."""
    page.click('[data-tab="train"]')
    started = time.time()
    page.click("#train")
    page.wait_for_function(
        "() => { const web = window.nncoreWeb; "
        "return !web.training && web.history && web.history.result; }",
        timeout=timeout,
    )
    return history(page), time.time() - started


def set_fields(page, **values):
    page.click('[data-tab="train"]')
    for selector, value in values.items():
        page.fill("#" + selector.replace("_", "-"), str(value))


def load_preset(page, name):
    page.click(f'[data-preset="{name}"]')
    page.wait_for_function("() => window.nncoreWeb.specValid")


def draw(page, points):
    """One stroke through `points` (fractions of the pad), with real mouse events."""
    box = page.locator("#pad").bounding_box()
    x0, y0 = box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=3)
    page.mouse.up()


def import_file(page, path):
    page.click('[data-tab="model"]')
    page.set_input_files("#import", str(path))
    page.wait_for_function(
        "(name) => document.getElementById('model-message').textContent"
        ".startsWith('Imported ' + name)",
        arg=path.name,
    )


def vertical_stroke():
    return [(0.5, 0.15 + 0.7 * i / 20) for i in range(21)]


def loop():
    # an ellipse, taller than wide, closed: a zero
    angles = [2 * math.pi * i / 48 for i in range(49)]
    return [(0.5 + 0.22 * math.sin(angle), 0.5 - 0.32 * math.cos(angle)) for angle in angles]


def read_digit(page, points, model):
    page.click('[data-tab="draw"]')
    page.select_option("#draw-model", model)
    page.click("#clear")
    draw(page, points)
    page.wait_for_function("() => { const last = window.nncoreWeb.lastPrediction; "
                           "return last && (last.digit !== null || last.error); }")
    return page.evaluate("window.nncoreWeb.lastPrediction")


def canvas_pixels(page):
    """The pad's RGBA pixels, (280, 280, 4) uint8, as the page sends them to Python."""
    data = page.evaluate("""() => {
        const pad = document.getElementById('pad');
        const image = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height);
        return {width: image.width, height: image.height, pixels: Array.from(image.data)};
    }""")
    return np.array(data["pixels"], dtype=np.uint8).reshape(data["height"], data["width"], 4)


def python_probabilities(network, pixels):
    image = preprocess.canvas_to_mnist(pixels)
    outputs = network.predict(image.reshape((1,) + tuple(network.input_shape))).reshape(-1)
    return np.asarray(outputs, dtype=np.float64)


# ------------------------------------------------------------------ tests


def test_page_reaches_ready_naming_each_load_step(app):
    steps = app.locator("#load-steps li")
    texts = steps.all_inner_texts()
    assert [text.split()[0] for text in texts] == ["Python", "NumPy", "nncore", "data"]
    for text in texts:
        assert text.endswith(" s"), text  # each step shows its time
    assert app.inner_text("#status") == "Ready"
    assert app.problems == []


XOR_TRAINING = nncore.spec.TRAINING["xor"]  # the preset's settings, the same in both hosts


def test_xor_preset_trains_below_001_with_chart_points(app):
    load_preset(app, "xor")
    result, seconds = train(app)
    epochs = XOR_TRAINING["epochs"]
    report("XOR training (%d epochs)" % epochs, seconds)
    losses = [epoch["loss"] for epoch in result["epochs"]]
    assert len(losses) == epochs and losses[-1] < 0.01
    first_below = next(i for i, loss in enumerate(losses) if loss < 0.01)
    report("XOR time to loss < 0.01 (worker clock)", result["epochs"][first_below]["seconds"])
    points = app.evaluate("window.nncoreWeb.charts.loss.view.data('loss').length")
    assert points >= epochs
    cells = app.evaluate("window.nncoreWeb.charts.boundary.view.data('grid').length")
    assert cells > 100
    assert "Done: %d epochs" % epochs in app.inner_text("#train-status")
    # The README screenshot: the trained XOR net, its error curve and decision boundary,
    # all inside the 1280x900 viewport (the charts' grid puts them side by side).
    app.wait_for_timeout(300)
    viewport = app.viewport_size
    for selector in ("#train-status", "#chart-loss", "#chart-accuracy", "#card-boundary"):
        box = app.locator(selector).bounding_box()
        assert box is not None and box["width"] > 0, selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (selector, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (selector, box)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    app.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000


def test_browser_xor_loss_curve_equals_cpython(app):
    load_preset(app, "xor")
    set_fields(app, seed=7, epochs=120)
    result, _ = train(app)
    browser_losses = np.array([epoch["loss"] for epoch in result["epochs"]])

    network = nncore.Network.from_spec(nncore.spec.PRESETS["xor"], seed=7)
    network.compile(loss=XOR_TRAINING["loss"], optimizer=XOR_TRAINING["optimizer"],
                    lr=XOR_TRAINING["lr"], **nncore.optimizers.OPTIONS[XOR_TRAINING["optimizer"]])
    x, y = nncore.datasets.xor()
    events = network.train_iter(x, y, 120, batch_size=XOR_TRAINING["batch_size"],
                                validation_split=0.0, shuffle=True, seed=7)
    python_losses = np.array([event["loss"] for event in events if event["type"] == "epoch"])
    assert browser_losses.shape == python_losses.shape == (120,)
    np.testing.assert_allclose(browser_losses, python_losses, rtol=0, atol=1e-5)


def test_stop_ends_a_run_between_batches(app):
    load_preset(app, "xor")
    set_fields(app, epochs=200000)
    app.click("#train")
    app.wait_for_function("() => window.nncoreWeb.history.epochs.length > 20")
    clicked = time.time()
    app.click("#stop")
    app.wait_for_function("() => window.nncoreWeb.history.result", timeout=10_000)
    report("Stop click to 'Stopped' on the page", time.time() - clicked)
    result = history(app)
    assert result["result"]["stopped"] is True
    halted = result["result"]["stop_milliseconds"] / 1000
    report("Stop message to halted run, in the worker", halted)
    done = len(result["epochs"])
    assert 20 < done < 200000
    app.wait_for_timeout(300)
    assert len(history(app)["epochs"]) == done  # nothing arrives after the stop
    assert "Stopped after" in app.inner_text("#train-status")
    assert app.is_enabled("#train") and not app.is_enabled("#stop")


def test_mnist_mlp_trains_an_epoch_and_reports_accuracy(app):
    load_preset(app, "mnist-mlp")
    set_fields(app, size=600, epochs=1)
    result, seconds = train(app)
    report("MNIST MLP, 1 epoch on 600 digits (+ evaluation)", seconds)
    final = result["result"]
    assert final["epochs_done"] == 1
    assert 0.3 < final["test_accuracy"] <= 1.0  # chance is 0.1
    text = app.inner_text("#test-accuracy")
    assert "test accuracy" in text and "%" in text
    cells = app.evaluate("window.nncoreWeb.charts.confusion.view.data('confusion')")
    assert len(cells) == 100
    assert sum(cell["count"] for cell in cells) == final["test_samples"]


@pytest.mark.parametrize("model", ["mnist-mlp", "mnist-cnn"])
def test_pretrained_model_reads_a_drawn_one_and_zero(app, model):
    available = app.evaluate("window.nncoreWeb.pretrained")
    assert model in available, f"pretrained {model} is missing from nncore/pretrained/"
    one = read_digit(app, vertical_stroke(), model)
    assert one["digit"] == 1, one
    report(f"predict with {model}, pointer-up to bars drawn", one["milliseconds"] / 1000)
    zero = read_digit(app, loop(), model)
    assert zero["digit"] == 0, zero
    assert app.inner_text("#prediction") == "0"
    assert "% sure" in app.inner_text("#confidence")
    app.click("#clear")
    assert "Draw a digit" in app.inner_text("#confidence")
    assert app.inner_text("#prediction") == "?"


def test_export_then_import_gives_identical_predictions_and_cpython_agrees(app, tmp_path):
    load_preset(app, "mnist-mlp")
    set_fields(app, size=300, epochs=1, seed=1)
    train(app)
    model_a = read_digit(app, loop(), "trained")
    app.click('[data-tab="model"]')
    with app.expect_download() as download:
        app.click("#export")
    exported = tmp_path / "from-browser.npz"
    download.value.save_as(exported)

    # The file opens in CPython's nncore and predicts what the browser predicted.
    network = nncore.io.from_bytes(exported.read_bytes())
    expected = python_probabilities(network, canvas_pixels(app))
    np.testing.assert_allclose(model_a["probabilities"], expected, atol=1e-5)

    # Train another model (another seed), then bring the exported one back.
    set_fields(app, seed=2)
    train(app)
    model_b = read_digit(app, loop(), "trained")
    assert model_b["probabilities"] != model_a["probabilities"]
    app.click('[data-tab="model"]')
    import_file(app, exported)
    again = read_digit(app, loop(), "trained")
    assert again["probabilities"] == model_a["probabilities"]


def test_model_written_by_cpython_imports_in_the_page(app, tmp_path):
    x_train, y_train, _, _ = nncore.datasets.load_mnist()
    network = nncore.Network.from_spec(nncore.spec.PRESETS["mnist-mlp"], seed=11)
    network.compile(loss="cross_entropy", optimizer="adam", lr=0.001)
    network.fit(x_train[::20].reshape(-1, 784), y_train[::20], epochs=1, batch_size=32, seed=0)
    path = tmp_path / "from-python.npz"
    path.write_bytes(nncore.io.to_bytes(network))

    import_file(app, path)
    assert app.locator("#layers .layer").count() == len(nncore.spec.PRESETS["mnist-mlp"]["layers"])
    reading = read_digit(app, vertical_stroke(), "trained")
    expected = python_probabilities(network, canvas_pixels(app))
    np.testing.assert_allclose(reading["probabilities"], expected, atol=1e-5)


def test_corrupt_model_file_gives_a_message(app, tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 this is not a model")
    app.click('[data-tab="model"]')
    app.set_input_files("#import", str(path))
    error = app.locator("#model-error")
    error.wait_for(state="visible")
    assert "broken.npz is not a usable nncore model" in error.inner_text()
    assert "Traceback" not in app.inner_text("body")
    assert app.inner_text("#status") == "Ready"


def test_bad_layer_option_shows_spec_error_at_that_layer(app):
    load_preset(app, "xor")
    app.fill('#layers [data-index="2"] [data-option="units"]', "0")
    app.press('#layers [data-index="2"] [data-option="units"]', "Tab")
    message = app.locator('#layers [data-index="2"] .layer-error')
    message.wait_for(state="visible")
    assert "units" in message.inner_text()
    assert not app.is_enabled("#train")
    load_preset(app, "xor")
    assert app.locator(".layer-error:visible").count() == 0
    assert app.problems == []


def test_bad_url_hash_shows_default_preset_and_a_notice(page, site_url):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(site_url + "#spec=%%%not-base64!!")
    notice = page.locator("#notice")
    notice.wait_for(state="visible")
    assert "could not be read" in notice.inner_text()
    assert page.locator("#layers .layer").count() == len(nncore.spec.PRESETS["xor"]["layers"])
    assert page.input_value("#input-shape") == "2"
    assert problems == []


def test_url_hash_carries_a_network(page, site_url):
    spec = nncore.spec.PRESETS["mnist-cnn"]
    encoded = base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")
    page.goto(site_url + "#spec=" + encoded)
    page.wait_for_selector('#layers [data-type="conv2d"]')
    assert page.locator("#layers .layer").count() == len(spec["layers"])
    assert page.input_value("#input-shape") == "28, 28, 1"
    assert page.locator("#notice").is_hidden()
