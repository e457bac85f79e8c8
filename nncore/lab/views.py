"""The rows of every chart and picture, computed once from a session, drawn by both hosts.

Rows are plain JSON-able data: lists of dicts for the Altair charts (their field names are
the charts' own, see charts/), and pictures as {"width", "height", "pixels"} with pixels a
flat row-major list of 0..255 grey levels, so a host draws them without computing anything.
"""
from __future__ import annotations

import numpy as np

from .. import datasets, metrics, tasks
from . import plane

BOUNDARY_RESOLUTION = 31  # grid points per side of the decision boundary (961 cells)
WEIGHT_IMAGES = 32  # first-layer units or filters shown at most


# ------------------------------------------------------------------ status


def status_text(session):
    """One line saying where the run stands, the same words in both hosts."""
    status = session.status
    if status == "idle":
        if session.network is not None and session.origin:
            return "Model %s. Continue trains it on; Train starts fresh weights." % session.origin
        return "Press Train to train the network built in the Build tab."
    last = session.curves.last or {}
    run = session._run or {}
    parts = []
    if run:
        # completed epochs, then the batch reached inside the next one
        total = run["offset"] + session.experiment["epochs"]
        parts.append("Epoch %d / %d" % (session.curves.epoch_count, total))
        if 0 < run["batch"] < run["batches"] and status in ("running", "paused"):
            parts.append("batch %d / %d" % (run["batch"], run["batches"]))
    if last.get("loss") is not None:
        parts.append("error %.4g" % last["loss"])
    if last.get("val_loss") is not None:
        parts.append("validation %.4g" % last["val_loss"])
    if last.get("accuracy") is not None:
        parts.append("accuracy %.1f%%" % (100 * last["accuracy"]))
    if run:
        parts.append("%.1f s" % run["seconds"])
    if session.evaluation is not None:
        parts.append("test accuracy %.1f%%" % (100 * session.evaluation["accuracy"]))
    if status == "paused":
        parts.insert(0, "Paused")
    elif status == "evaluating":
        scoring = session._scoring
        parts.insert(0, "Reading the %s test digits… %d done" % (
            format(len(session.mnist()[2]), ","), scoring["next"] if scoring else 0))
    elif status == "finished":
        parts.insert(0, "Stopped" if session.outcome == "stopped" else "Finished")
    # an imported model that is only scored has no run: no dangling " · "
    return " · ".join(parts)


# ------------------------------------------------------------------ all rows


def rows(session):
    """{"loss", "accuracy", "grid", "points", "answers", "hidden", "plane", "confusion",
    "misread", "weights", "test"}: what each chart and picture of the current model shows
    ([] / None if nothing).

    A model with two inputs gets the plane: "grid" (its output over the square), "points"
    (the 4 XOR points, or a point cloud's train and test points, each with a "split"),
    "hidden" (each hidden unit's output over the square, see plane.hidden_rows), and for a
    point cloud "plane" (accuracy on its train and test points, live) or for XOR "answers".
    "test" is the MNIST test set's summary only.
    """
    network = session.network
    result = {
        "loss": session.curves.loss_rows(),
        "accuracy": session.curves.accuracy_rows(),
        "grid": [], "points": [], "answers": [], "hidden": [], "plane": None,
        "confusion": [], "misread": [], "weights": [], "test": None,
    }
    if network is None:
        return result
    if has_plane(network):
        extent = plane.extent_of(session)
        result["grid"] = boundary_rows(network, extent=extent)
        result["hidden"] = plane.hidden_rows(network, extent)
        if session.plane is not None:
            result["points"] = plane.point_rows(session.plane)
            result["plane"] = plane.scores(network, session.plane)
        else:
            result["points"] = xor_points()
            result["answers"] = xor_answers(network)
    evaluation = session.evaluation
    if evaluation is not None and evaluation.get("dataset") == "mnist":
        result["test"] = {"accuracy": evaluation["accuracy"], "samples": evaluation["samples"],
                          "wrong": evaluation["wrong_count"]}
        result["confusion"] = confusion_rows(evaluation["confusion"])
        result["misread"] = misread(evaluation, session.mnist())
    result["weights"] = weight_pictures(network, session.initial_weights)
    return result


# ------------------------------------------------------------------ the plane (XOR)


