"""The drawing pad in both hosts, in a real Chromium: a dot gets the unsure notice, a stroke
is read as a 1, and the time from pen-up to the answer on screen is printed (not asserted).

The Streamlit app runs with `streamlit run app`; the web page is built with the offline
Pyodide from npm (web/node_modules/@pyodide/pyodide) and served over HTTP.
"""
from __future__ import annotations

import functools
import http.server
import statistics
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "web" / "node_modules" / "@pyodide" / "pyodide" / "dist"
DOT = [(0.5, 0.5)]
ONE = [(0.5, 0.15 + 0.7 * i / 20) for i in range(21)]  # a vertical stroke down the middle


def report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[pad timing] {text}")


def stroke(page, box, points) -> float:
    """One stroke through `points` (fractions of `box`) with real mouse events; returns the
    pen-up time (time.perf_counter)."""
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=2)
    page.mouse.up()
    return time.perf_counter()


def summary(latencies) -> str:
    return (", ".join(f"{1000 * latency:.0f} ms" for latency in latencies)
            + f" (median {1000 * statistics.median(latencies):.0f} ms)")


# ------------------------------------------------------------------ the Streamlit app


@pytest.fixture(scope="module")
def server(streamlit_server):
    return streamlit_server  # conftest.py: one `streamlit run app` per test module


def streamlit_pad(page):
    """The Draw tab's pad canvas, once visible."""
    page.get_by_role("tab", name="Draw").click()
    panel = page.get_by_role("tabpanel", name="Draw")
    panel.get_by_text("Draw a digit from 0 to 9").wait_for()
    canvas = panel.locator("canvas.nncore-pad")
    canvas.wait_for(state="visible")
    page.wait_for_timeout(500)
    return panel, canvas


def test_streamlit_a_dot_is_not_sure_and_a_stroke_reads_one(page, server, capsys):
    page.goto(server)
    page.get_by_role("button", name="Add layer").wait_for(state="visible", timeout=30_000)
    panel, canvas = streamlit_pad(page)
    stroke(page, canvas.bounding_box(), DOT)
    panel.get_by_text("Not sure: too little ink to read").wait_for(timeout=15_000)
    assert "It reads" not in panel.inner_text()
    panel.get_by_role("button", name="Clear").click()
    panel.get_by_text("Draw a digit from 0 to 9").wait_for()

    page.evaluate(IN_PAGE_STOPWATCH)
    latencies, in_page = [], []
    for attempt in range(7):
        pen_up = stroke(page, canvas.bounding_box(), ONE)
        panel.get_by_text("It reads 1").wait_for(timeout=15_000)
        latencies.append(time.perf_counter() - pen_up)
        page.wait_for_function("() => window.nncorePadTimes.length > %d" % attempt)
        panel.get_by_role("button", name="Undo").click()  # Undo of the only stroke: empty
        panel.get_by_text("Draw a digit from 0 to 9").wait_for()
        page.wait_for_timeout(300)
    in_page = [milliseconds / 1000 for milliseconds in page.evaluate("window.nncorePadTimes")]
    report(capsys, "Streamlit pen-up to 'It reads 1' shown, in the page: " + summary(in_page))
    report(capsys, "Streamlit pen-up to 'It reads 1' seen by the test: " + summary(latencies))


# Pen-up (a pointerup on the pad's canvas) to the answer's text in the DOM, on the page's
# clock: a MutationObserver sees the text the moment Streamlit writes it.
IN_PAGE_STOPWATCH = """() => {
    window.nncorePadTimes = [];
    let penUp = null;
    window.addEventListener('pointerup', (event) => {
        if (event.composedPath()[0].tagName === 'CANVAS') penUp = performance.now();
    }, true);
    new MutationObserver(() => {
        if (penUp !== null && document.body.textContent.includes('It reads 1')) {
            window.nncorePadTimes.push(performance.now() - penUp);
            penUp = null;
        }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


# ------------------------------------------------------------------ the web page


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".wasm": "application/wasm", ".js": "text/javascript"})

    def log_message(self, *arguments):
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    from web.build import build

    if not (PYODIDE / "pyodide.js").is_file():
        pytest.fail("the offline Pyodide is missing: run `npm ci --prefix web`", pytrace=False)
    root = tmp_path_factory.mktemp("pad-site")
    build(root / "site", str(PYODIDE))
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/site/"
    httpd.shutdown()
    httpd.server_close()


def web_reading(page, points):
    page.evaluate("window.nncoreWeb.lastPrediction = null")
    stroke(page, page.locator("#pad").bounding_box(), points)
    page.wait_for_function("() => { const last = window.nncoreWeb.lastPrediction; "
                           "return last && (last.digit !== null || last.error); }")
    return page.evaluate("window.nncoreWeb.lastPrediction")


def test_web_a_dot_is_not_sure_and_a_stroke_reads_one(page, site_url, capsys):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(site_url)
    page.wait_for_selector('#status[data-state="ready"]', timeout=90_000)
    page.click('[data-tab="draw"]')
    for model in ("mnist-mlp", "mnist-cnn"):
        page.select_option("#draw-model", model)
        page.click("#clear")
        dot = web_reading(page, DOT)
        assert dot["sure"] is False, dot
        assert page.inner_text("#prediction") == "?"
        assert page.inner_text("#confidence") == "Not sure: too little ink to read"
        bars = page.evaluate("window.nncoreWeb.lastPrediction.probabilities")
        assert len(bars) == 10 and page.locator("#chart-probabilities canvas, "
                                                "#chart-probabilities svg").count() >= 1
        latencies = []
        for attempt in range(5):
            page.click("#clear")
            one = web_reading(page, ONE)
            assert one["sure"] and one["digit"] == 1, one
            latencies.append(one["milliseconds"] / 1000)
        assert page.inner_text("#prediction") == "1"
        assert "% sure" in page.inner_text("#confidence")
        report(capsys, f"web ({model}) pen-up to bars drawn: " + summary(latencies))
    assert problems == []
