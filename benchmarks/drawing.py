"""A drawn digit read in CPython: what nncore.lab.reading.read_drawing spends, part by part.

    python -m benchmarks.drawing [--digits 50] [--out FILE]

The Draw tab of both hosts calls read_drawing on every pen-up: the canvas becomes a 28x28
image (preprocess), the network reads it (predict), and every layer's output becomes a view
(inside.activations plus the strip chart's rows). The issue's budget: the views add at most
100 ms to the answer for the pretrained CNN. The digits are real MNIST test digits, enlarged
to the pad's 280x280 RGBA canvas (white ink on transparent black, as the pad draws them).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from nncore import datasets, preprocess, pretrained, tasks
from nncore.lab import inside, reading

from .common import emit, header, load_average, median, table

PAD = 280  # the drawing pad's canvas, in pixels
BUDGET_MS = 100.0  # the views' extra time for the pretrained CNN


def canvas_of(digit):
    """A (28, 28) uint8 digit as the pad's (280, 280, 4) RGBA canvas: ink in the alpha."""
    enlarged = np.kron(digit, np.ones((PAD // 28, PAD // 28), dtype=np.uint8))
    canvas = np.zeros((PAD, PAD, 4), dtype=np.uint8)
    canvas[..., :3] = 255
    canvas[..., 3] = enlarged
    return canvas


def milliseconds(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return 1000 * (time.perf_counter() - start), result


def measure(name, canvases):
    """Median and worst ms of each part of read_drawing, over the canvases."""
    network = pretrained.load(name)
    reading.read_drawing(network, canvases[0])  # warm: first calls allocate
    parts = {"preprocess": [], "predict": [], "views": [], "read_drawing": []}
    for canvas in canvases:
        spent, image = milliseconds(preprocess.canvas_to_mnist, canvas)
        parts["preprocess"].append(spent)
        spent, _ = milliseconds(tasks.probabilities, network, image[None])
        parts["predict"].append(spent)
        start = time.perf_counter()
        inside.strip_rows(inside.activations(network, image))
        parts["views"].append(1000 * (time.perf_counter() - start))
        spent, _ = milliseconds(reading.read_drawing, network, canvas)
        parts["read_drawing"].append(spent)
    return parts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=50, help="test digits drawn (default 50)")
    parser.add_argument("--out", help="also append the table to this file")
    arguments = parser.parse_args(argv)
    load = load_average()
    _, _, x_test, _ = datasets.load_mnist_uint8()
    canvases = [canvas_of(digit) for digit in x_test[:arguments.digits]]
    rows = []
    for name in ("mnist-mlp", "mnist-cnn"):
        parts = measure(name, canvases)
        rows.append([name] + ["%.2f / %.2f" % (median(times), max(times))
                              for times in parts.values()])
        if name == "mnist-cnn":
            views_ms = median(parts["views"])
    notes = ["%d MNIST test digits on a %dx%d canvas; ms median / worst; views = "
             "inside.activations + strip_rows" % (arguments.digits, PAD, PAD),
             "budget: the views add <= %.0f ms for the pretrained CNN: %s (%.2f ms)"
             % (BUDGET_MS, "met" if views_ms <= BUDGET_MS else "MISSED", views_ms)]
    text = header("A drawn digit read in CPython (read_drawing, part by part)", notes, load)
    text += "\n" + table(["model", "preprocess", "predict", "views", "read_drawing"], rows)
    emit(text, arguments.out)


if __name__ == "__main__":
    main()
