"""A training run's history: `train_iter` events in, rows for the error and accuracy charts out.

The history keeps every event's numbers; the charts get a thinned copy. A long run (XOR at
100,000 epochs, one sample per batch) would otherwise ship hundreds of thousands of points to
the browser at every live redraw, and a browser busy drawing them cannot even deliver a click
on Stop. The thinned rows keep the first and the last point of each series, so the live
chart always ends at the latest error.
"""

from __future__ import annotations

import math

MAX_BATCH_POINTS = 1500  # per-batch points drawn; longer runs are thinned evenly
MAX_EPOCH_POINTS = 400  # per-epoch points per series
# Per-batch losses are drawn for real mini-batch runs only: with a handful of batches per
# epoch (XOR, one sample each) they are single-sample losses, spread over ten decades.
MIN_BATCHES_FOR_BATCH_LINE = 8


def new() -> dict:
    return {"batches": [], "epochs": [], "accuracy": []}


def record(event: dict, history: dict) -> None:
    """Turn a train_iter event into chart rows. Steps are epoch positions: batch 1 of 4 in
    epoch 2 sits at 1.25, the epoch's own point at 2.0."""
    if event["type"] == "batch" and event["batches"] >= MIN_BATCHES_FOR_BATCH_LINE:
        step = event["epoch"] - 1 + event["batch"] / event["batches"]
        history["batches"].append({"step": step, "loss": float(event["loss"]), "series": "batch"})
    elif event["type"] == "epoch":
        epoch = event["epoch"]
        history["epochs"].append({"step": float(epoch), "loss": float(event["loss"]),
                                  "series": "train"})
        if event.get("val_loss") is not None:
            history["epochs"].append({"step": float(epoch), "loss": float(event["val_loss"]),
                                      "series": "validation"})
        for key, series in (("accuracy", "train"), ("val_accuracy", "validation")):
            if event.get(key) is not None:
                history["accuracy"].append({"epoch": epoch, "accuracy": float(event[key]),
                                            "series": series})


def thin(rows: list, limit: int) -> list:
    """At most about `limit` rows, evenly spaced, always keeping the last one."""
    step = math.ceil(len(rows) / limit) if limit else 1
    if step <= 1:
        return list(rows)
    kept = rows[::step]
    if kept[-1] is not rows[-1]:
        kept.append(rows[-1])
    return kept


def thin_epochs(rows: list, position: str, limit: int = MAX_EPOCH_POINTS) -> list:
    """Per-epoch rows of one or more series, thinned to the same epochs in every series.

    `position` is the field holding the epoch ("step" or "epoch"). Epoch e is kept when
    (e - 1) is a multiple of the step, and the last epoch always is.
    """
    if not rows:
        return []
    last = max(row[position] for row in rows)
    step = math.ceil(last / limit)
    if step <= 1:
        return list(rows)
    return [row for row in rows
            if (int(row[position]) - 1) % step == 0 or row[position] == last]


def loss_rows(history: dict) -> list:
    return thin(history["batches"], MAX_BATCH_POINTS) + thin_epochs(history["epochs"], "step")


def accuracy_rows(history: dict) -> list:
    return thin_epochs(history.get("accuracy", []), "epoch")
