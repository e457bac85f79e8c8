"""Training throughput: seconds per epoch on the 10k MNIST subset, nncore against PyTorch CPU,
a hand-written fused NumPy loop and the articles' per-sample design; then inference on the
10,000 test digits (nncore against PyTorch) and what nncore's divergence guard costs.

    python -m benchmarks.throughput [--runs 7] [--out benchmarks/results/throughput.txt]
    python -m benchmarks.throughput --baseline ../main-before   # also an older nncore

`--baseline DIR` loads the nncore package found in DIR (say a `git worktree` of an older
commit) under another name and times it as one more contender, "nncore baseline", in the
same interleaved rounds: a before/after comparison that a busy machine cannot skew.

All contenders live in this one process and take turns (run 1 of each, then run 2 of each,
...), so a burst of load from elsewhere hits them all alike; each cell is the median.
Every contender shuffles each epoch, computes the batch loss and takes an SGD step.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

from . import article_design, handwritten
from .common import configure_threads, emit, header, load_average, load_mnist, median, table

HERE = os.path.dirname(os.path.abspath(__file__))


# ----------------------------------------------------------------------------- contenders
# Each has .name, .runs (how many timed epochs), .epoch() -> mean loss, and .scale: the
# factor from the timed work to one full epoch (1 unless it times a subset).


class Nncore:
    name = "nncore"
    package = None  # the nncore module to time (None: `import nncore`)

    def __init__(self, kind, x, y, batch_size, runs):
        nncore = self.package
        if nncore is None:
            import nncore

        if kind == "mlp":
            layers = [nncore.Dense(128, activation="relu"), nncore.Dense(10)]
            shape, lr = (784,), 0.1
        else:
            layers = [nncore.Conv2D(8, 3), nncore.ReLU(), nncore.MaxPool2D(2), nncore.Flatten(),
                      nncore.Dense(10)]
            shape, lr = (28, 28, 1), 0.05
        self.net = nncore.Network(layers, input_shape=shape, seed=0)
        self.net.compile(loss="cross_entropy", optimizer="sgd", lr=lr)
        self.x, self.y, self.batch_size, self.runs, self.scale = x, y, batch_size, runs, 1.0
        self.seed = 0

    def epoch(self):
        self.seed += 1
        history = self.net.fit(self.x, self.y, epochs=1, batch_size=self.batch_size, seed=self.seed)
        return history.history["loss"][-1]

    def predict(self, x):
        """Class scores for x, in nncore's own slices (predict's default batch of 256)."""
        return self.net.predict(x)


def baseline_contender(directory):
    """A contender class timing the nncore package in `directory` (imported as
    nncore_baseline, so that both versions live in this process)."""
    init = os.path.join(os.path.abspath(directory), "nncore", "__init__.py")
    if not os.path.exists(init):
        raise SystemExit("--baseline: no nncore/__init__.py in %s" % directory)
    spec = importlib.util.spec_from_file_location(
        "nncore_baseline", init, submodule_search_locations=[os.path.dirname(init)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["nncore_baseline"] = package
    spec.loader.exec_module(package)
    return type("NncoreBaseline", (Nncore,), {"name": "nncore baseline", "package": package})


class Torch:
    name = "PyTorch"

    def __init__(self, kind, x, y, batch_size, runs):
        import torch
        from torch import nn

        torch.manual_seed(0)
        if kind == "mlp":
            self.model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            lr = 0.1
        else:
            self.model = nn.Sequential(
                nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(13 * 13 * 8, 10)
            )
            x = x.reshape(-1, 1, 28, 28)  # PyTorch is channels-first
            lr = 0.05
        self.kind = kind
        self.torch = torch
        self.x, self.y = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))
        self.loss = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.batch_size, self.runs, self.scale = batch_size, runs, 1.0

    def epoch(self):
        torch = self.torch
        order = torch.randperm(len(self.x))
        total = 0.0
        for start in range(0, len(self.x), self.batch_size):
            chosen = order[start : start + self.batch_size]
            xb, yb = self.x[chosen], self.y[chosen]
            self.optimizer.zero_grad()
            loss = self.loss(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(chosen)
        return total / len(self.x)

    def predict(self, x):
        """Class scores for x in slices of 256, as nncore's predict slices it."""
        torch = self.torch
        if self.kind == "cnn":
            x = x.reshape(-1, 1, 28, 28)
        x = torch.from_numpy(np.ascontiguousarray(x))
        with torch.no_grad():
            return torch.cat([self.model(x[start : start + 256])
                              for start in range(0, len(x), 256)]).numpy()


