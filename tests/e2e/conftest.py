"""Shared fixtures for the browser tests: a real Debian Chromium driven by Playwright.

Every test here carries the `e2e` marker. With CI=true nothing may skip: a missing
Chromium or Playwright is a failure that says what is missing.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# tests/ holds helpers the browser tests share with the others (lab_helpers)
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
STREAMLIT_START_SECONDS = 60

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def missing(what: str) -> None:
    """Fail in CI, skip on a developer's machine: a browser test never silently passes."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser test cannot run: {what}", pytrace=False)
    pytest.skip(what)


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package 'playwright' is not installed (pip install -e '.[dev]')")
    path = chromium_path()
    if path is None:
        missing("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_streamlit(folder: Path, env=None):
    """`streamlit run app` (headless, on a free port) in the repository root, with `env`
    added to the environment; yields its URL once /_stcore/health answers ok, then stops it.
    The server's output goes to folder/server.log, shown when it fails to start."""
    port = free_port()
    log_path = folder / "server.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})),
        )
        try:
            deadline = time.monotonic() + STREAMLIT_START_SECONDS
            while True:
                if process.poll() is not None:
                    pytest.fail(f"streamlit exited early:\n{log_path.read_text()}", pytrace=False)
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                        if answer.read() == b"ok":
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not answer within {STREAMLIT_START_SECONDS} s:"
                                f"\n{log_path.read_text()}", pytrace=False)
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def streamlit_server(tmp_path_factory):
    """A `streamlit run app` server for one test module: its URL."""
    with running_streamlit(tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="module")
def one_trainer_server(tmp_path_factory):
    """A server with one trainer slot (NNCORE_TRAINERS=1), for the classroom tests."""
    with running_streamlit(tmp_path_factory.mktemp("classroom"), {"NNCORE_TRAINERS": "1"}) as url:
        yield url
