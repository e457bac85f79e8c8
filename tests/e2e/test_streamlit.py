"""The Streamlit app in a real browser: `streamlit run app` on a free port, driven by Chromium.

Trains XOR through the page and watches the error chart grow; pauses, steps, resumes and
continues a run; stops a long test evaluation; draws digits (also while a run trains);
restores an experiment from a share link; continues the imported pretrained CNN. Timings are
printed (asserted only loosely): page interactive, pen-up to answer, Stop to stopped.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit_pad import draw_vertical_stroke

ROOT = Path(__file__).resolve().parents[2]

# Runs inside the page while XOR trains: every 50 ms, note the progress text and a cheap
# fingerprint of what the error chart (the first Vega chart on the page) draws. Sampling in
# the page itself sees every redraw even when the test process is slow to poll.
START_SAMPLING = """() => {
    window.nncoreSamples = [];
    const fingerprint = (chart) => {
        const canvas = chart.querySelector('canvas');
        let hash = 0;
        if (canvas && canvas.width && canvas.height) {
            const pixels = canvas.getContext('2d')
                .getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < pixels.length; i += 13) hash = (hash * 31 + pixels[i]) | 0;
        } else {
            const text = (chart.querySelector('svg') || chart).outerHTML;
            for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) | 0;
        }
        return hash;
    };
    window.nncoreSampler = setInterval(() => {
        const progress = document.querySelector('.train-status');
        const chart = document.querySelector('[data-testid=stVegaLiteChart]');
        window.nncoreSamples.push({
            progress: progress ? progress.innerText : null,
            chart: chart ? fingerprint(chart) : null,
        });
    }, 50);
}"""
STOP_SAMPLING = "() => { clearInterval(window.nncoreSampler); return window.nncoreSamples; }"


def report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[streamlit timing] {text}")


@pytest.fixture(scope="module")
def server(streamlit_server):
    return streamlit_server  # conftest.py: one `streamlit run app` per test module


def open_app(page, url) -> float:
    """Load the page; seconds until the first tab's controls can be used."""
    started = time.perf_counter()
    page.goto(url)
    page.get_by_role("button", name="Add layer").wait_for(state="visible", timeout=30_000)
    return time.perf_counter() - started


def train_panel(page):
    page.get_by_role("tab", name="Train").click()
    panel = page.get_by_role("tabpanel", name="Train")
    panel.get_by_role("button", name="Train", exact=True).wait_for(state="visible")
    return panel


def status(page) -> str:
    return page.locator(".train-status").last.inner_text()


def set_number(panel, label: str, value) -> None:
    field = panel.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    panel.page.wait_for_timeout(400)


def choose_speed(panel, speed: str) -> None:
    panel.get_by_role("combobox", name="Speed").click()
    panel.page.get_by_role("option", name=speed, exact=True).click()
    panel.page.wait_for_timeout(400)


def epoch_of(text: str) -> int:
    return int(text.split("Epoch ")[1].split(" ")[0])


def test_xor_trains_through_the_page_and_the_error_chart_grows(page, server, capsys, tmp_path):
    interactive = open_app(page, server)
    report(capsys, f"page interactive (first visit, cold imports): {interactive:.2f} s")
    panel = train_panel(page)

    # The default run at the default speed (100 epochs/s): about ten seconds to watch.
    page.evaluate(START_SAMPLING)
    started = time.perf_counter()
    panel.get_by_role("button", name="Train", exact=True).click()
    panel.get_by_text("Learned: 4 of 4 points right after 1000 epochs").wait_for(timeout=90_000)
    elapsed = time.perf_counter() - started
    samples = page.evaluate(STOP_SAMPLING)
    report(capsys, f"default XOR run, watched at 100 epochs/s: {elapsed:.2f} s")

    epochs_seen = sorted({epoch_of(sample["progress"]) for sample in samples
                          if "Epoch " in (sample["progress"] or "")})
    distinct_charts = len({sample["chart"] for sample in samples if sample["chart"] is not None})
    report(capsys, f"while training: {len(epochs_seen)} different epochs shown, "
                   f"{distinct_charts} different error charts")
    assert len(epochs_seen) >= 5, f"the epoch counter barely moved: {epochs_seen}"
    assert distinct_charts >= 5, "the error chart did not grow while training"
    final = panel.get_by_test_id("stVegaLiteChart")
    assert final.count() >= 3  # error, accuracy, decision boundary
    assert "What the network answers" in panel.inner_text()

    page.set_viewport_size({"width": 1280, "height": 1300})
    page.mouse.move(1270, 1290)
    page.wait_for_timeout(800)
    page.screenshot(path=str(tmp_path / "streamlit-xor.png"))


