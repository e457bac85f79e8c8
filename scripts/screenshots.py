"""Regenerate the README screenshots on purpose: `python scripts/screenshots.py`.

    docs/streamlit.png   a real `streamlit run app/streamlit_app.py` server on a free port,
                         the XOR preset trained to the end, 1280x900
    docs/web.png         the static site (`web.build`, local Pyodide) served over http.server,
                         the XOR preset trained to the end, 1280x900
    docs/web-hidden.png  the site's Train tab after the two-spirals preset: the boundary with
                         train and test points, and every hidden unit over the plane
    docs/web-draw.png    the site's Draw tab: a drawn 0 read by the pretrained CNN, and every
                         layer's output (feature maps, the flat layers' strip)
    docs/web-backprop.png the site's Inside tab: a backward step of the pretrained CNN's walk

The test suite never writes these files; run this when the pages change, look at the two
images, and commit them if they are right. Needs what the browser tests need:
`pip install -e ".[dev]"`, `npm ci --prefix web` and Chromium (/usr/bin/chromium, or $CHROMIUM).
`--only web` / `--only streamlit` / `--only views` takes some of them; `--docs DIR` writes
elsewhere.
"""
from __future__ import annotations

import argparse
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


def streamlit_screenshot(browser, path: Path) -> None:
    with tempfile.TemporaryFile("w+") as log:
        process, url = streamlit_server(log)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(url)
            page.get_by_role("tab", name="Train").wait_for(timeout=60_000)
            # The first script run must end before anything is clicked: a click that
            # interrupts it can leave a number field at 0 ("the learning rate must be a
            # positive number, got 0.0"). "Add layer" is the end of the Build tab.
            try:
                page.get_by_role("button", name="Add layer").wait_for(timeout=60_000)
            except Exception:
                page.wait_for_timeout(5000)  # a page without that button: just give it time
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
        except Exception:
            log.seek(0)
            print(log.read(), file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def choose_streamlit_xor(page) -> None:
    """Pick the XOR preset when the app offers a preset box (XOR is also the default)."""
    box = page.get_by_role("combobox", name="Start from a preset")
    if box.count() == 0:
        return
    box.click()
    page.get_by_role("option", name=re.compile("XOR")).first.click()
    page.wait_for_timeout(500)


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
    import math

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
            box = page.locator("#pad").bounding_box()
            ring = [(0.5 + 0.22 * math.sin(2 * math.pi * i / 48),
                     0.5 - 0.32 * math.cos(2 * math.pi * i / 48)) for i in range(49)]
            page.mouse.move(box["x"] + ring[0][0] * box["width"],
                            box["y"] + ring[0][1] * box["height"])
            page.mouse.down()
            for x, y in ring[1:]:
                page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"],
                                steps=2)
            page.mouse.up()
            page.wait_for_selector("#layer-views:not([hidden])", timeout=30_000)
            settle(page)
            page.locator("#panel-draw").screenshot(path=str(docs / "web-draw.png"))

            page.click('[data-tab="inside"]')
            page.select_option("#inside-model", "mnist-cnn")
            page.wait_for_function("() => window.nncoreWeb.walk && "
                                   "window.nncoreWeb.walk.dataset === 'mnist'")
            steps = page.evaluate("window.nncoreWeb.walk.steps.length")
            for _ in range(steps - 3):  # a backward step of a conv layer
                page.click("#inside-next")
            settle(page)
            page.locator("#panel-inside").screenshot(path=str(docs / "web-backprop.png"))
            context.close()
        finally:
            server.shutdown()
            server.server_close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("streamlit", "web", "views"), help="take just these")
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
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
