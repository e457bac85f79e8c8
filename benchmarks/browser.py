"""Browser benchmarks: the static web bundle in Chromium, nncore running in Pyodide.

    python -m benchmarks.browser [--runs 3] [--out FILE]
    python -m benchmarks.browser --ready-only [--runs 9]     # only the page's start-up

Builds the site the default way (`web.build`, the Pyodide 0.17.1 from npm copied into it),
serves it on localhost and drives /usr/bin/chromium with Playwright. Each run is a fresh
browser context (an empty cache, as on a first visit) and measures:
  * time to Ready: page.goto to the status reading "Ready" (Python, NumPy and nncore
    loaded: the first view works), with the page's own clock (navigation start to Ready)
    and where the worker's time went (its marks, in seconds since navigation); then when
    the data (the MNIST digits and the pretrained models, loaded after Ready) was in;
  * XOR: the preset's experiment (nncore.lab.experiment) at full speed - the first epoch whose
    loss is below 0.01, the session's training clock and the wall time of the whole run;
  * MNIST: 784-64-10 (ReLU, softmax) on 2,000 digits, one epoch, opened from a #e= link,
    click to final result (this includes scoring the 10,000 test digits the page shows);
  * predict latency: a drawn digit, pointer-up to probability bars drawn (the page's own
    performance.now() stopwatch, and Playwright's wall clock around it).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time

from .common import emit, header, load_average, table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
sys.path.insert(0, ROOT)
from nncore.lab import experiment  # noqa: E402

XOR_EPOCHS = experiment.default("xor")["epochs"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
MLP_64 = {
    "input_shape": [784],
    "layers": [
        {"type": "dense", "units": 64, "activation": None},
        {"type": "relu"},
        {"type": "dense", "units": 10, "activation": None},
        {"type": "softmax"},
    ],
}


def experiment_hash(spec, **settings):
    """The page's #e= link (nncore.lab.experiment.encode) for an MNIST stack."""
    return "#e=" + experiment.encode(dict(experiment.default("mnist-mlp"), spec=spec, **settings))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".wasm": "application/wasm", ".js": "text/javascript"})

    def log_message(self, *arguments):
        pass


def serve(directory):
    handler = functools.partial(QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def train(page, timeout_ms):
    """Train at full speed to the end of the run; (rows, report, wall seconds)."""
    page.click('[data-tab="train"]')
    page.select_option("#speed", "full speed")
    before = page.evaluate("window.nncoreWeb.report.version")
    started = time.time()
    page.click("#train")
    page.wait_for_function(
        "(before) => { const web = window.nncoreWeb; return web.report.version > before && "
        "web.report.status === 'finished' && web.rows && web.rows.version >= web.report.version; }",
        arg=before, timeout=timeout_ms)
    seconds = time.time() - started
    return page.evaluate("window.nncoreWeb.rows"), page.evaluate("window.nncoreWeb.report"), seconds


def draw_vertical_stroke(page):
    box = page.locator("#pad").bounding_box()
    points = [(0.5, 0.15 + 0.7 * i / 20) for i in range(21)]
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=3)
    started = time.time()
    page.mouse.up()
    return started


def ready_run(page, url, timeout_ms):
    """Load the page; the start-up's measures (seconds)."""
    result = {"load average": os.getloadavg()[0]}
    started = time.time()
    page.goto(url)
    page.wait_for_selector('#status[data-state="ready"]', timeout=timeout_ms)
    result["ready"] = time.time() - started
    load = page.evaluate("window.nncoreWeb.load")
    result["ready page"] = load["ready"]
    for name, seconds in load.get("marks", []):
        result["mark " + name] = seconds
    page.wait_for_function("() => !window.nncoreWeb.data.loading", timeout=timeout_ms)
    result["data"] = page.evaluate("performance.now() / 1000")
    return result