def test_pause_step_resume_and_continue_move_the_epoch_counter(page, server):
    open_app(page, server)
    panel = train_panel(page)
    choose_speed(panel, "10 epochs/s")
    set_number(panel, "Epochs", 300)
    panel.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function("() => /Epoch [1-9]\\d* /.test(document.querySelector('.train-status')"
                           "?.innerText || '')", timeout=30_000)
    panel.get_by_role("button", name="Pause", exact=True).click()
    panel.get_by_text("Paused ·").wait_for(timeout=10_000)
    held = epoch_of(status(page))
    page.wait_for_timeout(1500)
    assert epoch_of(status(page)) == held  # paused: the counter holds still

    panel.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => /Paused · Epoch {held + 1} /.test("
                           "document.querySelector('.train-status')?.innerText || '')",
                           timeout=10_000)
    page.wait_for_timeout(1000)
    assert epoch_of(status(page)) == held + 1  # exactly one epoch more, then paused again

    panel.get_by_role("button", name="Resume", exact=True).click()
    choose_speed(panel, "full speed")
    panel.get_by_text("Finished · Epoch 300 / 300").wait_for(timeout=30_000)

    panel.get_by_role("button", name="Continue", exact=True).click()
    panel.get_by_text("Finished · Epoch 600 / 600").wait_for(timeout=30_000)


def test_an_lr_10_xor_run_ends_with_a_warning_not_a_success(page, server):
    open_app(page, server)
    panel = train_panel(page)
    choose_speed(panel, "full speed")
    set_number(panel, "Learning rate", 10)
    panel.get_by_role("button", name="Train", exact=True).click()
    warning = panel.get_by_text("Did not learn")
    warning.wait_for(timeout=60_000)
    assert "too large for sgd: try 0.1" in panel.inner_text()
    assert panel.get_by_test_id("stAlertContentWarning").count() >= 1
    assert panel.get_by_test_id("stAlertContentSuccess").count() == 0


def test_stop_during_the_final_evaluation_ends_within_a_second(page, server, capsys):
    open_app(page, server)
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name="MNIST CNN: conv-pool-dense").click()
    page.wait_for_timeout(500)
    panel = train_panel(page)
    choose_speed(panel, "full speed")
    set_number(panel, "Epochs", 1)
    panel.get_by_role("button", name="Train", exact=True).click()
    panel.get_by_text("Reading the 10,000 test digits").wait_for(timeout=60_000)
    clicked = time.perf_counter()
    panel.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function("() => !/Reading the/.test(document.querySelector('.train-status')"
                           "?.innerText || 'Reading the')", timeout=10_000)
    elapsed = time.perf_counter() - clicked
    report(capsys, f"Stop during the test evaluation to stopped: {elapsed:.2f} s")
    assert elapsed < 1.0
    page.wait_for_timeout(1500)
    assert "Reading the" not in status(page)


def choose(panel, label: str, option: str, index: int = 0) -> None:
    """Pick `option` in the `index`-th select box labelled `label`."""
    panel.get_by_label(label, exact=True).nth(index).click()
    panel.page.get_by_role("option", name=option, exact=True).click()
    panel.page.wait_for_timeout(400)


def choose_preset(page, name: str) -> None:
    """Pick a preset in Build, and wait until its rerun has written it into the address bar
    (only then is the next edit or tab switch safe: one racing that rerun can lose a field)."""
    from nncore.lab import experiment

    wait_for_link(page)  # the first run's address, before the preset
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name=experiment.PRESET_LABELS[name], exact=True).click()
    wait_for_link(page, preset=name)


