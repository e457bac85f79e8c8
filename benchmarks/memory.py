"""Memory: peak resident set size (RSS) while training the benchmark CNN on the 10k subset.

    python -m benchmarks.memory [--epochs 1] [--out FILE]

Each measurement runs in a fresh subprocess (`--child WHAT`), so the peak belongs to that
training run alone. The child reports its own peak (VmHWM) after importing and after loading
the data, resets the high-water mark, trains, and reports the training's own peak; the
parent also reads the child's ru_maxrss from os.wait4 as a cross-check. The parent measures before it imports torch (for the
header), because a forked child starts with its parent's ru_maxrss.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

from .common import emit, header, load_average, table

TARGET_MB = 400


def current_mb():
    """This process's resident set size now, in MB (VmRSS; None off Linux)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak():
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS, so the next peak_mb()
    is the peak of what follows alone. Returns whether that worked."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_mb():
    """This process's peak RSS in MB: VmHWM from /proc (Linux), else ru_maxrss.

    VmHWM belongs to the current address space; ru_maxrss survives fork+exec, so a child of a
    parent that already holds 200 MB would report the parent's peak as its own."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux (bytes on macOS)
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def child(what, epochs, batch_size):
    """Train and print one JSON line of peaks in MB."""
    import numpy as np

    stages = {}
    if what.startswith("nncore"):
        import nncore
    else:
        import torch
        from torch import nn

        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    stages["imported"] = peak_mb()
    from .common import load_mnist

    x_train, y_train, x_test, y_test, _ = load_mnist()
    stages["data loaded"] = peak_mb()
    stages["rss before training"] = current_mb()
    stages["hwm reset"] = reset_peak()
    if what == "nncore-cnn":
        net = nncore.Network(
            [nncore.Conv2D(8, 3), nncore.ReLU(), nncore.MaxPool2D(2), nncore.Flatten(),
             nncore.Dense(10)],
            input_shape=(28, 28, 1), seed=0)
        net.compile(loss="cross_entropy", optimizer="sgd", lr=0.05)
        net.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, seed=0)
    elif what == "nncore-cnn32-eval":
        # the accuracy-for-time CNN, one epoch, then scoring the 10,000 test digits
        # (predict/evaluate work in slices of 1,024)
        net = nncore.Network(
            [nncore.Conv2D(32, 3, activation="relu"), nncore.MaxPool2D(2),
             nncore.Conv2D(64, 3, activation="relu"), nncore.MaxPool2D(2), nncore.Flatten(),
             nncore.Dropout(0.25), nncore.Dense(10)],
            input_shape=(28, 28, 1), seed=0)
        net.compile(loss="cross_entropy", optimizer="adam", lr=1e-3)
        net.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, seed=0)
        net.evaluate(x_test, y_test)
    elif what == "nncore-mlp":
        net = nncore.Network([nncore.Dense(128, activation="relu"), nncore.Dense(10)],
                             input_shape=(784,), seed=0)
        net.compile(loss="cross_entropy", optimizer="sgd", lr=0.1)
        net.fit(x_train.reshape(-1, 784), y_train, epochs=epochs, batch_size=batch_size, seed=0)
    elif what == "torch-cnn":
        model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(13 * 13 * 8, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        loss_function = nn.CrossEntropyLoss()
        x = torch.from_numpy(np.ascontiguousarray(x_train.reshape(-1, 1, 28, 28)))
        y = torch.from_numpy(y_train.astype(np.int64))
        for _ in range(epochs):
            order = torch.randperm(len(x))
            for start in range(0, len(x), batch_size):
                chosen = order[start : start + batch_size]
                optimizer.zero_grad()
                loss = loss_function(model(x[chosen]), y[chosen])
                loss.backward()
                optimizer.step()
    else:
        raise SystemExit("unknown child %r" % what)
    stages["trained"] = peak_mb()
    stages["whole run"] = max(stages["trained"], stages["data loaded"])
    print(json.dumps(stages))


def measure(what, epochs, batch_size, threads):
    environment = dict(os.environ, BENCH_THREADS=str(threads),
                       OPENBLAS_NUM_THREADS=str(threads))
    command = [sys.executable, "-m", "benchmarks.memory", "--child", what,
               "--epochs", str(epochs), "--batch-size", str(batch_size)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment,
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit("child %s failed with status %d" % (what, status))
    stages = json.loads(output.decode().strip().splitlines()[-1])
    stages["wait4 peak"] = usage.ru_maxrss / 1024
    return stages


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=None, help="also append the table to this file")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.epochs, args.batch_size)
        return

    from .common import blas_info

    threads = blas_info()["threads"]
    load_at_start = load_average()
    rows = []
    results = {}
    for what in ("nncore-cnn", "torch-cnn", "nncore-mlp", "nncore-cnn32-eval"):
        try:
            stages = measure(what, args.epochs, args.batch_size, threads)
        except SystemExit as error:
            rows.append([what, "-", "-", "-", "-", "-", "-", str(error)])
            continue
        results[what] = stages
        training_peak = stages["trained"] if stages["hwm reset"] else float("nan")
        rows.append([what, "%.0f" % stages["imported"], "%.0f" % stages["data loaded"],
                     "%.0f" % stages["rss before training"], "%.0f" % training_peak,
                     "%.0f" % (training_peak - stages["rss before training"]),
                     "%.0f" % stages["whole run"], "%.0f" % stages["wait4 peak"]])
    emit(header("Memory: peak RSS while training on the 10k subset", notes=[
        "each row is a fresh subprocess (%d BLAS/torch threads); %d epoch(s), batch %d; "
        "MB = 2^20 bytes" % (threads, args.epochs, args.batch_size),
        "VmHWM from /proc/self/status; the high-water mark is reset (clear_refs) just before "
        "training, so 'peak while training' belongs to the training alone; 'whole run' "
        "includes loading the data; wait4 = ru_maxrss the parent sees",
        "CNN conv(8,3x3)-ReLU-maxpool(2)-dense(10); for context: the same in PyTorch, MLP "
        "784-128-10, and accuracy_for_time's cnn32 incl. scoring the test set",
    ], load_at_start=load_at_start), args.out)
    emit(table(["run", "peak after import", "peak after data", "RSS before training",
                "peak while training", "training adds", "peak whole run", "wait4"], rows),
         args.out)
    if "nncore-cnn" in results:
        peak = results["nncore-cnn"]["whole run"]
        emit("target: nncore CNN peak RSS %.0f MB < %d MB: %s"
             % (peak, TARGET_MB, "MET" if peak < TARGET_MB else "MISSED"), args.out)
    emit("load avg  %s at end" % load_average(), args.out)


if __name__ == "__main__":
    main()
