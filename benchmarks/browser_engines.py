"""Browser engines: nncore in Pyodide against TensorFlow.js and ConvNetJS, in headless Chromium.

    npm ci --prefix web                  # the site's Pyodide 0.17.1 (and what the build needs)
    npm ci --prefix benchmarks/engines   # @tensorflow/tfjs 4.22.0, tfjs-backend-wasm 4.22.0, convnetjs 0.3.0
    python -m benchmarks.browser_engines [--epochs 3] [--out FILE]

Builds the site the default way (`web.build`, as benchmarks/browser.py does) for its Pyodide
folder and its nncore.zip, i.e. the runtime and the code the site's worker runs; serves it,
benchmarks/engines/ (a page and a worker script) and the digits from localhost; drives
/usr/bin/chromium with Playwright. Each engine runs in its own Web Worker of one page (nncore
runs in a worker on the site too):
  * nncore in Pyodide, through its public Network.from_spec / compile / fit / predict, with
    float32 one-hot targets as the site's session trains (benchmarks/engines/nncore_bench.py);
  * TensorFlow.js 4.22 on its wasm backend and on its cpu backend (plain JavaScript): a
    tf.sequential model, optimizer.minimize per batch, the loss read back per batch (nncore
    and TF.js predict in slices of 256, nncore's default);
  * ConvNetJS 0.3.0 (one sample at a time by design; its Trainer steps once per batch).
Only one engine computes at any moment: Python sends one command at a time, and the engines
take turns epoch by epoch (every engine's warm-up epoch, then every engine's first timed
epoch, ...), so that a shared machine's changing load falls on all of them alike.
The same networks for all: MLP 784-128-10 ReLU; CNN conv(8, 3x3, valid)-ReLU-maxpool(2)-
dense(10); softmax cross-entropy, SGD (no momentum) lr 0.05, batch 32; the same shuffled
2,000 training digits (nncore.datasets.load_mnist(), the bundled 10k subset), a new shuffle
every epoch. Timed: a warm-up epoch, then --epochs epochs (median, min-max); inference on
1,000 held-out digits of the test set (pixels in, labels out), a warm-up, then --predictions
runs. The accuracy on those digits after training shows that each engine really learned: a
row whose accuracy is below --learned is marked. Where an engine cannot do something the
cell says why (TF.js's wasm backend has no Conv2DBackpropFilter kernel, so it cannot train
the CNN; its CNN inference is then timed on the untrained weights). Last, nncore trains one
more epoch with a clock around each layer's forward and backward: where its time goes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

from .browser import CHROMIUM, CHROMIUM_ARGS, ROOT, serve
from .common import emit, header, load_average, load_mnist, table

ENGINES_DIR = os.path.join(ROOT, "benchmarks", "engines")
PYODIDE_PACKAGE = os.path.join(ROOT, "web", "node_modules", "@pyodide", "pyodide", "package.json")
ENGINES = ("nncore", "tfjs_wasm", "tfjs_cpu", "convnetjs")
NETS = ("mlp", "cnn")
# the targets: (measure, nncore's time over whose, at most)
TARGETS = (
    ("mlp epoch", "tfjs_wasm", 0.6),
    ("mlp inference", "tfjs_wasm", 2.0),
    ("cnn epoch", "convnetjs", 0.2),
    ("cnn inference", "tfjs_wasm", 3.0),
)


def version_of(package_json):
    with open(package_json) as handle:
        return json.load(handle)["version"]


def labels_of(pyodide_version):
    return {
        "nncore": "nncore in Pyodide %s" % pyodide_version,
        "tfjs_wasm": "TensorFlow.js %s, wasm backend"
        % version_of(os.path.join(ENGINES_DIR, "node_modules", "@tensorflow", "tfjs-backend-wasm",
                                  "package.json")),
        "tfjs_cpu": "TensorFlow.js %s, cpu backend"
        % version_of(os.path.join(ENGINES_DIR, "node_modules", "@tensorflow", "tfjs", "package.json")),
        "convnetjs": "ConvNetJS %s"
        % version_of(os.path.join(ENGINES_DIR, "node_modules", "convnetjs", "package.json")),
    }


def write_digits(folder, train, test, seed):
    """The shuffled training digits and the held-out test digits, as raw little-endian
    float32 pixels (N x 784) and uint8 labels; returns the data's source."""
    x_train, y_train, x_test, y_test, source = load_mnist()
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(x_train))[:train]
    held_out = rng.permutation(len(x_test))[:test]
    os.makedirs(folder)
    for name, x, y in (("train", x_train[chosen], y_train[chosen]),
                       ("test", x_test[held_out], y_test[held_out])):
        np.ascontiguousarray(x.reshape(len(x), 784), dtype="<f4").tofile(
            os.path.join(folder, name + "_x.f32"))
        np.asarray(y, dtype=np.uint8).tofile(os.path.join(folder, name + "_y.u8"))
    return source