class Handwritten:
    name = "hand-written NumPy"

    def __init__(self, kind, x, y, batch_size, runs):
        self.model = handwritten.MLP() if kind == "mlp" else handwritten.CNN()
        self.x, self.y, self.batch_size, self.runs, self.scale = x, y, batch_size, runs, 1.0

    def epoch(self):
        return self.model.epoch(self.x, self.y, self.batch_size)


class Article:
    name = "articles' per-sample"

    def __init__(self, kind, x, y, batch_size, runs, samples):
        rng = np.random.default_rng(0)
        if kind == "mlp":
            self.network = article_design.mlp(rng)
            self.x = x.reshape(-1, 1, 784)  # the article's (samples, 1, 784)
        else:
            self.network = article_design.cnn(rng)
            self.x = x.reshape(-1, 28, 28, 1)
        self.y, self.runs, self.samples = y, runs, samples
        self.scale = len(x) / samples
        self.rng = rng

    def epoch(self):
        order = self.rng.permutation(len(self.x))[: self.samples]
        return self.network.fit(self.x, self.y, 0.01, order)


# ----------------------------------------------------------------------------- measuring

# what a run's seconds are: wall time, or with --cpu-time the process's CPU time (all its
# threads), which a busy machine's preemptions do not inflate; main() sets it
clock = time.perf_counter


def measure(contenders, warmup=True):
    """Interleaved rounds; returns {name: [seconds per full epoch, ...]} and last losses."""
    if warmup:
        for contender in contenders:
            contender.epoch()  # first-touch allocations, BLAS thread start-up, torch init
    seconds = {c.name: [] for c in contenders}
    losses = {}
    for round_number in range(max(c.runs for c in contenders)):
        for contender in contenders:
            if round_number < contender.runs:
                start = clock()
                losses[contender.name] = contender.epoch()
                seconds[contender.name].append((clock() - start) * contender.scale)
    return seconds, losses


def measure_inference(contenders, x, runs):
    """Interleaved: {name: [seconds to score all of x, ...]} after one warm-up each."""
    for contender in contenders:
        contender.predict(x)
    seconds = {c.name: [] for c in contenders}
    for _ in range(runs):
        for contender in contenders:
            start = clock()
            contender.predict(x)
            seconds[contender.name].append(clock() - start)
    return seconds


def inference_report(title, seconds, samples):
    reference = median(seconds["nncore"])
    rows = []
    for name, values in seconds.items():
        mid = median(values)
        rows.append([name, "%.4f" % mid, "%.4f-%.4f" % (min(values), max(values)),
                     f"{samples / mid:,.0f}", "%.2f" % (mid / reference), "%d runs" % len(values)])
    headers = ["contender", "s / %d digits" % samples, "min-max", "digits/s", "time/nncore", "runs"]
    return title + "\n" + table(headers, rows)


