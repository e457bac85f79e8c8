"""The Streamlit app's issue-11 views in a real browser (`streamlit run app`, Chromium).

- Draw: a digit drawn for the pretrained CNN shows every layer's output under the answer,
  a tile per channel (at most 16) for each feature-map layer, the flat layers in one chart;
- Train: the circle preset trains, with its decision boundary, train and test accuracy and
  the hidden units' small multiples; then every 2-D problem (circle, two spirals, two
  gaussians, moons, XOR cloud) trains with the spirals' 2-8-8-1 stack, to CPython's verdict
  and accuracies, with its boundary and its 16 hidden units drawn;
- Inside: the pretrained CNN's backprop walk passes its gradient check, and Next walks it
  down to the backward step of layer 1;
- Train, live: while the two spirals train at 10 epochs/s, the hidden units' chart drawn
  at one epoch differs from the one drawn five or more epochs later, the status line still
  running (each cell's colour compared);
- Model: the experiment's nncore script, read off the page and run, prints the final loss
  the note under it gives for the run the Train tab made (10 digits, compared to 1e-5); the
  PyTorch tab's script is nncore.lab's approximation, says so, and (torch installed) runs.

With NNCORE_SHOTS=<folder> every view is also screenshotted there at 1024 and 390 px wide
(the whole page, not only the first screen), for a person to look at. Timings are printed.
"""
from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from streamlit_pad import draw_vertical_stroke

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1024
SHOT_WIDTHS = (1024, 390)
MAPS_SHOWN = 16  # the most feature maps the Draw tab draws per layer
UNITS_SHOWN = 128  # the most units of a flat layer in the strip chart

# Each "N · layer · shape" title on the Draw tab, with the pictures in the element right
# under it (the tiles of one st.image call).
LAYER_VIEWS = r"""(panel) => {
    const views = {};
    for (const block of panel.querySelectorAll('[data-testid=stMarkdown]')) {
        const match = /^(\d+ · [a-z0-9_]+) · /.exec(block.innerText.trim());
        if (!match) continue;
        const box = block.closest('[data-testid=stElementContainer]');
        const next = box && box.nextElementSibling;
        const images = next ? [...next.querySelectorAll('img')] : [];
        views[match[1]] = {
            text: block.innerText.trim(),
            images: images.length,
            loaded: images.filter(image => image.complete && image.naturalWidth > 0).length,
            widths: images.map(image => image.naturalWidth),
        };
    }
    return views;
}"""
# The code blocks (formula, values) of a panel whose text runs past their box.
OVERFLOWING_CODE = """(panel) => [...panel.querySelectorAll('pre')]
    .filter(block => block.scrollWidth > block.clientWidth + 1)
    .map(block => block.innerText.slice(0, 60))"""
# How many data marks of a kind ("rect", "symbol", ...) a Vega chart (SVG renderer) draws.
MARKS = "(chart, kind) => chart.querySelectorAll(`g.mark-${kind}.role-mark > path`).length"


def report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[streamlit inside] {text}")


def shoot(page, name: str) -> None:
    """With NNCORE_SHOTS set: the whole page at each width (the viewport grown to the
    height of the scrolling main area), then back to the test's own width."""
    folder = os.environ.get("NNCORE_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.mouse.move(1, 1)  # no tooltip over what is shot
    for width in SHOT_WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(700)
        height = page.evaluate("""() => Math.max(document.body.scrollHeight, ...[...document
            .querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]
            .map(element => element.scrollHeight))""")
        page.set_viewport_size({"width": width, "height": min(height + 40, 8000)})
        page.wait_for_timeout(1000)
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"))
    page.set_viewport_size({"width": WIDTH, "height": 900})
    page.wait_for_timeout(500)


def open_app(page, url: str) -> None:
    page.set_viewport_size({"width": WIDTH, "height": 900})
    page.goto(url)
    page.get_by_role("button", name="Add layer").wait_for(state="visible", timeout=30_000)


def open_tab(page, name: str):
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name)


def status(page) -> str:
    return page.locator(".train-status").last.inner_text()


def chart_with(panel, title: str):
    """The one Vega chart whose text holds `title`."""
    charts = panel.get_by_test_id("stVegaLiteChart").filter(has_text=title)
    charts.first.wait_for(timeout=15_000)
    assert charts.count() == 1, f"{charts.count()} charts titled {title!r}"
    return charts.first


