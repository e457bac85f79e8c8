"""Both hosts at 390 (a phone), 900, 1024, 1280 and 1920 px wide, in a real Chromium.

One page per host is reused across the widths (page.set_viewport_size). Each host gets a
trained XOR run (the charts and their legends) with the CNN preset's stack in Build, then the
pretrained CNN imported (its first-layer filters in Train, its feature maps in Draw, its
backprop walk in Inside, its code in Model). At every width each tab is screenshotted into
tmp_path and checked in the page itself:

- no visible button, tab, chip or label has text wider than its box (scrollWidth >
  clientWidth + 1, also for the inner boxes that clip, e.g. Streamlit's labels and selects);
- a <select> has room for its chosen option's text (measured with canvas measureText);
- a Streamlit number input keeps its -/+ buttons (Streamlit drops them below 120 px);
- every chart's canvas lies inside its clipping boxes, its right edge has no ink (a legend
  running off the canvas), and in the web page the Vega scene's bounds lie inside the canvas;
- picture tiles (filters, feature maps, misread digits) do not touch;
- the page does not scroll sideways.

Timings are printed, not asserted.
"""
from __future__ import annotations

import functools
import http.server
import math
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "web" / "node_modules" / "@pyodide" / "pyodide" / "dist"
CNN_FILE = ROOT / "nncore" / "pretrained" / "mnist-cnn.npz"
WIDTHS = (390, 900, 1024, 1280, 1920)
SUB_PATH = "demo/nncore/"

