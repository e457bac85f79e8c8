"""Classroom capacity: N students on one `streamlit run app` server, in real Chromium.

    python -m benchmarks.classroom [--sessions 4 8 16] [--trainers N] [--seconds 60]
                                   [--draw-every 4] [--idle 8] [--blas-threads T]
                                   [--out FILE]

Starts the app (NNCORE_TRAINERS=--trainers; without it the app's default, one per core),
then drives one Chromium with Playwright, one browser context (one Streamlit session) per
student, and measures:
  * server memory per idle session: the server's RSS (the process and its children, from
    /proc) with --idle sessions sitting on the Build tab, minus the RSS with none open
    (after one warm-up visit, so imports and the shared MNIST data are already counted);
  * for each N: every student opens the MNIST MLP preset (a ?e= link, 100,000 epochs so no
    run ends), presses Train, goes to the Draw tab and draws a digit every --draw-every
    seconds for --seconds: the pen-up to answer latency (p50 / p95 over all drawings, the
    wall clock around Playwright), training epochs per second per session (from the status
    line, over the same window; mean over all N sessions and over those holding a trainer),
    how many waited for a trainer, and the server's RSS (peak over the window).
The browser runs on the same machine and takes its share of the cores.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from .common import emit, header, load_average, table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
EPOCHS = 100_000  # no run ends inside the window
STATUS = "() => document.querySelector('.train-status')?.textContent || ''"
sys.path.insert(0, ROOT)
from nncore.lab import experiment  # noqa: E402

# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


LOG = open(os.path.join(tempfile.gettempdir(), "nncore-classroom-server.log"), "w")


def start_server(trainers, blas_threads=None):
    port = free_port()
    environment = dict(os.environ)
    if trainers is not None:
        environment["NNCORE_TRAINERS"] = str(trainers)
    if blas_threads is not None:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            environment[name] = str(blas_threads)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=environment, stdout=LOG, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("streamlit exited early: see %s" % LOG.name)
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:
                if response.read() == b"ok":
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("streamlit did not answer within 60 s")


def children(pid):
    """pid and every descendant, from /proc/<pid>/task/*/children."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir("/proc/%d/task" % current):
                with open("/proc/%d/task/%s/children" % (current, task)) as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except OSError:
            pass
    return found


def rss_mb(pid) -> float:
    """Resident memory of the server and its children, in MB (VmRSS from /proc)."""
    total = 0
    for process in children(pid):
        try:
            with open("/proc/%d/status" % process) as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024.0


# ----------------------------------------------------------------------------- one student
# The drawing steps, kept apart so a new drawing pad only changes these three functions
# (the one drawing pad, pad/pad.js's canvas.nncore-pad, or before it streamlit-drawable-canvas
# in an iframe, as tests/e2e/test_streamlit.py's draw_vertical_stroke).

ANSWER = re.compile(r"It reads|not sure", re.IGNORECASE)
EMPTY = "Draw a digit from 0 to 9"


async def draw_digit(page) -> float:
    """Press, drag down the middle of the pad, release; returns the pen-up time."""
    canvas = page.get_by_role("tabpanel", name="Draw").locator("canvas.nncore-pad")
    if not await canvas.count():
        canvas = page.get_by_test_id("stBidiComponentIsolated").locator("canvas").last
    await canvas.wait_for(state="visible")
    box = await canvas.bounding_box()
    middle = box["x"] + box["width"] / 2
    await page.mouse.move(middle, box["y"] + 0.2 * box["height"])
    await page.mouse.down()
    await page.mouse.move(middle, box["y"] + 0.8 * box["height"], steps=12)
    await page.mouse.up()
    return time.perf_counter()


async def wait_for_answer(page, timeout_ms) -> None:
    await page.get_by_role("tabpanel", name="Draw").get_by_text(ANSWER).first.wait_for(
        timeout=timeout_ms)


async def clear_drawing(page) -> None:
    panel = page.get_by_role("tabpanel", name="Draw")
    await panel.get_by_role("button", name="Clear").click()
    await panel.get_by_text(EMPTY).wait_for(timeout=60_000)


async def open_app(context, url):
    page = await context.new_page()
    await page.goto(url, timeout=120_000)
    await page.get_by_role("button", name="Add layer").wait_for(state="visible",
                                                               timeout=120_000)
    return page


def epochs_done(text: str):
    """Epochs (with the fraction of the current one) from the status line, or None."""
    match = re.search(r"Epoch (\d+) / \d+(?: · batch (\d+) / (\d+))?", text)
    if not match:
        return None
    epochs = float(match.group(1))
    if match.group(2):
        epochs += int(match.group(2)) / float(match.group(3))
    return epochs


async def start_training(page):
    """Train tab, press Train (again if a busy server lost the click), then the Draw tab."""
    await page.get_by_role("tab", name="Train").click()
    panel = page.get_by_role("tabpanel", name="Train")
    for attempt in range(5):
        try:
            await panel.get_by_role("button", name="Train", exact=True).click(timeout=120_000)
            await page.wait_for_function(
                "() => /Epoch \\d+ \\//.test(document.querySelector('.train-status')"
                "?.textContent || '')", timeout=30_000)
            break
        except Exception:
            if attempt == 4:
                await page.screenshot(path=os.path.join(tempfile.gettempdir(),
                                                        "nncore-classroom-failed.png"))
                raise
    await page.get_by_role("tab", name="Draw").click()
    await page.get_by_role("tabpanel", name="Draw").get_by_text(EMPTY).wait_for(timeout=60_000)


async def draw_for(page, offset, until, every, latencies, failures):
    """Draw, wait for the answer, clear, rest; until the window closes."""
    await asyncio.sleep(offset)  # students do not draw in step
    while time.perf_counter() < until:
        try:
            pen_up = await draw_digit(page)
            await wait_for_answer(page, 30_000)
            latencies.append(time.perf_counter() - pen_up)
            await clear_drawing(page)
        except Exception as error:  # a timeout is a result too: count it, go on
            failures.append(type(error).__name__)
        await asyncio.sleep(every)


# ----------------------------------------------------------------------------- the runs


async def idle_memory(browser, url, pid, count):
    """(RSS with no session, RSS with `count` idle sessions) in MB."""
    warm = await browser.new_context()
    await open_app(warm, url)
    await warm.close()
    await asyncio.sleep(5)
    before = rss_mb(pid)
    contexts = [await browser.new_context() for _ in range(count)]
    await asyncio.gather(*(open_app(context, url) for context in contexts))
    await asyncio.sleep(5)
    after = rss_mb(pid)
    for context in contexts:
        await context.close()
    await asyncio.sleep(12)  # sessions closed, the trainer pool's stale time passed
    return before, after


async def classroom(browser, url, pid, students, seconds, every):
    link = url + "/?e=" + experiment.encode(dict(experiment.default("mnist-mlp"), epochs=EPOCHS))
    contexts = [await browser.new_context(viewport={"width": 1280, "height": 900})
                for _ in range(students)]
    pages = await asyncio.gather(*(open_app(context, link) for context in contexts))
    for page in pages:  # one after another, as a class arrives
        await start_training(page)
    await asyncio.sleep(3)
    start_texts = await asyncio.gather(*(page.evaluate(STATUS) for page in pages))
    started = time.perf_counter()
    until = started + seconds
    latencies, failures, memory = [], [], []

    async def sample_memory():
        while time.perf_counter() < until:
            memory.append(rss_mb(pid))
            await asyncio.sleep(1)

    await asyncio.gather(sample_memory(),
                         *(draw_for(page, every * number / students, until, every, latencies,
                                    failures) for number, page in enumerate(pages)))
    end_texts = await asyncio.gather(*(page.evaluate(STATUS) for page in pages))
    elapsed = time.perf_counter() - started
    rates, training = [], []
    for first, last in zip(start_texts, end_texts):
        begun, reached = epochs_done(first), epochs_done(last)
        rate = (reached - begun) / elapsed if begun is not None and reached is not None else 0.0
        rates.append(rate)
        if rate > 0:
            training.append(rate)
    waiting = sum(1 for text in end_texts if text.startswith("Waiting"))
    for context in contexts:
        await context.close()
    await asyncio.sleep(12)  # let the closed sessions' trainer slots go stale
    return {"students": students, "latencies": sorted(latencies), "failures": failures,
            "rates": rates, "training": training, "waiting": waiting,
            "rss": max(memory) if memory else rss_mb(pid), "seconds": elapsed}


def percentile(values, fraction):
    if not values:
        return None
    index = min(len(values) - 1, max(0, int(round(fraction * (len(values) - 1)))))
    return sorted(values)[index]


async def run(args, pid, url):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        version = browser.version
        idle = await idle_memory(browser, url, pid, args.idle)
        results = []
        for students in args.sessions:
            try:
                results.append(await classroom(browser, url, pid, students, args.seconds,
                                               args.draw_every))
            except Exception as error:  # report the others; say which one could not run
                results.append({"students": students, "error": str(error).split("\n")[0]})
            print("  %d students done: %s" % (students, results[-1].get("error", "ok")),
                  file=sys.stderr)
        await browser.close()
    return version, idle, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--trainers", type=int, default=None,
                        help="NNCORE_TRAINERS for the server (default: the app's, one per core)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="OPENBLAS_NUM_THREADS (and OMP_, MKL_) for the server")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window per N")
    parser.add_argument("--draw-every", type=float, default=4.0,
                        help="seconds each student rests between two drawings")
    parser.add_argument("--idle", type=int, default=8, help="idle sessions for the memory line")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    load_at_start = load_average()
    process, url = start_server(args.trainers, args.blas_threads)
    try:
        from app.trainers import configured_slots

        trainers = args.trainers or configured_slots()
        version, (before, after), results = asyncio.run(run(args, process.pid, url))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

    emit(header("Classroom: N students on one `streamlit run app` server, Chromium %s" % version,
                notes=[
        "NNCORE_TRAINERS=%d: at most %d trainings at once, the others wait in line" % (
            trainers, trainers),
        "each student: MNIST MLP preset (784-100-50-10 tanh, adam, 2,000 digits, batch 32), "
        "drawing a digit every %.0f s for %.0f s" % (args.draw_every, args.seconds),
        "server BLAS threads: %s" % (args.blas_threads or "NumPy's default"),
        "one Chromium (a context per student) on the same machine as the server",
        "server RSS: the streamlit process and its children (/proc VmRSS)",
    ], load_at_start=load_at_start), args.out)
    emit("idle sessions: %.0f MB with none open, %.0f MB with %d open: %.1f MB per idle session"
         % (before, after, args.idle, (after - before) / args.idle), args.out)

    def ms(value):
        return "-" if value is None else "%.0f" % (value * 1000)

    rows = []
    for result in results:
        if "error" in result:
            rows.append([result["students"], "did not run: %s" % result["error"][:60]]
                        + [""] * 7)
            continue
        latencies = result["latencies"]
        training = result["training"]
        rows.append([
            result["students"],
            "%d / %d" % (len(training), result["waiting"]),
            "%d (%d failed)" % (len(latencies), len(result["failures"])),
            ms(percentile(latencies, 0.5)), ms(percentile(latencies, 0.95)),
            "%.2f" % statistics.mean(result["rates"]),
            "%.2f" % (statistics.mean(training) if training else 0.0),
            "%.1f" % sum(result["rates"]),
            "%.0f" % result["rss"],
        ])
    emit(table(["students", "training / waiting", "drawings", "draw p50 ms", "draw p95 ms",
                "epochs/s per session", "per training session", "epochs/s total",
                "server RSS MB (peak)"], rows), args.out)
    emit("load avg  %s at end" % load_average(), args.out)


if __name__ == "__main__":
    main()