def send(page, key, command, args=None, timeout=600.0):
    """One command to one engine's worker: {"result": ...} or {"error": why}."""
    return page.evaluate("([key, command, args, seconds]) => window.send(key, command, args, seconds)",
                         [key, command, args or {}, timeout])


def measure_all(page, engines, nets, job, args, labels):
    """Every engine, turn by turn: per network a fresh model in each worker, then round by
    round a warm-up epoch and args.epochs timed ones (each round visits every engine once),
    then the inference runs the same way; nncore's clocked epoch last."""
    results = {key: {net: {"epochs": [], "losses": [], "inference": [], "accuracy": None}
                     for net in nets} for key in engines}
    loads = []

    def log(text):
        print("  " + text, file=sys.stderr)

    for net in nets:
        for key in engines:
            answer = send(page, key, "build", {"kind": net}, args.timeout)
            if "error" in answer:
                why = "cannot build: %s" % answer["error"]
                results[key][net].update(trainError=why, inferenceError=why)
        for epoch in range(args.epochs + 1):
            loads.append(os.getloadavg()[0])
            for key in engines:
                result = results[key][net]
                if result.get("trainError"):
                    continue
                answer = send(page, key, "epoch", timeout=args.timeout)
                if "error" in answer:
                    result["trainError"] = answer["error"]
                    log("%s %s cannot train: %s" % (labels[key], net, answer["error"]))
                    continue
                seconds, loss = answer["result"]["seconds"], answer["result"]["loss"]
                result["losses"].append(loss)
                if epoch:
                    result["epochs"].append(seconds)
                log("%s %s epoch %d%s: %.3f s, loss %.4f" % (
                    labels[key], net, epoch, "" if epoch else " (warm-up)", seconds, loss))
        for run in range(args.predictions + 1):
            for key in engines:
                result = results[key][net]
                if result.get("inferenceError"):
                    continue
                answer = send(page, key, "predict", timeout=args.timeout)
                if "error" in answer:
                    result["inferenceError"] = answer["error"]
                    continue
                if run == 0:
                    result["accuracy"] = answer["result"]["accuracy"]
                    log("%s %s held-out accuracy %.3f" % (labels[key], net, result["accuracy"]))
                else:
                    result["inference"].append(answer["result"]["milliseconds"])
        if "nncore" in engines and not args.no_profile and not results["nncore"][net].get("trainError"):
            answer = send(page, "nncore", "profile", timeout=args.timeout)
            results["nncore"][net]["profile"] = answer.get("result")
    return results, loads


def spread(values, unit, scale=1.0, digits=3):
    values = [value * scale for value in values]
    return "%.*f %s (%.*f-%.*f)" % (digits, statistics.median(values), unit, digits, min(values),
                                    digits, max(values))