def guard_cost(contender_class, x, y, batch_size, runs):
    """(the CPU time nncore's divergence guard takes in a training epoch of the MLP over the
    epoch's CPU time, weight copies per epoch). Every guard call is timed: the methods of
    nncore.guard.DivergenceGuard, or, for an nncore from before that module, np.copyto (its
    training loop's only use of it was copying every weight before every batch). CPU time,
    not wall time: a busy machine's preemptions would land in the timed calls as well. The
    timer's own cost per call (measured on a call that does nothing) is taken off."""
    spent, calls, depth = [0.0], [0], [0]

    def timing(function):
        def timed_call(*args, **kwargs):
            depth[0] += 1
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:  # a call inside a timed call is counted once
                    spent[0] += time.thread_time() - start
                    calls[0] += 1
        return timed_call

    nothing = timing(lambda: None)
    for _ in range(20000):
        nothing()
    timer_cost = spent[0] / calls[0]

    package = contender_class.package or __import__("nncore")
    guard = getattr(package, "guard", None)
    if guard is not None:
        # the methods the training loop calls (checkpoints happen inside passed)
        owner, names = guard.DivergenceGuard, ("starting", "passed", "finite")
    else:
        owner, names = np, ("copyto",)
    originals = {name: getattr(owner, name) for name in names}
    for name in names:
        setattr(owner, name, timing(originals[name]))
    try:
        contender = contender_class("mlp", x, y, batch_size, runs)
        contender.epoch()
        fractions = []
        for _ in range(runs):
            spent[0], calls[0] = 0.0, 0
            start = time.process_time()
            contender.epoch()
            guard_seconds = max(spent[0] - calls[0] * timer_cost, 0.0)
            fractions.append(guard_seconds / (time.process_time() - start))
    finally:
        for name, function in originals.items():
            setattr(owner, name, function)
    batches = -(-len(x) // batch_size)
    checkpoints = batches // guard.DivergenceGuard.every + 1 if guard is not None else batches
    return median(fractions), checkpoints


def report(title, contenders, seconds, losses, samples):
    reference = median(seconds["nncore"])
    rows = []
    for contender in contenders:
        values = seconds[contender.name]
        mid = median(values)
        note = "%d runs" % len(values)
        if contender.scale != 1.0:
            note += ", %d samples x %.0f" % (contender.samples, contender.scale)
        rows.append([
            contender.name,
            "%.3f" % mid,
            "%.3f-%.3f" % (min(values), max(values)),
            f"{samples / mid:,.0f}",
            "%.2f" % (mid / reference),
            "%.2f" % (reference / mid),
            "%.3f" % losses[contender.name],
            note,
        ])
    headers = ["contender", "s/epoch", "min-max", "samples/s", "time/nncore", "nncore/time",
               "last loss", "runs"]
    return title + "\n" + table(headers, rows)


def targets(results, guard=None, threads=None):
    """Issue 13's targets, each with its measured ratio (the 0.6x PyTorch target of the MLP
    is stated for one thread: the line says when this run had more)."""
    lines = ["targets (nncore time / other time; lower is better for nncore):"]
    checks = [
        ("MLP b32", "PyTorch", 0.6), ("MLP b32", "hand-written NumPy", 1.0),
        ("MLP b128", "PyTorch", 0.6), ("MLP b128", "hand-written NumPy", 1.0),
        ("CNN b32", "PyTorch", 1.0), ("CNN b128", "PyTorch", 1.0),
        ("CNN inference", "PyTorch", 1.0),
    ]
    for case, other, limit in checks:
        if case not in results or other not in results[case]:
            continue
        ratio = median(results[case]["nncore"]) / median(results[case][other])
        note = ""
        if "nncore baseline" in results[case]:
            note += "  (baseline: %.2f)" % (median(results[case]["nncore baseline"])
                                           / median(results[case][other]))
        if case.startswith("MLP") and other == "PyTorch" and threads != 1:
            note = "  (the target is for --threads 1)"
        lines.append("  %-13s nncore / %-18s = %.2f  (target <= %.1f)  %s%s"
                     % (case, other, ratio, limit, "MET" if ratio <= limit else "MISSED", note))
    for (case, name), (fraction, checkpoints) in sorted((guard or {}).items()):
        lines.append("  %-13s %s's divergence guard = %.1f%% of the epoch, %d weight copies  "
                     "(target <= 3%%)  %s" % (case, name, 100 * fraction, checkpoints,
                                              "MET" if fraction <= 0.03 else "MISSED"))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed epochs per fast contender")
    parser.add_argument("--article-runs", type=int, default=3)
    parser.add_argument("--article-cnn-samples", type=int, default=300)
    parser.add_argument("--only", choices=("mlp", "cnn"), default=None)
    parser.add_argument("--no-article", action="store_true", help="skip the per-sample design")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: NumPy's own setting)")
    parser.add_argument("--out", default=None, help="also append the tables to this file")
    parser.add_argument("--baseline", metavar="DIR", default=None,
                        help="also time the nncore package in DIR, as 'nncore baseline'")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by the process's CPU time, not wall time (on a busy "
                             "machine; fair with --threads 1, where no thread spins idle)")
    args = parser.parse_args(argv)
    global clock
    clock = time.process_time if args.cpu_time else time.perf_counter
    nncores = [Nncore] + ([baseline_contender(args.baseline)] if args.baseline else [])

    torch = configure_threads(args.threads)
    x_train, y_train, x_test, _, source = load_mnist()
    flat = np.ascontiguousarray(x_train.reshape(len(x_train), -1), dtype=np.float32)
    images = np.ascontiguousarray(x_train, dtype=np.float32)
    test_flat = np.ascontiguousarray(x_test.reshape(len(x_test), -1), dtype=np.float32)
    test_images = np.ascontiguousarray(x_test, dtype=np.float32)
    emit(header("Training throughput: seconds per epoch, %d samples" % len(x_train), notes=[
        "data: %s" % source,
        "MLP 784-128-10 ReLU / CNN conv(8,3x3 valid)-ReLU-maxpool(2)-flatten-dense(10); "
        "softmax cross-entropy, plain SGD, shuffled every epoch",
        "median of %d interleaved epochs after one warm-up epoch each; the articles' design "
        "runs %d (it is slow), always batch 1, float64 weights" % (args.runs, args.article_runs),
        "CNN per-sample: %d samples timed per run and scaled to the full epoch (its scipy-free "
        "conv loops make a whole epoch take minutes)" % args.article_cnn_samples,
        "seconds are %s" % ("the process's CPU time (--cpu-time)" if args.cpu_time
                            else "wall-clock time"),
        "inference: the 10,000 test digits in slices of 256 (nncore's predict default), "
        "PyTorch under no_grad; median of %d interleaved runs" % args.runs,
        "divergence guard: the CPU time nncore's guard calls take within an MLP epoch, timed "
        "around each call (less the timer's own cost), over the epoch's CPU time",
    ] + (["nncore baseline: the nncore package in %s (%s)" % (
        os.path.abspath(args.baseline), nncores[1].package.__file__)] if args.baseline else [])),
        args.out)
    if torch is None:
        emit("PyTorch is not installed: pip install torch==2.13.0 (CPU wheel)", args.out)

    cases = []
    if args.only in (None, "mlp"):
        for batch_size in (32, 128):
            cases.append(("MLP b%d" % batch_size, "mlp", flat, batch_size))
    if args.only in (None, "cnn"):
        for batch_size in (32, 128):
            cases.append(("CNN b%d" % batch_size, "cnn", images, batch_size))

    results = {}
    for name, kind, x, batch_size in cases:
        contenders = [cls(kind, x, y_train, batch_size, args.runs) for cls in nncores]
        if torch is not None:
            contenders.append(Torch(kind, x, y_train, batch_size, args.runs))
        contenders.append(Handwritten(kind, x, y_train, batch_size, args.runs))
        if not args.no_article:
            samples = len(x) if kind == "mlp" else args.article_cnn_samples
            contenders.append(Article(kind, x, y_train, batch_size, args.article_runs, samples))
        seconds, losses = measure(contenders)
        results[name] = seconds
        emit("", args.out)
        emit(report("%s (batch %d; the per-sample design is always batch 1)" % (name, batch_size),
                    contenders, seconds, losses, len(x)), args.out)
    for name, kind, x in (("MLP", "mlp", test_flat), ("CNN", "cnn", test_images)):
        if args.only not in (None, kind):
            continue
        training = flat if kind == "mlp" else images
        contenders = [cls(kind, training, y_train, 32, args.runs) for cls in nncores]
        if torch is not None:
            contenders.append(Torch(kind, training, y_train, 32, args.runs))
        seconds = measure_inference(contenders, x, args.runs)
        results["%s inference" % name] = seconds
        emit("", args.out)
        emit(inference_report("%s inference (the 10,000 test digits)" % name, seconds, len(x)),
             args.out)

    guard = {}
    if args.only in (None, "mlp"):
        for batch_size in (32, 128):
            for cls in nncores:
                guard["MLP b%d" % batch_size, cls.name] = guard_cost(cls, flat, y_train,
                                                                     batch_size, args.runs)
    emit("", args.out)
    emit(targets(results, guard, args.threads), args.out)
    emit("load avg  %s at end" % load_average(), args.out)


if __name__ == "__main__":
    main()
