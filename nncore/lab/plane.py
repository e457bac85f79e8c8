"""The plane: what a network with two inputs does over the square its points lie in.

    data = plane.data(experiment)           # a 2-D problem's train and test points
    plane.point_rows(data)                  # {"x1", "x2", "label", "split"} per point
    plane.scores(network, data)             # accuracy on the train and on the test points
    plane.hidden_rows(network, extent)      # every hidden unit's output over the square

A hidden unit, as TensorFlow Playground draws them, is one value that a weighted layer (dense,
conv2d) other than the first reads: the output of the layer just before it, Dropout skipped
(it is the identity when predicting). In the articles' stack dense -> tanh -> dense -> tanh
that is the output of layer 2 (the tanh of the first dense layer's units); for a dense layer
with its own activation, dense(8, "tanh") -> dense(1), it is layer 1's output. The network's
own output is the decision boundary (views.boundary_rows), not a hidden unit.

Everything here is plain NumPy on a few hundred points: cheap enough to redo at every redraw.
"""
from __future__ import annotations

import numpy as np

from .. import datasets, tasks

HIDDEN_RESOLUTION = 15  # grid points per side of each hidden unit's picture (225 cells)
HIDDEN_LIMIT = 32  # hidden units drawn at most, counted in layer order
SPLITS = ("train", "test")


def grid(extent, resolution):
    """The resolution x resolution grid over [low, high]^2 as (points (R*R, 2), xs, ys).

    Row-major with x1 varying fastest, as metrics.decision_grid lays it out.
    """
    low, high = extent
    axis = np.linspace(float(low), float(high), int(resolution))
    xs, ys = np.meshgrid(axis, axis)
    xs, ys = xs.ravel(), ys.ravel()
    return np.stack([xs, ys], axis=1), xs, ys


# ------------------------------------------------------------------ the points


def data(experiment):
    """A 2-D problem's points: {"dataset", "x_train", "y_train", "x_test", "y_test"}, x (N, 2),
    y (N, 1) float32; None for a data set that is not a point cloud (XOR's 4, MNIST)."""
    dataset = experiment["dataset"]
    if dataset not in tasks.PLANE_NAMES:
        return None
    x_train, y_train, x_test, y_test = tasks.plane_split(
        dataset, points=experiment["points"], noise=experiment["noise"],
        test_split=experiment["test_split"], seed=experiment["seed"])
    return {"dataset": dataset, "x_train": x_train, "y_train": y_train,
            "x_test": x_test, "y_test": y_test}


def point_rows(data):
    """{"x1", "x2", "label" 0/1, "split" "train"/"test"}: the training points, then the test."""
    rows = []
    for split in SPLITS:
        x, y = data["x_" + split], data["y_" + split]
        rows.extend({"x1": round(float(a), 4), "x2": round(float(b), 4), "label": int(t),
                     "split": split} for (a, b), t in zip(x, y[:, 0]))
    return rows


def _accuracy(network, x, y):
    """The fraction of points whose output (> 0.5 means label 1) matches the label."""
    if not len(x):
        return None
    outputs = network.predict(tasks.shape_inputs(x, network.input_shape))
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(x), -1)[:, 0]
    return float(((outputs > 0.5) == (y[:, 0] > 0.5)).mean())


def scores(network, data):
    """{"dataset", "train_accuracy", "test_accuracy", "train_samples", "test_samples"}."""
    return {"dataset": data["dataset"],
            "train_accuracy": _accuracy(network, data["x_train"], data["y_train"]),
            "test_accuracy": _accuracy(network, data["x_test"], data["y_test"]),
            "train_samples": len(data["x_train"]), "test_samples": len(data["x_test"])}


def evaluation(network, data):
    """The session's evaluation of a 2-D model: "accuracy" is the test points' (as for the
    digits), "train_accuracy" the training points'."""
    result = scores(network, data)
    wrong = int(round((1.0 - result["test_accuracy"]) * result["test_samples"]))
    return {"dataset": data["dataset"], "accuracy": result["test_accuracy"],
            "samples": result["test_samples"], "wrong_count": wrong,
            "train_accuracy": result["train_accuracy"],
            "train_samples": result["train_samples"]}


# ------------------------------------------------------------------ hidden units


def hidden_layers(network):
    """0-based indices of the layers whose outputs are hidden units (see the module text)."""
    layers = network.layers
    weighted = [index for index, layer in enumerate(layers) if layer.params]
    shown = []
    for index in weighted[1:]:
        before = index - 1
        while before > weighted[0] and layers[before].type == "dropout":
            before -= 1
        if before >= weighted[0] and before not in shown:
            shown.append(before)
    return shown


def title(network, index):
    """'2 · tanh', '1 · dense (tanh)': the layer's number (from 1) and what it computes."""
    layer = network.layers[index]
    activation = getattr(layer, "activation", None)
    name = layer.type + (" (%s)" % activation if activation else "")
    return "%d · %s" % (index + 1, name)


def hidden_rows(network, extent, resolution=HIDDEN_RESOLUTION, limit=HIDDEN_LIMIT):
    """{"layer" (from 1), "title", "unit" (from 1), "x1", "x2", "value"} for each hidden unit
    (at most `limit`, in layer order) at each point of a resolution x resolution grid over
    the square [low, high]^2 = `extent`. [] for a network without two inputs or hidden units.
    """
    if network.input_shape is None or tasks._values(network.input_shape) != 2:
        return []
    shown = hidden_layers(network)
    if not shown:
        return []
    points, xs, ys = grid(extent, resolution)
    x1 = [round(float(value), 4) for value in xs]
    x2 = [round(float(value), 4) for value in ys]
    x = points.astype(network.dtype).reshape((len(points),) + tuple(network.input_shape))
    rows, left = [], int(limit)
    for index, layer in enumerate(network.layers[:shown[-1] + 1]):
        x = layer.forward(x, training=False)
        if index not in shown or left <= 0:
            continue
        values = np.asarray(x, dtype=np.float64).reshape(len(points), -1)[:, :left]
        left -= values.shape[1]
        name = title(network, index)
        for unit in range(values.shape[1]):
            column = np.round(np.nan_to_num(values[:, unit]), 4)
            rows.extend({"layer": index + 1, "title": name, "unit": unit + 1, "x1": a, "x2": b,
                         "value": float(v)} for a, b, v in zip(x1, x2, column))
    return rows


def extent_of(session):
    """The square a session's model is drawn over: its point cloud's, else XOR's."""
    data = getattr(session, "plane", None)
    return datasets.extent(data["dataset"]) if data else datasets.XOR_EXTENT