# The checks, run in the page: a list of what does not fit, empty when all is well.
CHECK = r"""(options) => {
    const problems = [];
    const seen = {controls: 0, selects: 0, charts: 0, tiles: 0};
    const shown = (node) => {
        const box = node.getBoundingClientRect();
        return box.width >= 1 && box.height >= 1
            && node.checkVisibility({visibilityProperty: true});
    };
    const name = (node) => {
        const tested = node.closest('[data-testid]');
        const text = (node.tagName === 'SELECT' ? node.getAttribute('aria-label') || ''
                      : node.innerText || node.value || node.getAttribute('aria-label') || '')
            .trim().replace(/\s+/g, ' ').slice(0, 40);
        return node.tagName.toLowerCase() + (node.id ? '#' + node.id : '')
            + (node.className && typeof node.className === 'string'
               ? '.' + node.className.trim().split(/\s+/)[0] : '')
            + (tested ? '[' + tested.dataset.testid + ']' : '') + ` "${text}"`;
    };
    const inline = (style) => style.display === 'inline' || style.display === 'contents';

    // 1. text wider than its control (the control itself, or an inner box that clips)
    for (const node of document.querySelectorAll(options.controls)) {
        if (!shown(node)) continue;
        seen.controls++;
        for (const part of [node, ...node.querySelectorAll('*')]) {
            // an inner box squeezed to 0 px still holds (and hides) its text
            if (part !== node && !part.checkVisibility({visibilityProperty: true})) continue;
            if (!part.textContent.trim() && part.tagName !== 'SELECT') continue;
            const style = getComputedStyle(part);
            if (inline(style) || part.tagName === 'svg' || part.closest('svg')) continue;
            if (part !== node && style.overflowX === 'visible') continue;
            // text only for screen readers (a 1 px clipped box), e.g. an icon's name
            if (style.position === 'absolute' && part.clientWidth <= 1) continue;
            if (part.scrollWidth > part.clientWidth + 1) {
                problems.push(`text clipped: ${name(node)} `
                              + `(${part === node ? '' : name(part) + ' '}scrollWidth `
                              + `${part.scrollWidth} > clientWidth ${part.clientWidth})`);
                break;
            }
        }
    }

    // 2. a <select> too narrow for the option it shows (room: its inner width less the arrow)
    const measure = document.createElement('canvas').getContext('2d');
    for (const select of document.querySelectorAll('select')) {
        if (!shown(select) || select.selectedIndex < 0) continue;
        seen.selects++;
        const style = getComputedStyle(select);
        measure.font = [style.fontStyle, style.fontWeight, style.fontSize, style.fontFamily]
            .join(' ');
        const text = select.options[select.selectedIndex].text;
        const need = measure.measureText(text).width;
        const room = select.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight) - options.selectArrow;
        if (need > room + 0.5) {
            problems.push(`select text clipped: ${name(select)} shows "${text}" `
                          + `(${need.toFixed(0)} px of text, ${room.toFixed(0)} px of room)`);
        }
    }

    // 3. number inputs that lost their -/+ buttons (Streamlit hides them when narrow)
    for (const field of document.querySelectorAll('[data-testid="stNumberInput"]')) {
        if (shown(field) && !field.querySelector('[data-testid="stNumberInputStepUp"]')) {
            problems.push(`number input without -/+: ${name(field)}`);
        }
    }

    // 4. charts: inside every box that clips them; a canvas has no ink on its right edge
    // (a legend running off it), an SVG chart's texts and legends lie inside the SVG
    for (const drawing of document.querySelectorAll(options.charts)) {
        if (!shown(drawing)) continue;
        seen.charts++;
        const chart = drawing.closest(options.chartBox) || drawing.parentElement;
        const box = drawing.getBoundingClientRect();
        const column = (drawing.closest(options.column) || chart).getBoundingClientRect();
        if (box.left < column.left - 1 || box.right > column.right + 1) {
            problems.push(`chart wider than its column: ${name(chart)} (${box.left.toFixed(0)}..`
                          + `${box.right.toFixed(0)} px in ${column.left.toFixed(0)}..`
                          + `${column.right.toFixed(0)} px)`);
        }
        for (let up = drawing.parentElement; up && up !== document.documentElement;
             up = up.parentElement) {
            const style = getComputedStyle(up);
            if (style.overflowX === 'visible') continue;
            const clip = up.getBoundingClientRect();
            if (box.left < clip.left - 1 || box.right > clip.right + 1) {
                problems.push(`chart cut off: ${name(chart)} (${box.left.toFixed(0)}..`
                              + `${box.right.toFixed(0)} px, ${name(up)} shows `
                              + `${clip.left.toFixed(0)}..${clip.right.toFixed(0)} px)`);
                break;
            }
        }
        if (drawing.tagName === 'CANVAS' && drawing.width > 4 && drawing.height > 4) {
            const edge = drawing.getContext('2d')
                .getImageData(drawing.width - 2, 0, 2, drawing.height).data;
            let ink = 0;
            for (let i = 0; i < edge.length; i += 4) {
                if (edge[i + 3] > 60 && Math.min(edge[i], edge[i + 1], edge[i + 2]) < 200) ink++;
            }
            if (ink > 2) problems.push(`chart drawn past its right edge: ${name(chart)}`);
        } else if (drawing.tagName === 'svg') {
            // a legend wholly inside; any text (labels, titles) inside it left and right
            for (const part of drawing.querySelectorAll('.role-legend, text')) {
                const r = part.getBoundingClientRect();
                const legend = part.classList.contains('role-legend');
                // a rotated axis title's box is its em box, wider than its ink: not judged
                if (r.width < 1 || (!legend && /rotate/.test(part.getAttribute('transform')))) {
                    continue;
                }
                const out = Math.max(box.left - r.left, r.right - box.right,
                                     legend ? box.top - r.top : 0,
                                     legend ? r.bottom - box.bottom : 0);
                if (out > (legend ? 1 : 2)) {
                    problems.push(`chart drawn outside its box: ${name(chart)} `
                                  + `(${legend ? 'legend' : 'text'} "`
                                  + `${part.textContent.slice(0, 20)}" ${out.toFixed(0)} px out)`);
                    break;
                }
            }
        }
    }
    if (options.views && window.nncoreWeb) {
        for (const [key, chart] of Object.entries(window.nncoreWeb.charts)) {
            const canvas = chart.element.querySelector('canvas');
            if (!chart.view || !canvas || !shown(canvas)) continue;
            const bounds = chart.view.scenegraph().root.bounds;
            const left = chart.view.origin()[0] + bounds.x1;
            const right = chart.view.origin()[0] + bounds.x2;
            if (left < -1 || right > canvas.clientWidth + 1) {
                problems.push(`chart '${key}' drawn outside its canvas: ${left.toFixed(0)}..`
                              + `${right.toFixed(0)} px of ${canvas.clientWidth} px`);
            }
        }
    }

    // 5. picture tiles that touch (no gap between two of them)
    for (const group of document.querySelectorAll(options.tiles)) {
        const tiles = [...group.children].map((child) => child.matches(options.tileItems)
                ? child : child.querySelector(options.tileItems))
            .filter((tile) => tile && shown(tile))
            .map((tile) => tile.getBoundingClientRect());
        let touching = 0;
        if (tiles.length > 1) seen.tiles++;
        for (let i = 0; i < tiles.length; i++) {
            for (let j = i + 1; j < tiles.length; j++) {
                const a = tiles[i], b = tiles[j];
                const gap = Math.max(b.left - a.right, a.left - b.right,
                                     b.top - a.bottom, a.top - b.bottom);
                if (gap <= 0.5) touching++;
            }
        }
        if (touching) problems.push(`${touching} pairs of tiles touch in ${name(group)}`);
    }

    // 6. the page scrolls sideways
    for (const selector of options.scrollers) {
        const scroller = document.querySelector(selector);
        if (scroller && scroller.scrollWidth > scroller.clientWidth + 1) {
            problems.push(`${selector} scrolls sideways: ${scroller.scrollWidth} px for `
                          + `${scroller.clientWidth} px`);
        }
    }
    return {problems, seen};
}"""

