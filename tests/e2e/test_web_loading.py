"""How the static site loads, in a real Chromium with the default build (Pyodide 0.17.1
copied into it) and no network beyond the local server: progress while Python boots, Ready
before the MNIST digits and the pretrained models are in (the page says they are loading
and a digit drawn meanwhile is read once they are), and a notice with Retry when Python
fails to load, after which Retry reaches Ready.

Failures are made with Playwright's routing: a request of the worker is aborted, or held
back and let through later. NNCORE_SHOTS=<dir> keeps the screenshots of the loading and
the failed states at 390 and 1024 px (they are always taken, into tmp_path otherwise).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from static_site import serving

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "web" / "node_modules" / "@pyodide" / "pyodide" / "dist"
SUB_PATH = "site/"
READY_TIMEOUT_MS = 90_000
WIDTHS = (390, 1024)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    """The default build (`python -m web.build --out DIR`, no --pyodide) on localhost."""
    from web.build import build

    if not (PYODIDE / "pyodide.js").is_file():
        pytest.fail("the offline Pyodide is missing: run `npm ci --prefix web`", pytrace=False)
    root = tmp_path_factory.mktemp("loading-site")
    build(root / SUB_PATH)
    with serving(root) as url:
        yield f"{url}/{SUB_PATH}"


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("NNCORE_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def offline_context(browser, site_url, width=1024):
    """A fresh context that can reach the local server only; `context.outside` lists every
    request that tried to go elsewhere (none may)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.outside = []

    def refuse(route):
        context.outside.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(site_url.split(SUB_PATH)[0]), refuse)
    return context


