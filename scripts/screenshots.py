"""Regenerate the README screenshots on purpose: `python scripts/screenshots.py`.

    docs/streamlit.png   a real `streamlit run app/streamlit_app.py` server on a free port,
                         the XOR preset trained to the end, 1280x900
    docs/web.png         the static site (`web.build`, local Pyodide) served over http.server,
                         the XOR preset trained to the end, 1280x900

The see-inside views, each cropped to its part of the page at a 1280x900 viewport:

    docs/web-hidden.png        the site's Train tab after the two-spirals preset (full speed):
                               the error, accuracy and decision boundary cards
    docs/web-hidden-units.png  ... and its card of every hidden unit over the plane
    docs/web-draw.png          the site's Draw tab: a 0 drawn (real mouse events) for the
                               pretrained CNN, and every layer's output
    docs/web-backprop.png      the site's Inside tab: the pretrained CNN's backprop walk at its
                               first backward conv step (4 · conv2d)
    docs/streamlit-hidden.png  the app's Train tab after the two-spirals preset (full speed):
                               the decision boundary and scores, and every hidden unit
    docs/streamlit-draw.png    the app's Draw tab: a 0 drawn on its pad for the pretrained CNN,
                               and every layer's output
    docs/streamlit-backprop.png the app's Inside tab: the same walk at the same step

Streamlit scrolls its main area, not the page: for its crops the viewport grows in height
only (the layout stays the 1280-px-wide one) until the whole tab is in it.

The test suite never writes these files; run this when the pages change, open every image,
and commit them if they are right. Needs what the browser tests need:
`pip install -e ".[dev]"`, `npm ci --prefix web` and Chromium (/usr/bin/chromium, or $CHROMIUM).
`--only streamlit` / `--only web` takes one of the first two, `--only views` the web site's
views, `--only streamlit-views` the app's; `--docs DIR` writes elsewhere.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 900}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_SECONDS = 60
READY_TIMEOUT_MS = 180_000
TRAIN_TIMEOUT_MS = 180_000
# Scroll the element near the top of its scrolling container: below Streamlit's header bar,
# with the row of fields above it (Epochs) still in view.
SCROLL_TO_TOP = """(element) => {
    element.scrollIntoView({block: "start"});
    let box = element.parentElement;
    while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
    (box || document.scrollingElement).scrollBy(0, -160);
}"""
# The end of a run, in the words of the current page or of the one it is becoming.
WEB_FINISHED = "Finished|Done"
STREAMLIT_FINISHED = "Finished|Trained"
# The backprop walk is shot at its first backward step of a conv layer (the deepest one: it
# has dE/dY, dE/dW, dE/dB and dE/dX); the step's title, as a regex.
CONV_TITLE = r"\d+ · conv2d$"
MAPS_SHOWN = 16  # the most feature maps a Draw tab draws per layer
# How many data marks of a kind ("rect", "symbol", ...) a Vega chart (SVG renderer) draws.
MARKS = "(chart, kind) => chart.querySelectorAll(`g.mark-${kind}.role-mark > path`).length"


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("Chromium is not installed (apt-get install chromium, or set $CHROMIUM)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_text(page, selector: str, pattern: str, timeout: int) -> None:
    """Wait until the element's text (the page's, for "body") matches the regex `pattern`."""
    try:
        page.wait_for_function(
            "([selector, pattern]) => { const node = document.querySelector(selector); "
            "return node !== null && new RegExp(pattern).test(node.innerText); }",
            arg=[selector, pattern], timeout=timeout,
        )
    except Exception:
        text = page.evaluate("(selector) => { const node = document.querySelector(selector);"
                             " return node && node.innerText.slice(-500); }", selector)
        raise RuntimeError(f"{selector} never read /{pattern}/ within {timeout / 1000:.0f} s;"
                           f" it reads: {text!r}") from None


def draw_ring(page, canvas) -> None:
    """Draw a 0 on a pad's canvas with real mouse events: one stroke round an ellipse."""
    import math

    box = canvas.bounding_box()
    ring = [(0.5 + 0.22 * math.sin(2 * math.pi * i / 48),
             0.5 - 0.32 * math.cos(2 * math.pi * i / 48)) for i in range(49)]
    page.mouse.move(box["x"] + ring[0][0] * box["width"], box["y"] + ring[0][1] * box["height"])
    page.mouse.down()
    for x, y in ring[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=2)
    page.mouse.up()


def settle(page) -> None:
    """Let the last chart redraw, and keep the pointer off every tooltip."""
    page.mouse.move(VIEWPORT["width"] - 5, VIEWPORT["height"] - 5)
    page.wait_for_timeout(1000)