WEB = {
    "controls": "button, [role=tab], .chip, .field > span, .option > span, .load-steps li, .status",
    "selectArrow": 20,
    "charts": ".chart canvas",
    "chartBox": ".chart-card",
    "column": ".chart-card",
    "views": True,
    "tiles": ".tiles, .picture-row",  # sibling canvases (a figure's canvas in .picture-row)
    "tileItems": "canvas",
    "scrollers": ["html"],
}
STREAMLIT = {
    "controls": "button, [role=tab], [data-testid=stWidgetLabel], [data-baseweb=select], "
                "[data-testid=stMarkdownContainer] h4",
    "selectArrow": 20,
    "charts": "[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] > svg",
    "chartBox": "[data-testid=stVegaLiteChart]",
    "column": "[data-testid=stVerticalBlock]",  # the innermost block: its column
    "views": False,
    "tiles": ":has(> [data-testid=stImage])",  # the images of one st.image list
    "tileItems": "img",
    "scrollers": ["html", "[data-testid=stMain]", "[data-testid=stAppViewContainer]"],
}


class Looker:
    """Screenshots and checks of one page; collects every problem, with where it was seen."""

    def __init__(self, page, options, folder, host):
        self.page, self.options, self.folder, self.host = page, options, folder, host
        self.problems = {}  # what -> where it was seen
        self.counts = {}  # what was checked, summed over the views
        self.seen = 0

    def look(self, width, view):
        shot = self.folder / f"{self.host}-{width}-{view}.png"
        self.page.screenshot(path=str(shot), full_page=self.host == "web")
        found = self.page.evaluate(CHECK, self.options)
        for kind, count in found["seen"].items():
            self.counts[kind] = self.counts.get(kind, 0) + count
        for problem in found["problems"]:
            where = self.problems.setdefault(problem, [])
            if f"{width} px {view}" not in where:
                where.append(f"{width} px {view}")
        self.seen += 1

    def summary(self):
        """Each problem once, with the widths and views it was seen at (also written to
        problems.txt beside the screenshots)."""
        text = "\n".join(f"{self.host}: {problem}\n    seen at: {', '.join(where)}"
                         for problem, where in self.problems.items())
        (self.folder / "problems.txt").write_text(text + "\n")
        return text


def report(capsys, text):
    with capsys.disabled():
        print(f"\n[layout timing] {text}")