def measure_of(result, measure):
    """The median seconds of 'mlp epoch' / 'cnn inference' ..., or None when not measured."""
    net, what = measure.split()
    values = result["results"].get(net, {}).get("epochs" if what == "epoch" else "inference")
    if not values:
        return None
    return statistics.median(values) / (1.0 if what == "epoch" else 1000.0)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], epilog=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the warm-up")
    parser.add_argument("--predictions", type=int, default=5,
                        help="timed inference runs after the warm-up")
    parser.add_argument("--train", type=int, default=2000, help="training digits")
    parser.add_argument("--test", type=int, default=1000, help="held-out digits to score")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learned", type=float, default=0.5,
                        help="held-out accuracy below which a row is marked 'did not learn'")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated subset of %s" % ",".join(ENGINES))
    parser.add_argument("--nets", default=",".join(NETS), help="mlp, cnn or both")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip nncore's per-layer clock epoch")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per command to a worker (setup, build, one epoch, ...)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    engines = [name for name in args.engines.split(",") if name]
    nets = [name for name in args.nets.split(",") if name]
    unknown = set(engines) - set(ENGINES) | set(nets) - set(NETS)
    if unknown:
        parser.error("unknown engine or net: %s" % ", ".join(sorted(unknown)))
    for folder, command in ((os.path.dirname(PYODIDE_PACKAGE), "npm ci --prefix web"),
                            (os.path.join(ENGINES_DIR, "node_modules", "convnetjs"),
                             "npm ci --prefix benchmarks/engines")):
        if not os.path.isdir(folder):
            raise SystemExit("%s is missing: run `%s` first" % (folder, command))

    from playwright.sync_api import sync_playwright

    from web.build import build  # the repository root is on sys.path (benchmarks.browser)

    load_at_start = load_average()
    pyodide_version = version_of(PYODIDE_PACKAGE)
    labels = labels_of(pyodide_version)
    root = tempfile.mkdtemp(prefix="nncore-bench-engines-")
    build_started = time.time()
    build(os.path.join(root, "site"))  # the default, self-contained build
    build_seconds = time.time() - build_started
    os.symlink(ENGINES_DIR, os.path.join(root, "engines"))
    source = write_digits(os.path.join(root, "data"), args.train, args.test, args.seed)
    server = serve(root)
    base = "http://127.0.0.1:%d/" % server.server_address[1]
    job = {
        "engines": base + "engines/", "data": base + "data/", "pyodide": base + "site/pyodide/",
        "nncoreZip": base + "site/nncore.zip", "pyodideVersion": pyodide_version,
        "batch": args.batch, "lr": args.lr, "seed": args.seed,
    }
    abouts = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        chromium = browser.version
        page = browser.new_page()
        page.goto(base + "engines/index.html")
        for key in engines:
            page.evaluate("(key) => window.start(key)", key)
            answer = send(page, key, "setup", dict(job, engine=key), args.timeout)
            if "error" in answer:
                raise SystemExit("%s did not start: %s" % (labels[key], answer["error"]))
            abouts[key] = answer["result"]
            print("%s started" % labels[key], file=sys.stderr)
        results, loads = measure_all(page, engines, nets, job, args, labels)
        browser.close()
    server.shutdown()
    runs = {key: {"about": abouts[key], "results": results[key]} for key in engines}

    abouts = {key: run["about"] for key, run in runs.items()}
    notes = [
        "site built in %.1f s (web.build, default: its own Pyodide copy); served from localhost"
        % build_seconds,
        "each engine in its own Web Worker of one page; one engine at a time, turn by turn "
        "epoch by epoch; 1-min load average at the epoch rounds' starts: %.2f-%.2f"
        % (min(loads), max(loads)),
        "digits: %s; %d shuffled training digits (seed %d), %d held-out test digits"
        % (source, args.train, args.seed, args.test),
        "SGD lr %g, no momentum, batch %d, softmax cross-entropy; median (min-max) of %d epochs "
        "after a warm-up epoch; inference: %d runs after a warm-up, pixels in, labels out"
        % (args.lr, args.batch, args.epochs, args.predictions),
    ]
    for key in engines:
        about = dict(abouts[key], setupSeconds=round(abouts[key]["setupSeconds"], 2))
        notes.append("%s: %s" % (labels[key], json.dumps(about, sort_keys=True)))
    emit(header("Browser engines in Chromium %s: nncore in Pyodide vs TensorFlow.js, ConvNetJS"
                % chromium, notes=notes, load_at_start=load_at_start), args.out)

    # ------------------------------------------------------------------ the table
    def epoch_cell(result):
        if result.get("trainError"):
            return "cannot train (%s)" % result["trainError"]
        return spread(result["epochs"], "s")

    def inference_cell(result):
        if result.get("inferenceError"):
            return "cannot (%s)" % result["inferenceError"]
        cell = spread(result["inference"], "ms", digits=1)
        return cell + " untrained weights" if result.get("trainError") else cell

    def accuracy_cell(result):
        if result.get("trainError") or result.get("accuracy") is None:
            return "- (untrained)"
        mark = "" if result["accuracy"] >= args.learned else " DID NOT LEARN"
        return "%.3f%s" % (result["accuracy"], mark)

    headers = ["engine"]
    for net in nets:
        headers += ["%s epoch" % net.upper()]
    for net in nets:
        headers += ["%s inference / %d" % (net.upper(), args.test)]
    for net in nets:
        headers += ["%s held-out accuracy" % net.upper()]
    rows = []
    for key in engines:
        results = runs[key]["results"]
        label = labels[key]
        if any(not results[net].get("trainError") and results[net].get("accuracy") is not None
               and results[net]["accuracy"] < args.learned for net in nets):
            label += " (DID NOT LEARN)"
        rows.append([label] + [epoch_cell(results[net]) for net in nets]
                    + [inference_cell(results[net]) for net in nets]
                    + [accuracy_cell(results[net]) for net in nets])
    emit("", args.out)
    emit(table(headers, rows), args.out)

    # the training loss, warm-up epoch to last: the other sign of learning
    loss_rows = []
    for key in engines:
        results = runs[key]["results"]
        loss_rows.append([labels[key]] + [
            " -> ".join("%.3f" % loss for loss in results[net]["losses"]) or "-" for net in nets])
    emit("", args.out)
    emit(table(["training loss by epoch (warm-up first)"] + [net.upper() for net in nets],
               loss_rows), args.out)

    # ------------------------------------------------------------------ ratios and targets
    if "nncore" in runs:
        measures = ["%s %s" % (net, what) for what in ("epoch", "inference") for net in nets]
        others = [key for key in ("tfjs_wasm", "convnetjs") if key in runs]
        ratio_rows = []
        for measure in measures:
            row = [measure.replace("mlp", "MLP").replace("cnn", "CNN")]
            ours = measure_of(runs["nncore"], measure)
            for key in others:
                theirs = measure_of(runs[key], measure)
                row.append("-" if ours is None or theirs is None else "%.2fx" % (ours / theirs))
            ratio_rows.append(row)
        emit("", args.out)
        emit(table(["nncore's time / other's"] + [labels[key] for key in others], ratio_rows),
             args.out)

        target_rows = []
        for measure, key, limit in TARGETS:
            if measure.split()[0] not in nets or key not in runs:
                continue
            ours, theirs = measure_of(runs["nncore"], measure), measure_of(runs[key], measure)
            name = "%s in Pyodide <= %gx %s" % (measure.replace("mlp", "MLP").replace("cnn", "CNN"),
                                               limit, labels[key])
            if ours is None or theirs is None:
                target_rows.append([name, "-", "not measured"])
                continue
            ratio = ours / theirs
            target_rows.append([name, "%.2fx" % ratio, "MET" if ratio <= limit else "MISSED"])
        emit("", args.out)
        emit(table(["issue 14 target", "now", "verdict"], target_rows), args.out)

        # ------------------------------------------------------------------ nncore's time
        for net in nets:
            profile = runs["nncore"]["results"][net].get("profile")
            if not profile:
                continue
            total = profile["total"]
            emit("", args.out)
            emit(table(["nncore %s, one more epoch in Pyodide, clocked (%.0f ms in all)"
                        % (net.upper(), total), "ms", "share"],
                       [[name, "%.1f" % ms, "%.0f%%" % (100 * ms / total)]
                        for name, ms in profile["rows"]]), args.out)
    emit("load avg  %s at end" % load_average(), args.out)


if __name__ == "__main__":
    main()