# ------------------------------------------------------------------ the Streamlit app


def streamlit_server(log):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError("streamlit exited early; see its log above")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.read() == b"ok":
                    return process, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"streamlit did not answer within {SERVER_START_SECONDS} s")
        time.sleep(0.2)


@contextlib.contextmanager
def running_streamlit():
    """A `streamlit run app/streamlit_app.py` server for the block: its URL. Its log is
    printed when the block fails."""
    with tempfile.TemporaryFile("w+") as log:
        process, url = streamlit_server(log)
        try:
            yield url
        except BaseException:
            log.seek(0)
            print(log.read(), file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def open_streamlit(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Train").wait_for(timeout=60_000)
    # The first script run must end before anything is clicked: a click that interrupts it
    # can leave a number field at 0 ("the learning rate must be a positive number, got
    # 0.0"). "Add layer" is the end of the Build tab.
    try:
        page.get_by_role("button", name="Add layer").wait_for(timeout=60_000)
    except Exception:
        page.wait_for_timeout(5000)  # a page without that button: just give it time


def streamlit_screenshot(browser, path: Path) -> None:
    with running_streamlit() as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        open_streamlit(page, url)
        choose_streamlit_xor(page)
        page.get_by_role("tab", name="Train").click()
        panel = page.get_by_role("tabpanel", name="Train")
        train = panel.get_by_role("button", name="Train", exact=True)
        train.wait_for(state="visible", timeout=30_000)
        train.click()
        wait_for_text(page, "body", STREAMLIT_FINISHED, TRAIN_TIMEOUT_MS)
        # 900 px high: from the training buttons down, so the charts are in the picture.
        train.evaluate(SCROLL_TO_TOP)
        settle(page)
        page.screenshot(path=str(path))
        context.close()


def choose_streamlit_xor(page) -> None:
    """Pick the XOR preset when the app offers a preset box (XOR is also the default)."""
    box = page.get_by_role("combobox", name="Start from a preset")
    if box.count() == 0:
        return
    box.click()
    page.get_by_role("option", name=re.compile("XOR")).first.click()
    page.wait_for_timeout(500)


def streamlit_tab(page, name: str):
    """Open one of the app's tabs: its panel."""
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name)


def shared_experiment(page) -> dict:
    """The experiment the address bar's ?e= holds ({} for none)."""
    from urllib.parse import parse_qs, urlparse

    from nncore.lab import experiment

    text = parse_qs(urlparse(page.url).query).get("e", [None])[0]
    return experiment.decode(text) if text else {}


def wait_for_link(page, timeout: float = 30.0, **settings) -> None:
    """Wait until the address bar holds `settings`: every rerun ends by writing the
    experiment there, and a tab switch made before that can race the rerun."""
    deadline = time.monotonic() + timeout
    while True:
        shared = shared_experiment(page)
        if shared and all(shared.get(name) == value for name, value in settings.items()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the address bar never held {settings}: {shared}")
        page.wait_for_timeout(100)


def vega_chart(panel, title: str):
    """The one Vega chart of a panel whose text holds `title`."""
    charts = panel.get_by_test_id("stVegaLiteChart").filter(has_text=title)
    charts.first.wait_for(timeout=30_000)
    if charts.count() != 1:
        raise RuntimeError(f"{charts.count()} charts titled {title!r}")
    return charts.first


def wait_for_marks(chart, kind: str, at_least: int, timeout: float = 30.0) -> int:
    """Wait until a Vega chart draws `at_least` marks of a kind: how many it draws."""
    deadline = time.monotonic() + timeout
    while True:
        count = chart.evaluate(MARKS, kind)
        if count >= at_least:
            return count
        if time.monotonic() > deadline:
            raise RuntimeError(f"a chart drew {count} {kind} marks, not {at_least}")
        time.sleep(0.2)


def wait_for_pictures(page, panel, at_least: int) -> None:
    """Wait until `at_least` of a panel's images have loaded."""
    page.wait_for_function(
        "([panel, count]) => [...panel.querySelectorAll('img')]"
        ".filter(image => image.complete && image.naturalWidth > 0).length >= count",
        arg=[panel.element_handle(), at_least], timeout=30_000)


# The height of the app's page: Streamlit scrolls its main area, not the document.
APP_HEIGHT = """() => Math.max(document.body.scrollHeight, ...[...document
    .querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]
    .map(element => element.scrollHeight))"""


def shoot_app(page, panel, path: Path, first=None, last=None, margin: int = 12) -> None:
    """The part of a tab `panel` from the top of `first` to the bottom of `last` (the whole
    panel by default), as wide as the panel, with a margin of page around it.

    Streamlit scrolls its main area, which cuts what lies beyond its 900 px (and its header
    bar covers the top of it): the viewport is grown in height alone for the shot, until
    the whole page is in it, so the layout is the one 1280 px wide; then it is 1280x900
    again.
    """
    page.set_viewport_size({"width": VIEWPORT["width"],
                            "height": max(VIEWPORT["height"], page.evaluate(APP_HEIGHT) + 40)})
    page.mouse.move(2, 300)  # in the page's empty left margin: no tooltip, no hover
    page.wait_for_timeout(1500)
    side = panel.bounding_box()
    top = (first or panel).bounding_box()
    bottom = (last or panel).bounding_box()
    start = max(top["y"] - margin, side["y"])  # not the tab bar's edge above the panel
    page.screenshot(path=str(path), clip={
        "x": side["x"] - margin, "y": start, "width": side["width"] + 2 * margin,
        "height": bottom["y"] + bottom["height"] + margin - start})
    page.set_viewport_size(VIEWPORT)
    page.wait_for_timeout(500)


def streamlit_views(browser, docs: Path) -> None:
    """The see-inside views of the Streamlit app, each cropped to its part of the page."""
    sys.path.insert(0, str(ROOT))
    from nncore import pretrained
    from nncore.lab import experiment

    with running_streamlit() as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        open_streamlit(page, url)

        # Train: the two-spirals preset at full speed, its boundary and hidden units.
        wait_for_link(page)
        page.get_by_role("combobox", name="Start from a preset").click()
        page.get_by_role("option", name=experiment.PRESET_LABELS["spiral"], exact=True).click()
        wait_for_link(page, preset="spiral")
        train = streamlit_tab(page, "Train")
        train.get_by_label("Points", exact=True).wait_for(timeout=30_000)
        train.get_by_role("combobox", name="Speed").click()
        page.get_by_role("option", name="full speed", exact=True).click()
        page.wait_for_timeout(500)
        train.get_by_role("button", name="Train", exact=True).click()
        epochs = experiment.default("spiral")["epochs"]
        train.get_by_text(f"Finished · Epoch {epochs} / {epochs}").wait_for(
            timeout=TRAIN_TIMEOUT_MS)
        boundary = vega_chart(train, "Decision boundary")
        wait_for_marks(boundary, "symbol", experiment.default("spiral")["points"])
        hidden = vega_chart(train, "Hidden units over the input square")
        wait_for_marks(hidden, "rect", 16 * 100)  # 2-8-8-1: 16 hidden units
        shoot_app(page, train, docs / "streamlit-hidden.png", first=boundary.locator(
            "xpath=ancestor::div[@data-testid='stHorizontalBlock'][1]"), last=hidden)

        # Draw: a 0 drawn for the pretrained CNN, and every layer's output under the answer.
        draw = streamlit_tab(page, "Draw")
        draw.get_by_text("Pretrained CNN", exact=True).click()
        page.wait_for_function("() => [...document.querySelectorAll('input[type=radio]')]"
                               ".some(radio => radio.checked && radio.closest('label')"
                               "?.innerText.trim() === 'Pretrained CNN')")
        page.wait_for_timeout(1000)  # the fragment's rerun redraws the canvas: let it
        canvas = draw.locator("canvas.nncore-pad")
        canvas.wait_for(state="visible")
        draw_ring(page, canvas)
        draw.get_by_text("Inside the network").wait_for(timeout=30_000)
        network = pretrained.load("mnist-cnn")
        tiles = sum(min(layer.output_shape[-1], MAPS_SHOWN) for layer in network.layers
                    if len(layer.output_shape) == 3)
        wait_for_pictures(page, draw, tiles + 1)  # and the 28x28 picture
        wait_for_marks(vega_chart(draw, "Flat layers, unit by unit"), "rect", 1)
        wait_for_marks(vega_chart(draw, "Probabilities"), "rect", 10)
        shoot_app(page, draw, docs / "streamlit-draw.png")

        # Inside: the pretrained CNN's backprop walk, at its first backward conv step.
        inside = streamlit_tab(page, "Inside")
        inside.get_by_text("Backpropagation, step by step").wait_for()
        inside.get_by_text("Pretrained CNN", exact=True).click()
        label = inside.get_by_text(re.compile(r"^Step \d+ of \d+ · "))
        label.filter(has_text=" · Forward · 1 · conv2d").wait_for(timeout=60_000)
        steps = int(re.match(r"Step 1 of (\d+) · ", label.inner_text()).group(1))
        forward = inside.get_by_role("button", name="Next", exact=True)
        for number in range(2, steps + 1):
            forward.click()
            label.filter(has_text=f"Step {number} of {steps} · ").wait_for(timeout=30_000)
            if re.search("Backward · " + CONV_TITLE, label.inner_text().strip()):
                break
        else:
            raise RuntimeError("the walk has no backward conv2d step")
        wait_for_pictures(page, inside, 1)
        shoot_app(page, inside, docs / "streamlit-backprop.png")
        context.close()


# ------------------------------------------------------------------ the static site


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".wasm": "application/wasm", ".js": "text/javascript"})

    def log_message(self, *arguments):
        pass