def percent(panel, label: str) -> float:
    metric = panel.get_by_test_id("stMetric").filter(has_text=label)
    return float(metric.get_by_test_id("stMetricValue").inner_text().rstrip("%")) / 100


def expected_layers():
    """(title, output shape) of each layer of the shipped CNN, read from the model file."""
    from nncore import pretrained

    network = pretrained.load("mnist-cnn")
    return [(f"{number} · {layer.type}", tuple(layer.output_shape))
            for number, layer in enumerate(network.layers, start=1)]


def test_a_digit_drawn_for_the_pretrained_cnn_shows_every_layer(page, streamlit_server, capsys):
    open_app(page, streamlit_server)
    draw = open_tab(page, "Draw")
    draw.get_by_text("Draw a digit from 0 to 9").wait_for()
    draw.get_by_text("Pretrained CNN", exact=True).click()
    page.wait_for_function("() => [...document.querySelectorAll('input[type=radio]')]"
                           ".some(radio => radio.checked && radio.closest('label')"
                           "?.innerText.trim() === 'Pretrained CNN')")
    page.wait_for_timeout(1000)  # the fragment's rerun redraws the canvas: let it

    pen_up = draw_vertical_stroke(page)
    draw.get_by_text("It reads 1").wait_for(timeout=15_000)
    draw.get_by_text("Inside the network").wait_for(timeout=15_000)
    layers = expected_layers()
    maps = [(title, shape) for title, shape in layers if len(shape) == 3]
    tiles = sum(min(shape[-1], MAPS_SHOWN) for _, shape in maps)
    page.wait_for_function(
        f"(panel) => [...panel.querySelectorAll('img')].filter(i => i.naturalWidth > 0)"
        f".length >= {tiles}", arg=draw.element_handle(), timeout=15_000)
    report(capsys, f"pen-up to every layer's view: {time.perf_counter() - pen_up:.2f} s")

    views = draw.evaluate(LAYER_VIEWS)
    assert len(maps) == 6 and len(layers) == 13  # conv-relu-pool twice, then 7 flat layers
    for title, shape in maps:
        assert title in views, f"no view titled {title!r}: {sorted(views)}"
        view = views[title]
        assert " × ".join(map(str, shape)) in view["text"]
        shown = min(shape[-1], MAPS_SHOWN)
        assert view["images"] == shown, (title, view)
        assert view["loaded"] == shown, (title, view)  # every tile is a real, loaded picture
        assert all(width >= 40 for width in view["widths"]), (title, view["widths"])
        if shape[-1] > MAPS_SHOWN:
            assert f"the first {MAPS_SHOWN} of {shape[-1]} channels" in view["text"]

    flat = [(title, shape) for title, shape in layers if len(shape) == 1]
    *strips, (last, _) = flat
    strip = chart_with(draw, "Flat layers, unit by unit")
    strip_text = strip.inner_text()
    for title, _ in strips:  # every flat layer but the softmax: a row of the one strip chart
        assert title in strip_text, (title, strip_text)
        assert title not in views  # ...and no picture view of its own
    cells = sum(min(shape[0], UNITS_SHOWN) for _, shape in strips)
    assert strip.evaluate(MARKS, "rect") == cells  # a cell per unit shown
    assert views[last]["text"] == f"{last} · 10 · the probabilities shown above"
    assert draw.get_by_test_id("stVegaLiteChart").count() == 2  # probabilities and strip
    shoot(page, "draw-inside")


