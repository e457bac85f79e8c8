"""The static web bundle in a real Chromium, with nncore running in a real Pyodide 0.17.1.

The site is built once per module the default way (`web.build` with no --pyodide: the
Pyodide 0.17.1 that `npm ci --prefix web` puts in web/node_modules is copied into it),
served over HTTP from a sub-path (so relative URLs are exercised) and loaded offline: every
request that is not for the local server is aborted and makes the test fail. One page is
shared by the tests that need Python: starting Pyodide takes several seconds. Measured
times are printed, never asserted tightly.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from lab_helpers import SAME_EVERYWHERE, assert_same_curve, cpython_run, same_everywhere
from static_site import serving

import nncore
import nncore.lab.inside
import nncore.lab.plane
import nncore.lab.vocabulary
from nncore import preprocess
from nncore.lab import Session
from nncore.lab import experiment as lab_experiment

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "web" / "node_modules" / "@pyodide" / "pyodide" / "dist"
PRETRAINED = ROOT / "nncore" / "pretrained"
SUB_PATH = "demo/nncore/"
READY_TIMEOUT_MS = 90_000
TRAIN_TIMEOUT_MS = 120_000
MEASURED = {}


def measured(name, seconds):
    MEASURED[name] = seconds
    print(f"\n[web timing] {name}: {seconds:.3f} s")


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from web.build import build

    if not (PYODIDE / "pyodide.js").is_file():
        pytest.fail("the offline Pyodide is missing: run `npm ci --prefix web`", pytrace=False)
    root = tmp_path_factory.mktemp("web-root")
    build(root / SUB_PATH)  # the default build: self-contained, Pyodide copied from npm's
    return root


@pytest.fixture(scope="module")
def site_url(site):
    with serving(site) as url:
        yield f"{url}/{SUB_PATH}"


@pytest.fixture(scope="module")
def app(browser, site_url):
    """One page with Python loaded, shared by the tests of this module."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.outside = offline(context, site_url)
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    started = time.time()
    page.goto(site_url)
    page.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
    measured("time to Ready", time.time() - started)
    yield page
    context.close()
    assert page.outside == [], "the page reached beyond the local server: %s" % page.outside
    print("\n" + "\n".join(f"[web timing] {name:<50} {seconds:.3f} s"
                           for name, seconds in MEASURED.items()))


def offline(context, site_url):
    """Abort every request of `context` that is not for the local server; returns the list
    of the URLs it refused (the site must need none)."""
    local = site_url.split(SUB_PATH)[0]
    refused = []

    def refuse(route):
        refused.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(local), refuse)
    return refused


def report(page):
    return page.evaluate("window.nncoreWeb.report")


def rows(page):
    return page.evaluate("window.nncoreWeb.rows")


def experiment(page):
    return page.evaluate("window.nncoreWeb.experiment")


def wait_until_drawn(page, timeout=TRAIN_TIMEOUT_MS):
    """Until the run has finished and the charts show the session's last rows."""
    page.wait_for_function(
        "() => { const web = window.nncoreWeb; return web.report && "
        "web.report.status === 'finished' && web.rows && web.rows.version >= web.report.version; }",
        timeout=timeout)


def start(page, button="#train"):
    """Click Train (Continue, Step) and wait until the page shows the new run's first report:
    until then it shows the last run's, whose epoch counter means nothing for this one."""
    before = page.evaluate("window.nncoreWeb.report.version")
    page.click(button)
    page.wait_for_function("(before) => window.nncoreWeb.report.version > before && "
                           "window.nncoreWeb.report.status !== 'finished'", arg=before)


def train(page, button="#train", timeout=TRAIN_TIMEOUT_MS):
    """Press Train (or Continue) at full speed and wait for the end of the run and its
    charts; returns (rows, seconds)."""
    page.click('[data-tab="train"]')
    page.select_option("#speed", "full speed")
    before = page.evaluate("window.nncoreWeb.report.version")
    started = time.time()
    page.click(button)
    page.wait_for_function("(before) => window.nncoreWeb.report.version > before", arg=before)
    wait_until_drawn(page, timeout)
    return rows(page), time.time() - started


def wait_for_status(page, status, timeout=TRAIN_TIMEOUT_MS):
    page.wait_for_function("(status) => window.nncoreWeb.report.status === status", arg=status,
                           timeout=timeout)