def shoot(page, folder, name, show=None):
    """Screenshots at each width of WIDTHS, scrolled to `show` (a selector) if given."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        if show:
            page.locator(show).scroll_into_view_if_needed()
        page.screenshot(path=str(folder / f"web-{name}-{width}.png"))
    page.set_viewport_size({"width": 1024, "height": 900})


def draw_one(page):
    """A vertical stroke on the pad with real mouse events: a 1."""
    box = page.locator("#pad").bounding_box()
    x = box["x"] + 0.5 * box["width"]
    page.mouse.move(x, box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(x, box["y"] + 0.85 * box["height"], steps=20)
    page.mouse.up()


def test_a_failed_load_offers_retry_and_retry_reaches_ready(browser, site_url, shots):
    context = offline_context(browser, site_url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    broken = {"on": True}

    def wasm(route):  # the runtime's WebAssembly: unreachable until `broken` is off
        if broken["on"]:
            route.abort("connectionfailed")
        else:
            route.continue_()

    context.route("**/pyodide/pyodide.asm.wasm", wasm)
    try:
        page.goto(site_url)
        page.wait_for_selector('#status[data-state="failed"]', timeout=READY_TIMEOUT_MS)
        assert page.inner_text("#status") == "Load failed"
        notice = page.locator("#notice")
        assert notice.is_visible()
        assert "Python could not be loaded" in notice.inner_text()
        assert "Retry" in notice.inner_text()
        retry = page.locator("#notice-retry")
        assert retry.is_visible() and retry.inner_text() == "Retry"
        assert page.locator('#load-steps [data-step="Python"]').get_attribute(
            "data-state") == "failed"
        summary = page.inner_text("#summary")
        assert "Waiting for Python" not in summary and "Retry" in summary
        assert page.is_disabled("#train")
        shoot(page, shots, "load-failed")

        broken["on"] = False
        started = time.time()
        retry.click()
        assert not notice.is_visible()
        page.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
        print(f"\n[web loading] Ready {time.time() - started:.1f} s after Retry")
        assert page.is_enabled("#train")
        page.wait_for_function("() => !window.nncoreWeb.data.loading", timeout=READY_TIMEOUT_MS)
        assert page.evaluate("window.nncoreWeb.data.pretrained") == ["mnist-mlp", "mnist-cnn"]
        assert "Waiting for Python" not in page.inner_text("#summary")
        assert page.locator("#summary tbody tr").count() > 1  # the XOR stack's table
        assert problems == [] and context.outside == []
    finally:
        context.close()


def test_a_missing_pyodide_script_fails_fast_with_retry(browser, site_url):
    context = offline_context(browser, site_url)
    page = context.new_page()
    context.route("**/pyodide/pyodide.js", lambda route: route.fulfill(status=404, body="gone"))
    try:
        page.goto(site_url)
        page.wait_for_selector('#status[data-state="failed"]', timeout=READY_TIMEOUT_MS)
        assert page.locator("#notice-retry").is_visible()
        assert "Python could not be loaded" in page.inner_text("#notice-text")
        assert "pyodide.js" in page.inner_text("#notice-text")  # which file is missing
    finally:
        context.close()


def test_ready_comes_before_the_data_and_the_page_says_it_is_loading(browser, site_url, shots):
    """The data files are held back: the page is Ready (XOR trains), Draw says the models
    are loading, a digit drawn meanwhile shows 'Loading…' and is read once they are in."""
    context = offline_context(browser, site_url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    held = []
    context.route("**/nncore/pretrained/*.npz", lambda route: held.append(route))
    context.route("**/nncore/data/*.npz", lambda route: held.append(route))
    try:
        started = time.time()
        page.goto(site_url)
        page.wait_for_selector("#load-steps li[data-state='running']")
        shoot(page, shots, "loading-python")
        page.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
        print(f"\n[web loading] Ready after {time.time() - started:.1f} s (data held back)")
        assert page.evaluate("window.nncoreWeb.data.loading") is True
        assert len(held) == 3  # the pretrained MLP and CNN, the MNIST subset

        # the first view works: the XOR preset trains without the data
        page.select_option("#speed", "full speed")
        page.click("#train")
        page.wait_for_function("() => window.nncoreWeb.report.status === 'finished'",
                               timeout=READY_TIMEOUT_MS)
        assert page.evaluate("window.nncoreWeb.report.outcome") == "done"

        page.click('[data-tab="draw"]')
        note = page.locator("#draw-loading")
        assert note.is_visible() and "still loading" in note.inner_text()
        data_step = page.locator('#load-steps [data-step="data"]')
        assert data_step.get_attribute("data-state") == "running"
        draw_one(page)
        page.wait_for_function("() => document.getElementById('confidence').textContent"
                               ".startsWith('Pretrained MLP: loading its weights')")
        assert page.inner_text("#prediction") == "…"
        shoot(page, shots, "loading-data", show="#panel-draw .reading")

        for route in held:
            route.continue_()
        page.wait_for_function("() => { const last = window.nncoreWeb.lastPrediction; "
                               "return last && last.digit !== null; }", timeout=READY_TIMEOUT_MS)
        assert page.evaluate("window.nncoreWeb.lastPrediction.digit") == 1
        assert not note.is_visible()
        assert data_step.get_attribute("data-state") == "done"
        assert data_step.inner_text().endswith(" s")
        assert page.is_enabled('#dataset option[value="mnist"]')
        assert problems == [] and context.outside == []
    finally:
        context.close()


def test_a_data_file_that_failed_is_fetched_again_by_retry(browser, site_url):
    context = offline_context(browser, site_url)
    page = context.new_page()
    missing = {"on": True}

    def mnist(route):
        if missing["on"]:
            route.fulfill(status=404, body="")
        else:
            route.continue_()

    context.route("**/nncore/data/mnist.npz", mnist)
    try:
        page.goto(site_url)
        page.wait_for_selector('#status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
        page.wait_for_function("() => !window.nncoreWeb.data.loading", timeout=READY_TIMEOUT_MS)
        assert "MNIST is unavailable" in page.inner_text("#notice-text")
        assert page.is_disabled('#dataset option[value="mnist"]')
        assert page.evaluate("window.nncoreWeb.data.pretrained") == ["mnist-mlp", "mnist-cnn"]
        assert page.inner_text("#status") == "Ready"  # XOR and the 2-D problems still train

        missing["on"] = False
        page.click("#notice-retry")
        page.wait_for_function("() => window.nncoreWeb.data.mnist !== null",
                               timeout=READY_TIMEOUT_MS)
        assert page.evaluate("window.nncoreWeb.data.mnist") == {"train": 10000, "test": 10000}
        assert page.is_enabled('#dataset option[value="mnist"]')
        assert "unavailable" not in page.inner_text('#dataset option[value="mnist"]')
        assert not page.is_visible("#notice")
    finally:
        context.close()