def test_a_share_link_restores_the_stack_and_the_settings(page, server, browser):
    from nncore.lab import experiment

    open_app(page, server)
    choose_preset(page, "mnist-cnn")
    # Build: the first layer (the conv) gets 6 filters and a tanh; after each edit, wait for
    # the rerun to write it into the address bar before the next one (a tab switch or an
    # edit racing that rerun can lose a field)
    build = page.get_by_role("tabpanel", name="Build")
    # the layer card's heading (the summary table below may show the same words)
    build.locator("strong", has_text="1. conv2d").wait_for(timeout=15_000)
    set_number(build, "filters", 6)
    wait_for_link(page, first_layer={"type": "conv2d", "filters": 6})
    choose(build, "activation", "tanh")  # the first activation box is the conv's
    wait_for_link(page, first_layer={"type": "conv2d", "filters": 6, "activation": "tanh"})
    # Train: the optimizer first (a new optimizer resets the learning rate to its own)
    panel = train_panel(page)
    choose(panel, "Optimizer", "rmsprop")
    wait_for_link(page, optimizer="rmsprop")
    edited = {"optimizer": "rmsprop"}
    for label, name, value in (("Learning rate", "lr", 0.0042), ("Batch size", "batch_size", 16),
                               ("Seed", "seed", 5), ("Epochs", "epochs", 9)):
        set_number(panel, label, value)
        edited[name] = value
        link = wait_for_link(page, **edited)
    link = wait_for_link(page, first_layer={"type": "conv2d", "filters": 6, "activation": "tanh"},
                         **edited)
    shared = experiment.check(link_experiment(link))
    assert shared["dataset"] == "mnist" and shared["spec"]["input_shape"] == [28, 28, 1]
    assert edited["lr"] != experiment.default_lr("rmsprop")  # the lr edit is not a default

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        fresh = context.new_page()
        open_app(fresh, link)
        restored_build = fresh.get_by_role("tabpanel", name="Build")
        restored_build.locator("strong", has_text="1. conv2d").wait_for(timeout=15_000)
        assert restored_build.get_by_label("filters", exact=True).input_value() == "6"
        activations = restored_build.get_by_label("activation", exact=True)
        assert activations.count() == 2  # the conv's and the dense layer's
        assert [box.input_value() for box in activations.all()] == ["tanh", "none"]
        restored = train_panel(fresh)
        assert restored.get_by_role("radio", name="MNIST digits").is_checked()
        assert restored.get_by_label("Optimizer", exact=True).input_value() == "rmsprop"
        assert restored.get_by_label("Learning rate", exact=True).input_value() == "0.0042"
        assert restored.get_by_label("Batch size", exact=True).input_value() == "16"
        assert restored.get_by_label("Seed", exact=True).input_value() == "5"
        assert restored.get_by_label("Epochs", exact=True).input_value() == "9"
        # the fresh page's own address holds the very same experiment
        assert experiment.check(link_experiment(wait_for_link(fresh, **edited))) == shared
    finally:
        context.close()


def link_experiment(link: str) -> dict:
    """The experiment a link's ?e= holds ({} for none)."""
    from urllib.parse import parse_qs, urlparse

    from nncore.lab import experiment

    text = parse_qs(urlparse(link).query).get("e", [None])[0]
    return experiment.decode(text) if text else {}


def wait_for_link(page, timeout=30.0, first_layer=None, **settings):
    """The address once its ?e= experiment holds `settings` (and a first layer with the
    options `first_layer`): the app rewrites it after each rerun, so reading it earlier
    gives the experiment before the last edit."""
    deadline = time.time() + timeout
    while True:
        shared = link_experiment(page.url)
        if not shared:  # no ?e= yet: the first run has not ended
            assert time.time() < deadline, "the address bar holds no experiment"
            page.wait_for_timeout(100)
            continue
        layers = shared.get("spec", {}).get("layers") or [{}]
        if all(shared.get(name) == value for name, value in settings.items()) and all(
                layers[0].get(name) == value for name, value in (first_layer or {}).items()):
            return page.url
        assert time.time() < deadline, (settings, first_layer, shared)
        page.wait_for_timeout(100)


