"""The training curves, thinned once as they are recorded: the one rule both hosts draw.

A long run (XOR at 100,000 epochs, one sample per batch) must not ship hundreds of thousands
of points to a browser at every redraw, nor keep them in a server's memory. So each curve
keeps every `stride`-th point and doubles the stride whenever it holds more than twice its
limit: at most 2 x limit points, evenly spaced, whatever the length of the run. The latest
point is always drawn too, so a live chart ends at the current error.

Positions are epoch positions: batch 1 of 4 in epoch 2 sits at 1.25, the epoch's own point
at 2.0. Epoch curves are thinned by epoch number, so train and validation keep the same
epochs; a run that continues an earlier one goes on counting its epochs.
"""
from __future__ import annotations

import math

EPOCH_POINTS = 300  # per-epoch points kept per series (at most twice this)
BATCH_POINTS = 750  # per-batch points kept (at most twice this)
# Per-batch losses are drawn for real mini-batch runs only: with a handful of batches per
# epoch (XOR, one sample each) they are single-sample losses, spread over ten decades.
MIN_BATCHES_FOR_BATCH_LINE = 8


def finite(value):
    """A float, or None for what JSON and a chart cannot hold (None, NaN, infinity)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Curve:
    """Points (index >= 1, values) kept at indices 1, 1 + stride, ...; the stride doubles."""

    def __init__(self, limit):
        self.limit = limit
        self.stride = 1
        self.points = []  # [(index, values)]
        self.latest = None

    def add(self, index, values):
        self.latest = (index, values)
        if (index - 1) % self.stride:
            return
        self.points.append((index, values))
        if len(self.points) > 2 * self.limit:
            self.stride *= 2
            self.points = [point for point in self.points if (point[0] - 1) % self.stride == 0]

    def all(self):
        if self.latest is None:
            return []
        if self.points and self.points[-1][0] == self.latest[0]:
            return list(self.points)
        return self.points + [self.latest]


class Curves:
    """Every curve of one model's training, across the runs that continued it."""

    def __init__(self):
        self.epochs = Curve(EPOCH_POINTS)  # index: epoch number; values: the epoch event's
        self.batches = Curve(BATCH_POINTS)  # index: batches so far; values: (position, loss)
        self.batch_count = 0
        self.first_loss = None  # of the first epoch, for the verdict
        self.last = None  # the last epoch's numbers

    def record(self, event, epoch_offset=0):
        """Take a train_iter event; `epoch_offset` epochs were trained before this run."""
        if event["type"] == "batch":
            self.batch_count += 1
            if event["batches"] >= MIN_BATCHES_FOR_BATCH_LINE:
                position = epoch_offset + event["epoch"] - 1 + event["batch"] / event["batches"]
                self.batches.add(self.batch_count, (position, finite(event["loss"])))
        elif event["type"] == "epoch":
            epoch = epoch_offset + event["epoch"]
            values = {key: finite(event.get(key))
                      for key in ("loss", "val_loss", "accuracy", "val_accuracy")}
            values["epoch"] = epoch
            if self.first_loss is None:
                self.first_loss = values["loss"]
            self.last = values
            self.epochs.add(epoch, values)

    @property
    def epoch_count(self):
        return self.last["epoch"] if self.last else 0

    def loss_rows(self):
        """{"step", "loss", "series"}: batch losses, then train and validation per epoch."""
        rows = [{"step": round(position, 6), "loss": loss, "series": "batch"}
                for _, (position, loss) in self.batches.all() if loss is not None]
        for series, key in (("train", "loss"), ("validation", "val_loss")):
            rows.extend({"step": float(epoch), "loss": values[key], "series": series}
                        for epoch, values in self.epochs.all() if values[key] is not None)
        return rows

    def accuracy_rows(self):
        """{"epoch", "accuracy", "series"} per epoch, train and validation."""
        rows = []
        for series, key in (("train", "accuracy"), ("validation", "val_accuracy")):
            rows.extend({"epoch": epoch, "accuracy": values[key], "series": series}
                        for epoch, values in self.epochs.all() if values[key] is not None)
        return rows