def set_fields(page, **values):
    """Type into the Train tab's settings (size=..., epochs=..., lr=...), as a person would."""
    page.click('[data-tab="train"]')
    for name, value in values.items():
        selector = "#" + name.replace("_", "-")
        page.fill(selector, str(value))
        page.press(selector, "Tab")
    wait_described(page)


def wait_described(page):
    """Until Python has checked the experiment as it now stands."""
    page.wait_for_function("() => window.nncoreWeb.problem !== undefined")


def load_preset(page, name):
    page.click('[data-tab="train"]')
    page.click(f'[data-preset="{name}"]')
    page.wait_for_function("() => window.nncoreWeb.problem === null")


def stop_seconds(page):
    """Click Stop in the page; seconds until the page shows the run finished (page clock)."""
    return page.evaluate("""async () => {
        const started = performance.now();
        document.getElementById('stop').click();
        while (window.nncoreWeb.report.status !== 'finished') {
            await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return (performance.now() - started) / 1000; }""")


def train_losses(rows):
    return [row["loss"] for row in rows["loss"] if row["series"] == "train"]


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
    wait_described(page)


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
    # the data (MNIST, pretrained weights) loads after Ready; then every step shows its time
    app.wait_for_function("() => !window.nncoreWeb.data.loading", timeout=READY_TIMEOUT_MS)
    steps = app.locator("#load-steps li")
    texts = steps.all_inner_texts()
    assert [text.split()[0] for text in texts] == ["Python", "NumPy", "nncore", "data"]
    for text in texts:
        assert text.endswith(" s"), text  # each step shows its time
    assert app.inner_text("#status") == "Ready"
    assert app.evaluate("window.nncoreWeb.data.pretrained") == ["mnist-mlp", "mnist-cnn"]
    assert app.problems == [] and app.outside == []


XOR = lab_experiment.default("xor")  # the preset's experiment, the same in both hosts