def test_continue_after_importing_the_pretrained_cnn_keeps_its_accuracy(page, server, capsys):
    open_app(page, server)
    page.get_by_role("tab", name="Model").click()
    model = page.get_by_role("tabpanel", name="Model")
    model.locator("input[type=file]").set_input_files(
        str(ROOT / "nncore" / "pretrained" / "mnist-cnn.npz"))
    model.get_by_text("Loaded mnist-cnn.npz").wait_for(timeout=30_000)
    panel = train_panel(page)
    choose_speed(panel, "full speed")
    set_number(panel, "Learning rate", 1e-6)
    set_number(panel, "Epochs", 1)
    panel.get_by_role("button", name="Continue", exact=True).click()
    metric = panel.get_by_test_id("stMetricValue")
    metric.wait_for(timeout=120_000)
    accuracy = float(metric.inner_text().rstrip("%")) / 100
    report(capsys, f"pretrained CNN after Continue (lr 1e-6, 1 epoch): {accuracy:.2%}")
    assert accuracy >= 0.98


def test_drawing_during_a_run_is_answered_within_a_second(page, server, capsys):
    open_app(page, server)
    panel = train_panel(page)
    choose_speed(panel, "full speed")
    set_number(panel, "Epochs", 100000)  # XOR at one sample per batch: minutes of training
    panel.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function("() => /Epoch \\d{3,} /.test(document.querySelector('.train-status')"
                           "?.innerText || '')", timeout=60_000)
    open_draw_tab(page)
    draw = page.get_by_role("tabpanel", name="Draw")
    latencies = []
    for attempt in range(3):
        pen_up = draw_vertical_stroke(page)
        draw.get_by_text("It reads 1").wait_for(timeout=15_000)
        latencies.append(time.perf_counter() - pen_up)
        draw.get_by_role("button", name="Clear").click()
        draw.get_by_text("Draw a digit from 0 to 9").wait_for()
        page.wait_for_timeout(300 * attempt)  # land at different points of the training slices
    report(capsys, "pen-up to answer while training: "
                   + ", ".join(f"{latency * 1000:.0f} ms" for latency in latencies))
    # the issue: drawing during a run answers within 1 s, every time (measured 0.2-0.55 s on
    # the loaded 2-core VM, from the test process, so a little more than the page's own)
    assert max(latencies) < 1.0, latencies
    page.get_by_role("tab", name="Train").click()
    assert "Epoch" in status(page) and "Finished" not in status(page)  # still training
    panel.get_by_role("button", name="Stop", exact=True).click()


def open_draw_tab(page) -> None:
    """Switch to Draw and wait for the pad."""
    page.get_by_role("tab", name="Draw").click()
    panel = page.get_by_role("tabpanel", name="Draw")
    panel.get_by_text("Draw a digit from 0 to 9").wait_for()
    panel.locator("canvas.nncore-pad").wait_for(state="visible")
    page.wait_for_timeout(300)


def test_a_drawn_vertical_stroke_reads_one(page, server, capsys):
    interactive = open_app(page, server)
    report(capsys, f"page interactive (warm server): {interactive:.2f} s")
    open_draw_tab(page)
    panel = page.get_by_role("tabpanel", name="Draw")

    latencies = []
    for attempt in range(2):
        pen_up = draw_vertical_stroke(page)
        panel.get_by_text("It reads 1").wait_for(timeout=15_000)
        latencies.append(time.perf_counter() - pen_up)
        assert "It reads 1" in panel.inner_text()
        if attempt == 0:
            panel.get_by_role("button", name="Clear").click()
            panel.get_by_text("Draw a digit from 0 to 9").wait_for()
    report(capsys, "pen-up to prediction shown: "
                   + ", ".join(f"{latency * 1000:.0f} ms" for latency in latencies))
    assert max(latencies) < 10  # the target is 150 ms; this only catches a hang