# ------------------------------------------------------------------ the web page


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    """The built site (offline Pyodide) served over HTTP from a sub-path."""
    from web.build import build

    if not (PYODIDE / "pyodide.js").is_file():
        pytest.fail("the offline Pyodide is missing: run `npm ci --prefix web`", pytrace=False)
    root = tmp_path_factory.mktemp("layout-site")
    build(root / SUB_PATH, str(PYODIDE))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                              **{".wasm": "application/wasm", ".js": "text/javascript"})

        def log_message(self, *arguments):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{SUB_PATH}"
    server.shutdown()
    server.server_close()


def web_resize(page, width):
    """A new width; then until every shown chart has re-measured itself (charts.js)."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_timeout(150)
    page.evaluate("""async () => {
        const charts = Object.values(window.nncoreWeb.charts);
        await Promise.all(charts.map((chart) => chart.queue));
        await Promise.all(charts.filter((chart) => chart.view)
                                .map((chart) => chart.view.runAsync()));
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    }""")


def web_loop(page):
    """A zero drawn on the pad with real mouse events."""
    box = page.locator("#pad").bounding_box()
    angles = [2 * math.pi * i / 40 for i in range(41)]
    points = [(0.5 + 0.22 * math.sin(angle), 0.5 - 0.32 * math.cos(angle)) for angle in angles]
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=2)
    page.mouse.up()


def test_the_web_page_fits_every_width(browser, site_url, tmp_path, capsys):
    started = time.perf_counter()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    looker = Looker(page, WEB, tmp_path, "web")
    try:
        page.goto(site_url)
        page.wait_for_selector('#status[data-state="ready"]', timeout=90_000)
        report(capsys, f"web: Ready after {time.perf_counter() - started:.1f} s")

        # a trained XOR run for the charts, then the CNN preset's stack in Build (the charts
        # keep showing the run)
        page.click('[data-preset="xor"]')
        page.wait_for_function("() => window.nncoreWeb.problem === null")
        page.select_option("#speed", "full speed")
        before = page.evaluate("window.nncoreWeb.report.version")
        page.click("#train")
        page.wait_for_function(
            "(before) => { const web = window.nncoreWeb; return web.report.version > before && "
            "web.report.status === 'finished' && web.rows && "
            "web.rows.version >= web.report.version; }", arg=before, timeout=120_000)
        page.click('[data-preset="mnist-cnn"]')
        page.wait_for_function("() => window.nncoreWeb.problem === null")
        report(capsys, f"web: XOR trained, CNN preset loaded at "
                       f"{time.perf_counter() - started:.1f} s")
        for width in WIDTHS:
            web_resize(page, width)
            looker.look(width, "xor-run-cnn-stack")

        # the pretrained CNN: its filters in Train, its feature maps in Draw, its walk in Inside
        page.click('[data-tab="model"]')
        page.set_input_files("#import", str(CNN_FILE))
        page.wait_for_function("() => document.getElementById('model-message').textContent"
                               ".startsWith('Imported')")
        page.wait_for_function("() => window.nncoreWeb.rows && window.nncoreWeb.rows.version >= "
                               "window.nncoreWeb.report.version && "
                               "window.nncoreWeb.rows.weights.length > 0")
        page.click('[data-tab="draw"]')
        page.select_option("#draw-model", "mnist-cnn")
        web_loop(page)
        page.wait_for_selector("#layer-maps .tiles canvas")
        page.click('[data-tab="inside"]')
        page.select_option("#inside-model", "mnist-cnn")
        page.wait_for_function("() => window.nncoreWeb.walk && "
                               "window.nncoreWeb.walk.dataset === 'mnist'")
        page.wait_for_selector("#inside-tensors .tensor canvas")
        for tab in ("train", "draw", "inside", "model"):
            page.click(f'[data-tab="{tab}"]')
            if tab == "model":
                page.wait_for_function("() => document.getElementById('code').textContent"
                                       ".includes('nncore')")
            for width in WIDTHS:
                web_resize(page, width)
                looker.look(width, tab)
    finally:
        context.close()
    report(capsys, f"web: {looker.seen} views checked in {time.perf_counter() - started:.1f} s "
                   f"({looker.counts}); screenshots in {tmp_path}")
    assert not errors, errors
    assert not looker.problems, looker.summary()
    assert min(looker.counts.values()) > 0, looker.counts  # every check had things to check


# ------------------------------------------------------------------ the Streamlit app


@pytest.fixture(scope="module")
def server(streamlit_server):
    return streamlit_server  # conftest.py: one `streamlit run app` per test module


def settled(page):
    """Until the app's script run is over and the page has painted."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stApp][data-test-script-state=running]')",
        timeout=30_000)
    page.wait_for_timeout(250)