def has_plane(network):
    """A network with two inputs: its output (and its hidden units) can be drawn over the
    plane, for XOR and the 2-D point clouds alike."""
    return network.input_shape is not None and tasks._values(network.input_shape) == 2


def boundary_rows(network, resolution=BOUNDARY_RESOLUTION, extent=datasets.XOR_EXTENT):
    """{"x1", "x2", "output"}: the network's first output over the square [low, high]^2 =
    `extent` (XOR's [-0.5, 1.5]^2 unless told; datasets.extent(name) for a data set)."""
    xs, ys, outputs = metrics.decision_grid(network, resolution=resolution, extent=extent)
    return [{"x1": round(float(a), 4), "x2": round(float(b), 4), "output": round(float(o), 5)}
            for a, b, o in zip(xs, ys, outputs)]


def xor_points():
    x, y = datasets.xor()
    return [{"x1": float(a), "x2": float(b), "label": int(t), "split": "train"}
            for (a, b), t in zip(x, y[:, 0])]


def xor_answers(network):
    """One row per XOR point: the target, the network's output, its 0/1 answer, right?"""
    x, y = datasets.xor()
    outputs = network.predict(tasks.shape_inputs(x, network.input_shape))
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(x), -1)[:, 0]
    answers = []
    for (a, b), target, output in zip(x, y[:, 0], outputs):
        answer = int(output > 0.5)
        answers.append({"x1": int(a), "x2": int(b), "target": int(target),
                        "output": round(float(output), 4), "answer": answer,
                        "right": answer == int(target)})
    return answers


# ------------------------------------------------------------------ the test set (MNIST)


def confusion_rows(matrix):
    """{"actual", "predicted", "count"} for the 10 x 10 cells."""
    return [{"actual": a, "predicted": p, "count": int(matrix[a, p])}
            for a in range(matrix.shape[0]) for p in range(matrix.shape[1])]


def picture(values, low=0.0, high=1.0):
    """A 2-D array -> {"width", "height", "pixels"}: grey levels 0..255 from [low, high]."""
    values = np.asarray(values, dtype=np.float64)
    scaled = np.clip((values - low) / (high - low), 0.0, 1.0)
    return {"width": int(values.shape[1]), "height": int(values.shape[0]),
            "pixels": np.round(255 * scaled).astype(np.uint8).ravel().tolist()}


def misread(evaluation, mnist):
    """The first misread test digits: {"index", "actual", "predicted", "picture"}."""
    x_test, y_test = mnist[2], mnist[3]
    high = 255.0 if np.asarray(x_test).dtype == np.uint8 else 1.0
    return [{"index": int(index), "actual": int(y_test[index]), "predicted": int(guess),
             "picture": picture(x_test[index], 0.0, high)}
            for index, guess in zip(evaluation["wrong"], evaluation["predicted"])]


# ------------------------------------------------------------------ first-layer weights


def first_weights(network):
    """A copy of the first weighted layer's weights (kept before training starts)."""
    for layer in network.layers:
        if layer.params:
            return np.array(layer.params[0], dtype=np.float64)
    return None


def weight_pictures(network, initial=None, limit=WEIGHT_IMAGES):
    """What each first-layer unit looks for, as pictures (grey = 0, light +, dark -).

    `initial`: the weights before training. Then each picture shows what training changed
    (weights - initial): after a short run the raw weights are still mostly their random
    start, and only the change shows the strokes a unit learned to look for.

    Dense after a 784 input: W is (784, units); column u as 28 x 28 is the pattern that
    excites unit u most. Conv2D: K is (kh, kw, channels, filters); filter f on channel 0 is
    a small kh x kw picture. Any other first layer: no pictures.
    """
    weights = first_weights(network)
    if weights is None:
        return []
    changed = initial is not None and np.shape(initial) == weights.shape
    if changed:
        weights = weights - initial
    if weights.ndim == 2 and weights.shape[0] == 784:
        patterns = weights[:, :limit].T.reshape(-1, 28, 28)
    elif weights.ndim == 4:
        patterns = np.moveaxis(weights[:, :, 0, :limit], -1, 0)
    else:
        return []
    pictures = []
    for pattern in patterns:
        largest = float(np.abs(pattern).max()) or 1.0
        item = picture(pattern, -largest, largest)
        item["changed"] = changed
        pictures.append(item)
    return pictures