def one_run(browser, url, timeout_ms, ready_only=False):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    result = {}
    try:
        result = ready_run(page, url, timeout_ms)
        if ready_only:
            return result

        # XOR: the default preset and settings
        page.click('[data-preset="xor"]')
        page.wait_for_function("() => window.nncoreWeb.problem === null")
        rows, report, seconds = train(page, timeout_ms)
        result["xor wall"] = seconds
        result["xor session"] = report["seconds"]
        below = [row["step"] for row in rows["loss"]
                 if row["series"] == "train" and row["loss"] < 0.01]
        result["xor epochs"] = int(below[0]) if below else None

        # predict latency with the pretrained MLP (the default model of the draw panel)
        page.click('[data-tab="draw"]')
        page.click("#clear")
        page.evaluate("window.nncoreWeb.lastPrediction = null")
        released = draw_vertical_stroke(page)
        page.wait_for_function("() => { const last = window.nncoreWeb.lastPrediction; "
                               "return last && (last.digit !== null || last.error); }",
                               timeout=timeout_ms)
        result["predict wall"] = time.time() - released
        prediction = page.evaluate("window.nncoreWeb.lastPrediction")
        result["predict"] = prediction.get("milliseconds", float("nan")) / 1000
        result["predict python"] = prediction.get("pythonMilliseconds", float("nan")) / 1000

        # MNIST 784-64-10 on 2,000 digits, one epoch, in a fresh page opened from a link
        page.close()
        page = context.new_page()
        page.goto(url + experiment_hash(MLP_64, train_size=2000, epochs=1))
        page.wait_for_selector('#status[data-state="ready"]', timeout=timeout_ms)
        page.wait_for_function("() => window.nncoreWeb.problem === null")
        rows, report, seconds = train(page, timeout_ms)
        result["mnist wall"] = seconds
        result["mnist worker"] = report["seconds"]
        result["mnist accuracy"] = rows["test"]["accuracy"] if rows["test"] else None
        result["mnist settings"] = {key: page.input_value("#" + key)
                                    for key in ("optimizer", "batch-size", "lr", "size", "epochs")}
    except Exception:
        path = os.path.join(tempfile.gettempdir(), "nncore-browser-benchmark-failure.png")
        page.screenshot(path=path, full_page=True)
        print("a step failed; screenshot at %s; measured so far: %s" % (path, result),
              file=sys.stderr)
        raise
    finally:
        context.close()
    return result


def cell_of(runs, key):
    values = [run[key] for run in runs if run.get(key) is not None]
    if not values:
        return "-"
    return "%.3f (%.3f-%.3f)" % (statistics.median(values), min(values), max(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per step")
    parser.add_argument("--out", default=None)
    parser.add_argument("--ready-only", action="store_true",
                        help="measure only the start-up (time to Ready and its parts)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from web.build import build  # the repository root is on sys.path (above)

    load_at_start = load_average()
    site = tempfile.mkdtemp(prefix="nncore-bench-site-")
    build_started = time.time()
    build(os.path.join(site, "demo"))  # the default, self-contained build
    build_seconds = time.time() - build_started
    server = serve(site)
    url = "http://127.0.0.1:%d/demo/" % server.server_address[1]
    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        version = browser.version
        for _ in range(args.runs):
            runs.append(one_run(browser, url, args.timeout * 1000, args.ready_only))
        browser.close()
    server.shutdown()

    emit(header("Browser: the web bundle in Chromium %s, nncore in Pyodide" % version, notes=[
        "site built in %.1f s; served from localhost; %d fresh pages, median (min-max)"
        % (build_seconds, args.runs),
        "1-min load average at each page's start: %s" % cell_of(runs, "load average"),
    ] + ([] if args.ready_only else [
        "MNIST run settings as the page left them: %s" % runs[0].get("mnist settings"),
    ]), load_at_start=load_at_start), args.out)

    def cell(key):
        return cell_of(runs, key)

    marks = [key for key in runs[0] if key.startswith("mark ")]
    rows = [
        ["time to Ready (page.goto to 'Ready')", cell("ready")],
        ["time to Ready (page clock: navigation start to 'Ready')", cell("ready page")],
    ] + [["  worker: %s done at (page clock)" % key[5:], cell(key)] for key in marks] + [
        ["data loaded, after Ready (page clock)", cell("data")],
    ]
    if args.ready_only:
        emit(table(["measure", "seconds"], rows), args.out)
        emit("load avg  %s at end" % load_average(), args.out)
        return
    rows += [
        ["XOR training, %d epochs (the session's clock)" % XOR_EPOCHS, cell("xor session")],
        ["XOR epochs to loss < 0.01", cell("xor epochs")],
        ["XOR whole run, %d epochs (click to result)" % XOR_EPOCHS, cell("xor wall")],
        ["MNIST 784-64-10, 1 epoch on 2,000 digits (worker clock)", cell("mnist worker")],
        ["MNIST same, click to result incl. test scoring", cell("mnist wall")],
        ["MNIST test accuracy after that epoch", cell("mnist accuracy")],
        ["predict: pointer-up to bars drawn (page clock)", cell("predict")],
        ["predict: of which Python in the worker", cell("predict python")],
        ["predict: mouse-up to result seen (Playwright)", cell("predict wall")],
    ]
    emit(table(["measure", "seconds"], rows), args.out)
    emit("load avg  %s at end" % load_average(), args.out)


if __name__ == "__main__":
    main()