def test_the_circle_preset_trains_with_its_boundary_accuracies_and_hidden_units(
        page, streamlit_server, capsys):
    open_app(page, streamlit_server)
    before = page.url
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name="Circle: 2-4-1 tanh, sigmoid out").click()
    # the rerun that applies the preset ends by writing the new experiment into the address
    # bar: only then switch tabs (a tab switch racing that rerun once lost the preset in CI)
    page.wait_for_function("(before) => location.href !== before", arg=before,
                           timeout=15_000)
    train = open_tab(page, "Train")
    points = train.get_by_label("Points", exact=True)  # a point cloud's own setting
    points.wait_for(timeout=15_000)
    assert points.input_value() == "200"
    assert train.get_by_role("radio", name="Circle").is_checked()
    train.get_by_role("combobox", name="Speed").click()
    page.get_by_role("option", name="full speed", exact=True).click()
    page.wait_for_timeout(400)

    started = time.perf_counter()
    train.get_by_role("button", name="Train", exact=True).click()
    train.get_by_text("Finished · Epoch 100 / 100").wait_for(timeout=60_000)
    report(capsys, f"circle preset, 100 epochs at full speed: "
                   f"{time.perf_counter() - started:.2f} s")
    line = status(page)
    assert "Learned:" in train.get_by_test_id("stAlertContentSuccess").inner_text()

    boundary = chart_with(train, "Decision boundary")
    assert boundary.evaluate(MARKS, "rect") >= 100  # the network's output over the plane
    assert boundary.evaluate(MARKS, "symbol") == 200  # every point, train and test
    train_accuracy = percent(train, "Train accuracy")
    test_accuracy = percent(train, "Test accuracy")
    assert "100 training points (filled)" in train.inner_text()
    assert "100 test points (hollow), never trained on" in train.inner_text()
    assert train_accuracy >= 0.9 and test_accuracy >= 0.9, (train_accuracy, test_accuracy)
    assert f"test accuracy {100 * test_accuracy:.1f}%" in line, line  # as the status says

    train.get_by_text("What each hidden unit computes").wait_for()
    hidden = chart_with(train, "Hidden units over the input square")
    hidden_text = hidden.inner_text()
    units = re.findall(r"2 · tanh · unit (\d+)", hidden_text)
    assert sorted(map(int, units)) == [1, 2, 3, 4], hidden_text  # the 4 tanh units, once each
    cells = hidden.evaluate(MARKS, "rect")
    assert cells >= 4 * 100 and cells % 4 == 0, cells  # a square of cells per unit
    shoot(page, "train-circle")


def link_experiment(url: str) -> dict:
    """The experiment the address's ?e= holds ({} for none)."""
    from urllib.parse import parse_qs, urlparse

    from nncore.lab import experiment

    text = parse_qs(urlparse(url).query).get("e", [None])[0]
    return experiment.decode(text) if text else {}


def wait_for_link(page, timeout: float = 30.0, **settings) -> dict:
    """The address bar's experiment once it holds `settings`: each rerun ends by writing the
    experiment there, so an edit (or a tab switch) made before that can race the rerun."""
    deadline = time.time() + timeout
    while True:
        shared = link_experiment(page.url)
        if shared and all(shared.get(name) == value for name, value in settings.items()):
            return shared
        assert time.time() < deadline, (settings, shared)
        page.wait_for_timeout(100)


# Each 2-D problem with the Two spirals preset's 2-8-8-1 tanh stack and its 500 points: a
# different number of epochs for each, so that "Finished · Epoch N / N" names the run
PLANE_EPOCHS = {"circle": 100, "spiral": 110, "gaussians": 120, "moons": 130, "xor-cloud": 140}


def cpython_run(settings: dict) -> dict:
    """The report nncore.lab's session gives for the same experiment in this process."""
    from nncore.lab import Session

    session = Session()
    session.speed = None
    session.train(settings)
    while session.status != "finished":
        session.step(1.0)
    return dict(session.report(), plane=session.rows()["plane"])


def spirals_at(page, server, speed):
    """A fresh page on the two-spirals preset, its Train tab open at `speed`; returns the tab.
    Each step waits for the address bar to hold it (an edit racing a rerun can be lost)."""
    from nncore.lab import experiment

    open_app(page, server)
    wait_for_link(page)
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name=experiment.PRESET_LABELS["spiral"], exact=True).click()
    wait_for_link(page, preset="spiral")
    train = open_tab(page, "Train")
    train.get_by_label("Points", exact=True).wait_for(timeout=15_000)
    train.get_by_role("combobox", name="Speed").click()
    page.get_by_role("option", name=speed, exact=True).click()
    page.wait_for_timeout(400)
    return train