def test_xor_preset_trains_below_001_with_chart_points(app, tmp_path):
    load_preset(app, "xor")
    result, seconds = train(app)
    epochs = XOR["epochs"]
    measured("XOR training at full speed (%d epochs)" % epochs, seconds)
    final = report(app)
    assert final["outcome"] == "done" and final["epoch"] == epochs
    losses = train_losses(result)
    assert losses[-1] < 0.01
    assert app.evaluate("window.nncoreWeb.charts.loss.view.data('loss').length") == len(
        result["loss"]) > 100
    assert app.evaluate("window.nncoreWeb.charts.boundary.view.data('grid').length") == 31 * 31
    assert app.locator("#answers tbody tr").count() == 4
    verdict = app.locator("#verdict")
    assert verdict.get_attribute("data-kind") == "learned"
    assert "Finished · Epoch %d / %d" % (epochs, epochs) in app.inner_text("#train-status")
    # status, error, accuracy and boundary all inside the 1280x900 viewport
    app.wait_for_timeout(300)
    viewport = app.viewport_size
    for selector in ("#train-status", "#chart-loss", "#chart-accuracy", "#card-boundary"):
        box = app.locator(selector).bounding_box()
        assert box is not None and box["width"] > 0, selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (selector, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (selector, box)
    app.screenshot(path=str(tmp_path / "web-xor.png"))


def test_the_default_run_can_be_watched_as_the_error_falls(app):
    """At the default speed the articles' 1000-epoch run takes about ten seconds: the epoch
    counter and the error chart grow in between, and the boundary is redrawn as it learns."""
    load_preset(app, "xor")
    app.select_option("#speed", "100 epochs/s")
    start(app)
    seen = []
    for _ in range(6):
        app.wait_for_timeout(700)
        seen.append((report(app)["epoch"], len(app.evaluate(
            "window.nncoreWeb.charts.loss.rows.loss || []"))))
    app.click("#stop")
    wait_for_status(app, "finished")
    epochs = [epoch for epoch, _ in seen]
    points = [count for _, count in seen]
    assert all(b > a for a, b in zip(epochs, epochs[1:])), seen
    assert epochs[-1] < XOR["epochs"]  # still going after four seconds: it can be watched
    assert 40 <= epochs[1] - epochs[0] <= 160, seen  # about 100 epochs per second
    assert points[-1] > points[0], seen


def test_browser_loss_curve_equals_cpythons_session(app):
    """The same experiment, the same seed: the page (Pyodide 0.17.1) and nncore.lab in
    CPython give the same loss curve."""
    load_preset(app, "xor")
    set_fields(app, seed=7, epochs=120)
    result, _ = train(app)
    browser = np.array(train_losses(result))

    settings = dict(XOR, seed=7, epochs=120)
    session = Session()
    session.speed = None
    session.train(settings)
    while session.status != "finished":
        session.step(1.0)
    python = np.array([row["loss"] for row in session.rows()["loss"] if row["series"] == "train"])
    assert browser.shape == python.shape == (120,)
    np.testing.assert_allclose(browser, python, rtol=1e-5, atol=0)
    assert report(app)["epoch"] == session.report()["epoch"]


def test_pause_resume_step_and_continue_move_the_epoch_counter(app):
    load_preset(app, "xor")
    set_fields(app, epochs=100000)
    app.select_option("#speed", "100 epochs/s")
    start(app)
    app.wait_for_function("() => window.nncoreWeb.report.epoch >= 20")
    app.click("#pause")
    wait_for_status(app, "paused")
    assert app.inner_text("#pause") == "Resume"
    paused_at = report(app)["epoch"]
    app.wait_for_timeout(600)
    assert report(app)["epoch"] == paused_at  # nothing trains while paused
    app.click("#step")
    app.wait_for_function("(at) => window.nncoreWeb.report.epoch === at + 1 && "
                          "window.nncoreWeb.report.status === 'paused'", arg=paused_at)
    app.wait_for_timeout(400)
    assert report(app)["epoch"] == paused_at + 1  # exactly one epoch
    assert "Paused" in app.inner_text("#train-status")
    app.click("#pause")  # Resume
    app.wait_for_function("(at) => window.nncoreWeb.report.epoch > at + 10", arg=paused_at + 1)
    app.click("#stop")
    wait_for_status(app, "finished")
    stopped_at = report(app)["epoch"]
    assert "Stopped" in app.inner_text("#train-status")
    # Continue trains the same model on: its epochs count on from where it stopped
    set_fields(app, epochs=30)
    _, _ = train(app, button="#continue")
    assert report(app)["epoch"] == stopped_at + 30
    epochs = [row["step"] for row in rows(app)["loss"] if row["series"] == "train"]
    assert epochs[-1] == stopped_at + 30 and epochs[0] == 1  # one curve across both runs


def test_stop_ends_a_run_between_batches(app):
    load_preset(app, "xor")
    set_fields(app, epochs=100000)
    app.select_option("#speed", "full speed")
    start(app)
    app.wait_for_function("() => window.nncoreWeb.report.epoch > 20")
    seconds = stop_seconds(app)
    measured("Stop click to a finished run", seconds)
    assert seconds < 1.0
    done = report(app)["epoch"]
    assert 20 < done < 100000
    app.wait_for_timeout(400)
    assert report(app)["epoch"] == done  # nothing arrives after the stop
    assert "Stopped" in app.inner_text("#train-status")
    assert app.is_enabled("#train") and not app.is_enabled("#stop")


def test_stop_during_the_final_evaluation_ends_within_a_second(app):
    load_preset(app, "mnist-cnn")
    set_fields(app, size=200, epochs=1)
    app.select_option("#speed", "full speed")
    start(app)
    wait_for_status(app, "evaluating")
    app.wait_for_function("() => window.nncoreWeb.report.evaluated >= 500")
    seconds = stop_seconds(app)
    measured("Stop during the test evaluation", seconds)
    assert seconds < 1.0
    assert report(app)["test_accuracy"] is None  # the evaluation did not run to its end


def test_xor_at_lr_10_ends_with_a_warning_not_a_success(app):
    load_preset(app, "xor")
    set_fields(app, lr=10, epochs=300)
    train(app)
    assert report(app)["outcome"] == "done" and report(app)["epoch"] == 300  # no divergence
    # the run is deterministic: it ends, every time, with the did-not-learn warning, the one
    # CPython's session gives for the same experiment
    verdict = app.locator("#verdict")
    assert verdict.get_attribute("data-kind") == "did_not_learn"
    text = verdict.inner_text()
    assert text == ("Did not learn: 2 of 4 points right after 300 epochs. "
                    "The learning rate 10 is too large for sgd: try 0.1."), text
    session = Session()
    session.speed = None
    session.train(dict(XOR, lr=10, epochs=300))
    while session.status != "finished":
        session.step(1.0)
    expected = session.report()["verdict"]
    assert expected["kind"] == "did_not_learn"
    assert text == expected["title"] + " " + expected["advice"]


def test_mnist_mlp_trains_and_is_scored_on_the_whole_test_set(app):
    # the experiment every host is held to (tests/test_app.py runs it in the Streamlit app)
    load_preset(app, SAME_EVERYWHERE["preset"])
    set_fields(app, size=SAME_EVERYWHERE["train_size"], epochs=SAME_EVERYWHERE["epochs"])
    shared = same_everywhere()
    assert lab_experiment.check(experiment(app)) == dict(shared, preset=experiment(app)["preset"])
    result, seconds = train(app)
    measured("MNIST MLP, %d epochs on %d digits (+ 10,000 test digits)"
             % (SAME_EVERYWHERE["epochs"], SAME_EVERYWHERE["train_size"]), seconds)
    test = result["test"]
    assert test["samples"] == 10_000  # the same test set as the Streamlit app
    assert 0.3 < test["accuracy"] <= 1.0  # chance is 0.1
    # the same curve and the same test accuracy as nncore.lab in CPython (and the app)
    reference, accuracy = cpython_run()
    assert_same_curve(result["loss"], reference)
    assert test["accuracy"] == accuracy
    text = app.inner_text("#test-accuracy")
    assert "test accuracy on 10,000 digits" in text
    cells = app.evaluate("window.nncoreWeb.charts.confusion.view.data('confusion')")
    assert len(cells) == 100 and sum(cell["count"] for cell in cells) == 10_000
    assert app.locator("#misread canvas").count() == len(result["misread"]) > 0
    assert app.locator("#weights canvas").count() == len(result["weights"]) > 0
    # after training an MNIST network, Draw offers it first
    app.click('[data-tab="draw"]')
    assert app.input_value("#draw-model") == "trained"


def test_continue_after_importing_the_pretrained_cnn_keeps_its_accuracy(app):
    import_file(app, PRETRAINED / "mnist-cnn.npz")
    assert experiment(app)["spec"] == nncore.pretrained.load("mnist-cnn").to_spec()
    assert experiment(app)["dataset"] == "mnist"
    set_fields(app, size=300, epochs=1, lr=1e-6)
    assert app.is_enabled("#continue")
    result, seconds = train(app, button="#continue")
    measured("Continue the pretrained CNN 1 epoch (+ 10,000 test digits)", seconds)
    assert result["test"]["accuracy"] >= 0.98


def test_a_share_link_restores_the_stack_and_the_settings(app, browser):
    load_preset(app, "mnist-cnn")
    app.fill('#layers [data-index="0"] [data-option="filters"]', "6")
    app.press('#layers [data-index="0"] [data-option="filters"]', "Tab")
    set_fields(app, lr=0.003, epochs=4, seed=5, batch_size=16)
    app.select_option("#optimizer", "rmsprop")
    wait_described(app)
    shared = experiment(app)
    link = app.url
    assert "#e=" in link

    context = browser.new_context(viewport={"width": 1024, "height": 800})
    fresh = context.new_page()
    fresh.goto(link)
    fresh.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
    fresh.wait_for_function("() => window.nncoreWeb.problem === null")
    opened = experiment(fresh)
    context.close()
    checked = lab_experiment.check(shared)
    assert lab_experiment.check(opened) == checked
    assert checked["spec"]["layers"][0]["filters"] == 6
    assert (checked["optimizer"], checked["lr"], checked["epochs"], checked["seed"],
            checked["batch_size"]) == ("rmsprop", lab_experiment.default_lr("rmsprop"), 4, 5, 16)


def test_a_new_link_in_an_open_tab_is_applied(app):
    load_preset(app, "xor")
    wanted = dict(lab_experiment.default("mnist-mlp"), epochs=7, seed=3)
    app.evaluate("(text) => { location.hash = 'e=' + text; }", lab_experiment.encode(wanted))
    app.wait_for_function("() => window.nncoreWeb.experiment.epochs === 7")
    wait_described(app)
    assert lab_experiment.check(experiment(app)) == lab_experiment.check(wanted)
    assert app.input_value("#epochs") == "7"
    assert app.locator("#layers .layer").count() == len(wanted["spec"]["layers"])


def test_the_builder_is_generated_from_the_layer_vocabulary(app):
    vocabulary = nncore.lab.vocabulary.describe()
    load_preset(app, "xor")
    offered = app.eval_on_selector_all("#new-layer-type option",
                                       "options => options.map(o => o.value)")
    assert offered == [entry["type"] for entry in vocabulary["layers"]]
    activations = app.eval_on_selector_all(
        '#layers [data-index="0"] [data-option="activation"] option',
        "options => options.map(o => o.value)")
    assert activations == [""] + list(vocabulary["activations"])
    # layers are numbered from 1, as Python's messages number them
    assert app.inner_text('#layers [data-index="0"] .layer-index') == "1"


# Builds the site (`python -m web.build --out <argv[1]>`) in a Python where one new
# activation class is registered first: the one edit tests/test_vocabulary.py makes.
BUILD_WITH_A_NEW_ACTIVATION = '''
import sys

sys.path.insert(0, sys.argv[2])  # tests/: the class tests/test_vocabulary.py registers
from new_activation import Softsign  # noqa: E402

from nncore import layers  # noqa: E402

layers.register(Softsign)

import web.build  # noqa: E402

sys.exit(web.build.main(["--out", sys.argv[1]]))
'''


def test_a_new_activation_appears_in_the_builder_of_a_site_built_with_it(browser, tmp_path):
    out = tmp_path / "site-with-softsign"
    build = subprocess.run([sys.executable, "-c", BUILD_WITH_A_NEW_ACTIVATION, str(out),
                            str(ROOT / "tests")],
                           capture_output=True, text=True, cwd=ROOT, timeout=300,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert build.returncode == 0, build.stdout + build.stderr
    vocabulary = nncore.lab.vocabulary.describe()  # this process: softsign not registered
    assert "softsign" not in vocabulary["activations"]
    with serving(out) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            outside = offline(context, url + "/")
            problems = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(url + "/")
            page.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
            offered = page.eval_on_selector_all("#new-layer-type option",
                                                "options => options.map(o => o.value)")
            assert offered == [entry["type"] for entry in vocabulary["layers"]] + ["softsign"]
            assert page.get_attribute('#new-layer-type option[value="softsign"]', "title") == (
                "x / (1 + |x|): a tanh-like curve with polynomial tails.")
            assert page.locator("#layers .layer").count() == len(XOR["spec"]["layers"])
            # the first layer is a dense one: its activation offers the new class too
            assert page.inner_text('#layers [data-index="0"] .layer-index') == "1"
            activations = page.eval_on_selector_all(
                '#layers [data-index="0"] [data-option="activation"] option',
                "options => options.map(o => o.value)")
            assert activations == [""] + list(vocabulary["activations"]) + ["softsign"]
            assert problems == [] and outside == []
        finally:
            context.close()


@pytest.mark.parametrize("model", ["mnist-mlp", "mnist-cnn"])
def test_pretrained_model_reads_a_drawn_one_and_zero(app, model):
    available = app.evaluate("window.nncoreWeb.pretrained")
    assert model in available, f"pretrained {model} is missing from nncore/pretrained/"
    one = read_digit(app, vertical_stroke(), model)
    assert one["digit"] == 1, one
    measured(f"predict with {model}, pointer-up to bars drawn", one["milliseconds"] / 1000)
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


@pytest.mark.parametrize("fragment, words", [
    ("#e=1.%%%not-base64!!", "could not be read"),
    ("#e=" + "A" * 9000, "could not be read"),
    ("#spec=eyJpbnB1dF9zaGFwZSI6IFsyXX0", "not an nncore experiment"),
], ids=["not-base64", "too-long", "old-spec-link"])
def test_a_bad_link_shows_the_default_preset_and_a_notice(page, site_url, fragment, words):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(site_url + fragment)
    page.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
    notice = page.locator("#notice")
    notice.wait_for(state="visible")
    assert words in notice.inner_text()
    assert page.locator("#layers .layer").count() == len(XOR["spec"]["layers"])
    assert page.input_value("#input-shape") == "2"
    assert problems == []


def test_the_experiment_as_python_reproduces_the_pages_run(app, tmp_path):
    load_preset(app, "mnist-mlp")
    set_fields(app, size=200, epochs=2, seed=4)
    result, _ = train(app)
    page_loss = train_losses(result)[-1]
    app.click('[data-tab="model"]')
    app.click('[data-language="python"]')
    app.wait_for_function("() => document.getElementById('code').textContent"
                          ".includes('epochs=2')")
    script = tmp_path / "experiment.py"
    script.write_text(app.inner_text("#code"))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert run.returncode == 0, run.stderr
    (final,) = re.findall(r"final loss: ([0-9.e+-]+)", run.stdout)
    assert float(final) == pytest.approx(page_loss, rel=1e-5)
    # under the script, the page says the same: the run's final loss to 10 digits
    app.wait_for_selector("#code-note:not([hidden])")
    noted = re.fullmatch(r"Your last run: final loss ([0-9.eE+-]+) after epoch 2\. The nncore "
                         r"script prints the same final loss\.", app.inner_text("#code-note"))
    assert noted, app.inner_text("#code-note")
    assert float(noted.group(1)) == pytest.approx(page_loss, rel=1e-9)  # %.10g of the same
    assert float(noted.group(1)) == pytest.approx(float(final), rel=1e-5)
    app.click('[data-language="pytorch"]')
    app.wait_for_function("() => document.getElementById('code').textContent"
                          ".includes('APPROXIMATION')")
    assert "nn.Linear(784, 100)" in app.inner_text("#code")


def test_a_drawn_digit_shows_every_layers_output(app):
    network = nncore.pretrained.load("mnist-cnn")
    reading = read_digit(app, loop(), "mnist-cnn")
    assert reading["digit"] == 0
    views = app.locator("#layer-maps .layer-view")
    titles = [line.split(" · ")[0] + " · " + line.split(" · ")[1].split(" ")[0]
              for line in app.locator("#layer-maps .view-title").all_inner_texts()]
    expected = ["%d · %s" % (index + 1, layer.type) for index, layer in enumerate(network.layers)
                if len(layer.output_shape) == 3 or index == len(network.layers) - 1]
    assert titles == expected, titles
    for index, layer in enumerate(network.layers):
        if len(layer.output_shape) == 3:  # conv and pool layers: one tile per channel, capped
            tiles = views.nth(expected.index("%d · %s" % (index + 1, layer.type))).locator("canvas")
            assert tiles.count() == min(layer.output_shape[2], nncore.lab.inside.MAPS)
    strip = app.evaluate("window.nncoreWeb.charts.strip.view.data('strip')")
    flat = [index + 1 for index, layer in enumerate(network.layers[:-1])
            if len(layer.output_shape) == 1]
    assert sorted({row["layer"] for row in strip}) == flat


def test_the_backprop_walk_reaches_the_first_layer_and_its_check_passes(app):
    app.click('[data-tab="inside"]')
    app.select_option("#inside-model", "mnist-cnn")
    app.wait_for_function("() => window.nncoreWeb.walk && window.nncoreWeb.walk.dataset === "
                          "'mnist'")
    walked = app.evaluate("window.nncoreWeb.walk")
    assert walked["check"]["passed"] is True
    assert "Gradient check passed" in app.inner_text("#inside-check")
    steps = len(walked["steps"])
    for _ in range(steps - 1):
        app.click("#inside-next")
    assert app.is_disabled("#inside-next")
    assert app.inner_text("#inside-step") == "Step %d of %d · Backward · 1 · conv2d" % (steps,
                                                                                        steps)
    assert "dE/dW" in app.inner_text("#inside-formula")
    assert app.locator("#inside-tensors .tensor").count() >= 3
    app.click("#inside-back")
    assert app.inner_text("#inside-step").startswith("Step %d of %d" % (steps - 1, steps))


def test_each_2d_problem_trains_with_its_boundary_and_hidden_units(app):
    load_preset(app, "circle")
    result, seconds = train(app)
    measured("circle preset (%d epochs)" % experiment(app)["epochs"], seconds)
    assert result["plane"]["test_accuracy"] >= 0.9
    assert app.locator("#verdict").get_attribute("data-kind") == "learned"
    assert "of 100 test points" in app.inner_text("#plane-scores")
    # every 2-D problem with the Two spirals preset's 2-8-8-1 tanh stack and its 500 points
    load_preset(app, "spiral")
    for dataset, epochs in PLANE_EPOCHS.items():
        app.select_option("#dataset", dataset)
        set_fields(app, epochs=epochs)
        settings = experiment(app)
        assert settings["dataset"] == dataset and settings["points"] == 500
        assert settings["spec"] == lab_experiment.default("spiral")["spec"]
        result, seconds = train(app)
        measured("%s, %d epochs on 500 points" % (dataset, epochs), seconds)
        # the same points and the same first epochs as CPython's session (later epochs drift
        # apart: einsum and np.dot sum in different orders, and Adam on a spiral amplifies
        # a 1e-8 difference into another, equally good, run)
        python = cpython_losses(settings)
        np.testing.assert_allclose(train_losses(result)[:10], python[:10], rtol=1e-5)
        assert len(train_losses(result)) == len(python) == epochs
        # it learned: most test points right (chance is half), and the page says so
        scores = result["plane"]
        assert scores["dataset"] == dataset, scores
        assert scores["test_accuracy"] >= 0.8 and scores["train_accuracy"] >= 0.8, scores
        assert scores["test_samples"] == 250, scores
        verdict = app.locator("#verdict")
        assert verdict.get_attribute("data-kind") == "learned", dataset
        assert verdict.inner_text() == "Learned: %.1f%% test accuracy after %d epochs." % (
            100 * scores["test_accuracy"], epochs)
        assert "%.1f%%" % (100 * scores["test_accuracy"]) in app.inner_text("#plane-scores")
        # the boundary: the network's output over a 31 x 31 grid of the plane, and the points
        assert len(result["grid"]) == 31 * 31, dataset
        assert app.evaluate("window.nncoreWeb.charts.boundary.view.data('grid')") == (
            result["grid"]), dataset
        splits = {row["split"] for row in result["points"]}
        assert splits == {"train", "test"} and len(result["points"]) == 500, dataset
        assert app.evaluate("window.nncoreWeb.charts.boundary.view.data('points').length") == 500
        hidden = app.evaluate("window.nncoreWeb.charts.hidden.view.data('hidden')")
        units = {(row["layer"], row["unit"]) for row in result["hidden"]}
        assert units == {(layer, unit) for layer in (2, 4) for unit in range(1, 9)}, dataset
        assert len(hidden) == len(result["hidden"]), dataset
        assert app.is_visible("#card-hidden") and app.is_visible("#plane-scores")


# Each 2-D problem's epochs with the spirals' stack: enough for each to learn
PLANE_EPOCHS = {"circle": 100, "spiral": 110, "gaussians": 120, "moons": 130, "xor-cloud": 140}


def cpython_losses(settings):
    """The training loss of each epoch of nncore.lab's session in CPython, same experiment."""
    session = Session()
    session.speed = None
    session.train(settings)
    while session.status != "finished":
        session.step(1.0)
    return train_losses(session.rows())


# What the page shows of the hidden units at this moment, read in one go: the report's
# status and epoch, the epoch of the rows the charts were last drawn from (their last
# training-loss row) and the hidden-unit chart's own data, as Vega holds it.
HIDDEN_NOW = """() => {
    const web = window.nncoreWeb;
    const drawn = web.rows ? web.rows.loss.filter(row => row.series === 'train') : [];
    const hidden = web.charts.hidden.view ? web.charts.hidden.view.data('hidden') : [];
    return {status: web.report.status, epoch: web.report.epoch,
            version: web.rows ? web.rows.version : -1,
            drawn: drawn.length ? drawn[drawn.length - 1].step : 0,
            units: hidden.map(row => [row.layer, row.unit, row.x1, row.x2]),
            values: hidden.map(row => row.value)}; }"""


def test_the_hidden_units_are_redrawn_while_a_run_trains(app):
    """The two spirals at 10 epochs/s (300 epochs, about 30 s): mid-run, the hidden-unit
    chart's data at one epoch differs from its data a few epochs later, while the run is
    still running: the small multiples follow the training, not only its end."""
    load_preset(app, "spiral")
    epochs = experiment(app)["epochs"]
    assert epochs == lab_experiment.default("spiral")["epochs"] == 300
    app.select_option("#speed", "10 epochs/s")
    before = app.evaluate("window.nncoreWeb.report.version")
    start(app)
    # each wait also ends when the run does (then the read says so): a chart drawn only at
    # the end fails here at once, not after a timeout
    # the first read: the charts drawn from rows of this run with an epoch in them
    app.wait_for_function(
        "(before) => { const web = window.nncoreWeb; return web.report.status !== 'running' "
        "|| (web.rows && web.rows.version > before && web.rows.loss.some(row => row.series "
        "=== 'train') && web.charts.hidden.view && web.charts.hidden.view.data('hidden')"
        ".length > 0); }",
        arg=before, timeout=TRAIN_TIMEOUT_MS)
    first = app.evaluate(HIDDEN_NOW)
    assert first["status"] == "running" and first["values"], (
        "the run ended before its hidden units were drawn", first["status"])
    # the second: the charts drawn again from rows 5 epochs on or more, with other values
    app.wait_for_function(
        "([shown, drawn, values]) => { const web = window.nncoreWeb; if (web.report.status !== "
        "'running') return true; const train = web.rows.loss.filter(row => row.series === "
        "'train'); const now = web.charts.hidden.view.data('hidden'); return web.rows.version "
        "> shown && train[train.length - 1].step >= drawn + 5 && now.length === values.length "
        "&& now.some((row, index) => row.value !== values[index]); }",
        arg=[first["version"], first["drawn"], first["values"]], timeout=TRAIN_TIMEOUT_MS)
    second = app.evaluate(HIDDEN_NOW)
    assert second["status"] == "running", (
        "the run ended and its hidden units were not redrawn while it trained",
        second["status"], second["epoch"])
    app.click("#stop")
    wait_for_status(app, "finished")
    stopped = report(app)["epoch"]

    for read in (first, second):
        assert read["status"] == "running" and 1 <= read["epoch"] < epochs, read["epoch"]
        assert 1 <= read["drawn"] <= read["epoch"], (read["drawn"], read["epoch"])
    assert second["epoch"] > first["epoch"] and second["drawn"] >= first["drawn"] + 5
    # the same 16 units (2-8-8-1) over the same 15 x 15 grid, with other values
    units = {(layer, unit) for layer, unit, _, _ in first["units"]}
    assert units == {(layer, unit) for layer in (2, 4) for unit in range(1, 9)}
    assert len(first["units"]) == 16 * nncore.lab.plane.HIDDEN_RESOLUTION ** 2
    assert second["units"] == first["units"]
    changed = sum(a != b for a, b in zip(first["values"], second["values"]))
    assert changed > len(first["values"]) // 10, changed  # the pictures moved, not one cell
    assert stopped < epochs and "Stopped" in app.inner_text("#train-status")


def test_your_2d_model_walks_one_of_its_problems_test_points(app):
    load_preset(app, "circle")
    set_fields(app, epochs=20)
    train(app)
    app.click('[data-tab="inside"]')
    app.select_option("#inside-model", "yours")
    app.wait_for_function(
        "() => window.nncoreWeb.walk && window.nncoreWeb.walk.dataset === 'plane'")
    count = app.evaluate("window.nncoreWeb.walk.chooser.count")
    # the hollow points of the boundary chart: the ones never trained on
    assert count == app.evaluate(
        "window.nncoreWeb.rows.points.filter((point) => point.split === 'test').length") > 0
    assert app.text_content("#inside-digit-field span") == "Test point number"
    assert app.get_attribute("#inside-digit", "max") == str(count - 1)
    app.fill("#inside-digit", "5")
    app.press("#inside-digit", "Tab")
    app.wait_for_function("() => window.nncoreWeb.walk.sample.startsWith('Circle test point #5 (')")
    assert app.inner_text("#inside-summary").startswith(
        "Your model, as trained · Circle test point #5 (")
    assert app.evaluate("window.nncoreWeb.walk.check.passed") is True
    assert app.evaluate("window.nncoreWeb.walk.steps.at(-1).layer") == 1