def streamlit_tab(page, name):
    page.get_by_role("tab", name=name, exact=True).click()
    settled(page)
    return page.get_by_role("tabpanel", name=name)


def streamlit_stroke(page, panel):
    """A vertical stroke with real mouse events on the Draw tab's (largest) canvas."""
    boxes = [box for box in (canvas.bounding_box() for canvas in panel.locator("canvas").all())
             if box]
    box = max(boxes, key=lambda box: box["width"] * box["height"])
    middle = box["x"] + box["width"] / 2
    page.mouse.move(middle, box["y"] + 0.2 * box["height"])
    page.mouse.down()
    page.mouse.move(middle, box["y"] + 0.8 * box["height"], steps=12)
    page.mouse.up()


def test_the_streamlit_app_fits_every_width(browser, server, tmp_path, capsys):
    started = time.perf_counter()
    height = 1400  # tall: Streamlit's screenshots show the viewport only
    context = browser.new_context(viewport={"width": 1280, "height": height})
    page = context.new_page()
    looker = Looker(page, STREAMLIT, tmp_path, "streamlit")
    try:
        page.goto(server)
        page.get_by_role("button", name="Add layer").wait_for(state="visible", timeout=30_000)
        # a trained XOR run: its charts
        panel = streamlit_tab(page, "Train")
        panel.get_by_role("combobox", name="Speed").click()
        page.get_by_role("option", name="full speed", exact=True).click()
        settled(page)
        panel.get_by_role("button", name="Train", exact=True).click()
        panel.get_by_text("Learned: 4 of 4 points right").wait_for(timeout=90_000)
        report(capsys, f"streamlit: XOR trained at {time.perf_counter() - started:.1f} s")
        for width in WIDTHS:  # a new width re-lays the page out, with no rerun
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(400)  # the charts re-measure their width
            looker.look(width, "xor-run")

        # the pretrained CNN (its stack in Build, its filters in Train), a digit drawn for it
        # in Draw, its backprop walk in Inside
        page.set_viewport_size({"width": 1280, "height": height})
        model = streamlit_tab(page, "Model")
        model.locator("input[type=file]").set_input_files(str(CNN_FILE))
        model.get_by_text("Loaded mnist-cnn.npz").wait_for(timeout=30_000)
        for tab in ("Build", "Train", "Draw", "Inside", "Model"):
            panel = streamlit_tab(page, tab)
            if tab == "Draw":
                panel.get_by_text("Pretrained CNN").click()
                settled(page)
                page.wait_for_timeout(500)  # the pad is drawn anew after a rerun
                streamlit_stroke(page, panel)
                panel.get_by_text("It reads").wait_for(timeout=15_000)
                settled(page)
            if tab == "Inside":
                panel.get_by_text("Pretrained CNN").click()
                panel.get_by_text("Step 1 of").wait_for(timeout=30_000)
                settled(page)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(400)
                looker.look(width, tab.lower())
    finally:
        context.close()
    report(capsys, f"streamlit: {looker.seen} views checked in "
                   f"{time.perf_counter() - started:.1f} s ({looker.counts}); "
                   f"screenshots in {tmp_path}")
    assert not looker.problems, looker.summary()
    assert looker.counts["controls"] > 0 and looker.counts["charts"] > 0, looker.counts