def test_every_2d_problem_trains_with_its_boundary_and_hidden_units(
        page, streamlit_server, capsys):
    from playwright.sync_api import expect

    from nncore.lab import experiment

    assert sorted(PLANE_EPOCHS) == sorted(experiment.PLANE_DATASETS)
    train = spirals_at(page, streamlit_server, "full speed")
    for dataset in experiment.PLANE_DATASETS:
        radio = train.get_by_role("radio", name=experiment.DATASETS[dataset], exact=True)
        train.get_by_role("radiogroup", name="Dataset").get_by_text(
            experiment.DATASETS[dataset], exact=True).click()
        wait_for_link(page, dataset=dataset)
        epochs = train.get_by_label("Epochs", exact=True)
        epochs.fill(str(PLANE_EPOCHS[dataset]))
        epochs.press("Enter")
        shared = wait_for_link(page, dataset=dataset, epochs=PLANE_EPOCHS[dataset])
        assert shared["spec"] == experiment.default("spiral")["spec"] and shared["points"] == 500
        expected = cpython_run(experiment.check(shared))
        assert expected["verdict"]["kind"] == "learned", (dataset, expected["verdict"])

        started = time.perf_counter()
        train.get_by_role("button", name="Train", exact=True).click()
        train.get_by_text(f"Finished · Epoch {PLANE_EPOCHS[dataset]} / "
                          f"{PLANE_EPOCHS[dataset]}").wait_for(timeout=90_000)
        report(capsys, f"{dataset}, {PLANE_EPOCHS[dataset]} epochs at full speed: "
                       f"{time.perf_counter() - started:.2f} s")
        assert radio.is_checked(), dataset
        # it learned: the page's verdict and accuracies are CPython's for the same run
        success = train.get_by_test_id("stAlertContentSuccess").get_by_role("paragraph")
        expect(success).to_have_text(expected["verdict"]["title"], timeout=15_000)
        scores = expected["plane"]
        assert scores["dataset"] == dataset and scores["test_accuracy"] > 0.5  # chance: 0.5
        for label, name in (("Train accuracy", "train_accuracy"),
                            ("Test accuracy", "test_accuracy")):
            value = train.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id(
                "stMetricValue")
            expect(value).to_have_text(f"{scores[name]:.1%}", timeout=15_000)
        assert percent(train, "Test accuracy") >= 0.8, dataset
        assert "250 test points (hollow), never trained on" in train.inner_text()

        boundary = chart_with(train, "Decision boundary")
        assert boundary.evaluate(MARKS, "rect") >= 100, dataset  # the output over the plane
        assert boundary.evaluate(MARKS, "symbol") == 500, dataset  # every point
        hidden = chart_with(train, "Hidden units over the input square")
        units = re.findall(r"(\d) · tanh · unit (\d+)", hidden.inner_text())
        assert sorted((int(layer), int(unit)) for layer, unit in units) == [
            (layer, unit) for layer in (2, 4) for unit in range(1, 9)], (dataset, units)
        cells = hidden.evaluate(MARKS, "rect")
        assert cells >= 16 * 100 and cells % 16 == 0, (dataset, cells)


def test_the_backprop_walk_of_the_pretrained_cnn_passes_and_reaches_layer_one(
        page, streamlit_server, capsys):
    open_app(page, streamlit_server)
    inside = open_tab(page, "Inside")
    inside.get_by_text("Backpropagation, step by step").wait_for()
    inside.get_by_text("Pretrained CNN", exact=True).click()
    inside.get_by_label("Test digit number").wait_for(timeout=30_000)
    label = inside.get_by_text(re.compile(r"^Step \d+ of \d+ · "))
    label.filter(has_text=" · Forward · 1 · conv2d").wait_for(timeout=30_000)  # the CNN's
    sample = inside.get_by_text(re.compile("^Pretrained CNN · test digit #0, a 7 · loss "))
    assert sample.count() == 1, inside.inner_text()
    check = inside.get_by_text(re.compile("Gradient check passed: "))
    assert check.count() == 1, inside.inner_text()
    text = check.inner_text()
    assert "weights, largest relative error" in text, text
    assert inside.get_by_test_id("stAlertContentError").count() == 0

    first = label.inner_text()
    steps = int(re.match(r"Step 1 of (\d+) · Forward · 1 · conv2d$", first).group(1))
    back = inside.get_by_role("button", name="Back", exact=True)
    forward = inside.get_by_role("button", name="Next", exact=True)
    assert back.is_disabled() and forward.is_enabled()
    assert inside.evaluate(OVERFLOWING_CODE) == []  # B's 16 numbers wrap in their column
    shoot(page, "inside-first")

    started = time.perf_counter()
    seen = [first]
    while forward.is_enabled():
        assert len(seen) < steps, seen
        forward.click()
        label.filter(has_text=f"Step {len(seen) + 1} of {steps} · ").wait_for(timeout=15_000)
        # Next is drawn before the label in the same rerun: its state is the new step's
        seen.append(label.inner_text())
    elapsed = time.perf_counter() - started
    report(capsys, f"{steps - 1} clicks of Next: {elapsed:.2f} s "
                   f"({1000 * elapsed / (steps - 1):.0f} ms each)")
    assert seen[-1] == f"Step {steps} of {steps} · Backward · 1 · conv2d", seen[-1]
    assert len(seen) == steps
    assert any(" · Loss · " in step for step in seen)
    assert back.is_enabled()
    assert "dE/dW" in inside.inner_text() and "dE/dB" in inside.inner_text()
    assert inside.evaluate(OVERFLOWING_CODE) == []
    shoot(page, "inside-last")

    back.click()
    label.filter(has_text=f"Step {steps - 1} of {steps} · Backward · ").wait_for(timeout=15_000)
    assert forward.is_enabled()