def web_screenshot(browser, path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from web.build import build

    with tempfile.TemporaryDirectory(prefix="nncore-screenshot-") as folder:
        site = Path(folder) / "site"
        print(build(site))
        handler = functools.partial(QuietHandler, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            wait_for_text(page, "#status", "Ready", READY_TIMEOUT_MS)
            preset = page.locator('[data-preset="xor"]')
            if preset.count():
                preset.first.click()
            tab = page.locator('[data-tab="train"]')
            if tab.count():
                tab.first.click()
            page.wait_for_selector("#train:enabled", timeout=30_000)
            page.click("#train")
            wait_for_text(page, "#train-status", WEB_FINISHED, TRAIN_TIMEOUT_MS)
            settle(page)
            page.screenshot(path=str(path))
            context.close()
        finally:
            server.shutdown()
            server.server_close()


def built_site(folder: Path):
    """A site built into `folder` and served over http.server: (url, server)."""
    sys.path.insert(0, str(ROOT))
    from web.build import build

    site = folder / "site"
    print(build(site))
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def web_views(browser, docs: Path) -> None:
    """The see-inside views of the static site, each cropped to its part of the page."""
    with tempfile.TemporaryDirectory(prefix="nncore-screenshot-") as folder:
        url, server = built_site(Path(folder))
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(url)
            wait_for_text(page, "#status", "Ready", READY_TIMEOUT_MS)
            page.click('[data-preset="spiral"]')
            page.select_option("#speed", "full speed")
            page.wait_for_selector("#train:enabled", timeout=30_000)
            page.click("#train")
            page.wait_for_function("() => window.nncoreWeb.report.status === 'finished' && "
                                   "window.nncoreWeb.rows.version >= "
                                   "window.nncoreWeb.report.version", timeout=TRAIN_TIMEOUT_MS)
            settle(page)
            page.locator(".charts").screenshot(path=str(docs / "web-hidden.png"))
            page.locator("#card-hidden").screenshot(path=str(docs / "web-hidden-units.png"))

            page.click('[data-tab="draw"]')
            page.select_option("#draw-model", "mnist-cnn")
            draw_ring(page, page.locator("#pad"))
            page.wait_for_selector("#layer-views:not([hidden])", timeout=30_000)
            settle(page)
            page.locator("#panel-draw").screenshot(path=str(docs / "web-draw.png"))

            page.click('[data-tab="inside"]')
            page.select_option("#inside-model", "mnist-cnn")
            page.wait_for_function("() => window.nncoreWeb.walk && "
                                   "window.nncoreWeb.walk.dataset === 'mnist'")
            target = page.evaluate("(pattern) => window.nncoreWeb.walk.steps.findIndex("
                                   "step => step.direction === 'backward' && "
                                   "new RegExp(pattern).test(step.title))", CONV_TITLE)
            assert target > 0, "the walk has no backward conv2d step"
            for _ in range(target):
                page.click("#inside-next")
            wait_for_text(page, "#inside-step", "Backward · " + CONV_TITLE, 15_000)
            settle(page)
            page.locator("#panel-inside").screenshot(path=str(docs / "web-backprop.png"))
            context.close()
        finally:
            server.shutdown()
            server.server_close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("streamlit", "web", "views", "streamlit-views"),
                        help="take just these")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="where to write them")
    arguments = parser.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit('playwright is not installed: pip install -e ".[dev]"')
    shots = {"streamlit": streamlit_screenshot, "web": web_screenshot}
    arguments.docs.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for name, take in shots.items():
                if arguments.only in (None, name):
                    path = arguments.docs / f"{name}.png"
                    started = time.monotonic()
                    take(browser, path)
                    print(f"{path} written ({time.monotonic() - started:.1f} s)")
            if arguments.only in (None, "views"):
                started = time.monotonic()
                web_views(browser, arguments.docs)
                print(f"web views written to {arguments.docs} ({time.monotonic() - started:.1f} s)")
            if arguments.only in (None, "streamlit-views"):
                started = time.monotonic()
                streamlit_views(browser, arguments.docs)
                print(f"Streamlit views written to {arguments.docs}"
                      f" ({time.monotonic() - started:.1f} s)")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