def test_the_experiment_as_code_prints_the_final_loss_train_shows(
        page, streamlit_server, tmp_path, capsys):
    open_app(page, streamlit_server)
    train = open_tab(page, "Train")
    epochs = train.get_by_label("Epochs", exact=True)
    epochs.fill("50")
    epochs.press("Enter")
    page.wait_for_function("() => location.search.includes('e=')")
    page.wait_for_timeout(400)
    train.get_by_role("button", name="Train", exact=True).click()
    train.get_by_text("Finished · Epoch 50 / 50").wait_for(timeout=60_000)
    shown = re.search(r" · error (\S+) · ", status(page))
    assert shown, status(page)

    model = open_tab(page, "Model")
    model.get_by_text("The experiment as code").click()
    python_tab = model.get_by_role("tabpanel", name="nncore (Python)")
    block = python_tab.get_by_test_id("stCode")
    block.wait_for(timeout=15_000)
    script = block.locator("code").text_content()
    assert script.startswith('"""The experiment as an nncore script: XOR (4 points).')
    assert "epochs=50" in script and "seed=0" in script, script
    # under the script, the last run's final loss to 10 significant digits
    note = python_tab.get_by_text(re.compile(r"^Your last run: final loss "))
    note.wait_for(timeout=15_000)
    noted = re.fullmatch(r"Your last run: final loss ([0-9.eE+-]+) after epoch 50\. The nncore "
                         r"script prints the same final loss\.", note.inner_text().strip())
    assert noted, note.inner_text()
    page_loss = float(noted.group(1))
    assert math.isclose(page_loss, float(shown.group(1)), rel_tol=1e-3)  # the status's 4 digits
    shoot(page, "model-code")

    path = tmp_path / "experiment.py"
    path.write_text(script)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    report(capsys, f"the copied script ran in {time.perf_counter() - started:.2f} s")
    assert result.returncode == 0, result.stderr
    printed = re.search(r"^final loss: (\S+)$", result.stdout, re.MULTILINE)
    assert printed, result.stdout
    final = float(printed.group(1))
    report(capsys, f"final loss: script {final!r}, page {noted.group(1)}")
    # the note has 10 significant digits; the script is the same computation in CPython
    assert math.isclose(final, page_loss, rel_tol=1e-5), (final, page_loss)

    # the other tab: the same experiment in PyTorch, an approximation that says so
    from nncore.lab import code

    model.get_by_role("tab", name="PyTorch (approximation)").click()
    pytorch_tab = model.get_by_role("tabpanel", name="PyTorch (approximation)")
    torch_block = pytorch_tab.get_by_test_id("stCode")
    torch_block.wait_for(state="visible", timeout=15_000)
    torch_script = torch_block.locator("code").text_content()
    assert torch_script.startswith('"""The experiment in PyTorch: XOR (4 points). An '
                                   'APPROXIMATION, not the same run.\n'), torch_script[:200]
    for line in ("model = nn.Sequential(", "    nn.Linear(2, 3),  # 1. dense(units=3)",
                 "    nn.Tanh(),  # 2. tanh", "    nn.Linear(3, 1),  # 3. dense(units=1)",
                 "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)",
                 "epochs, batch_size = 50, 1"):
        assert line in torch_script.splitlines(), (line, torch_script)
    # ...and exactly nncore.lab's text for the experiment the page's link holds
    shared = link_experiment(page.url)
    assert shared["epochs"] == 50, shared
    assert torch_script.rstrip("\n") == code.as_pytorch(shared).rstrip("\n")
    # torch is an optional dependency (the bench extra): where it is installed, the script
    # runs, 50 epochs, to a finite loss (a different run from nncore's: it says so)
    if importlib.util.find_spec("torch") is None:
        report(capsys, "torch is not installed: the PyTorch script's text is checked, not run")
        return
    path = tmp_path / "experiment_torch.py"
    path.write_text(torch_script)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    report(capsys, f"the PyTorch script ran in {time.perf_counter() - started:.2f} s")
    assert result.returncode == 0, result.stderr
    assert len(re.findall(r"^epoch \d+/50  loss=\S+$", result.stdout, re.MULTILINE)) == 50
    printed = re.search(r"^final loss: (\S+)$", result.stdout, re.MULTILINE)
    assert printed and math.isfinite(float(printed.group(1))), result.stdout[-500:]


# The status line and the hidden-unit chart at one moment, read together: the fill of each
# cell the chart (Vega, SVG renderer) draws, i.e. each unit's output there through the
# colour scale, in the chart's own order.
HIDDEN_NOW = """() => {
    const lines = document.querySelectorAll('.train-status');
    const charts = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
        .filter(chart => chart.textContent.includes('Hidden units over the input square'));
    const paths = charts.length === 1
        ? [...charts[0].querySelectorAll('g.mark-rect.role-mark > path')] : [];
    return {status: lines.length ? lines[lines.length - 1].innerText.trim() : '',
            charts: charts.length, fills: paths.map(path => path.getAttribute('fill'))};
}"""
# The page's state (as HIDDEN_NOW reads it) once the run has ended, or once the status line
# is at epoch `after` or later and the chart draws cells whose fills are not `fills` (with
# `fills` empty: draws any cells); until then false.
HIDDEN_MOVED = "([after, fills]) => { const now = (" + HIDDEN_NOW + """)();
    if (/^(Finished|Stopped)/.test(now.status)) return now;
    const epoch = /^Epoch (\\d+) \\/ /.exec(now.status);
    if (!epoch || Number(epoch[1]) < after || now.fills.length === 0) return false;
    const moved = fills.length === 0 || (now.fills.length === fills.length
        && now.fills.some((fill, index) => fill !== fills[index]));
    return moved && now;
}"""

def running_epoch(status_line: str, total: int) -> int:
    """The epoch a running run's status line ("Epoch 12 / 300 · ...") is at."""
    match = re.match(r"Epoch (\d+) / (\d+) · ", status_line)
    assert match, f"not a running run's status line: {status_line!r}"
    assert int(match.group(2)) == total, status_line
    return int(match.group(1))


def test_the_hidden_units_are_redrawn_while_a_run_trains(page, streamlit_server, capsys):
    """The two spirals at 10 epochs/s (300 epochs, about 30 s): mid-run, the hidden-unit
    chart drawn at one epoch differs from the one drawn a few epochs later, while the status
    line says the run is still going: the small multiples follow the training, not only its
    end."""
    from nncore.lab import experiment, plane

    epochs = experiment.default("spiral")["epochs"]
    assert epochs == 300
    train = spirals_at(page, streamlit_server, "10 epochs/s")

    started = time.perf_counter()
    train.get_by_role("button", name="Train", exact=True).click()
    # each wait also ends when the run does (the read then says so): a chart drawn only at
    # the end fails at once, not after a timeout
    first = page.wait_for_function(HIDDEN_MOVED, arg=[1, []], timeout=60_000).json_value()
    at = running_epoch(first["status"], epochs)  # still running, the chart drawn
    assert first["charts"] == 1 and first["fills"], first["status"]
    second = page.wait_for_function(HIDDEN_MOVED, arg=[at + 5, first["fills"]],
                                    timeout=60_000).json_value()
    later = running_epoch(second["status"], epochs)  # not the run's end: redrawn mid-run
    report(capsys, f"hidden units read at epochs {at} and {later}, "
                   f"{time.perf_counter() - started:.2f} s after Train")
    train.get_by_role("button", name="Stop", exact=True).click()
    train.get_by_text(re.compile(r"^Stopped · Epoch \d+ / 300")).wait_for(timeout=30_000)

    assert 1 <= at < at + 5 <= later < epochs, (at, later)
    # the same 16 cells of 15 x 15 (2-8-8-1 tanh), coloured otherwise
    cells = 16 * plane.HIDDEN_RESOLUTION ** 2
    assert len(first["fills"]) == len(second["fills"]) == cells, len(first["fills"])
    changed = sum(a != b for a, b in zip(first["fills"], second["fills"]))
    assert changed > len(first["fills"]) // 10, changed  # the pictures moved, not one cell
