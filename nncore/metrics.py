"""Scores computed from predictions: accuracy, the confusion matrix, a 2-D decision grid."""
from __future__ import annotations

import numpy as np

from .layers import product


def _labels(values):
    """Class labels from labels (N,), one-hot or probability rows (N, C)."""
    values = np.asarray(values)
    return values.argmax(axis=-1) if values.ndim == 2 else values.astype(np.int64)


def accuracy(labels, predictions):
    labels, predictions = _labels(labels), _labels(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(
            "labels %s and predictions %s differ in shape" % (labels.shape, predictions.shape)
        )
    return float((labels == predictions).mean()) if labels.size else 0.0


def confusion_matrix(labels, predictions, num_classes=10):
    """counts[actual, predicted]: row = true class, column = the network's answer."""
    labels, predictions = _labels(labels), _labels(predictions)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def decision_grid(network, resolution=50, low=-0.5, high=1.5, extent=None):
    """The network's (first) output over a resolution x resolution grid of 2-D inputs
    covering the square [low, high]^2 (XOR's by default); `extent` = (low, high), e.g.
    datasets.extent(name) for a data set's square, overrides both.

    Returns flat arrays xs, ys, outputs of length resolution**2, ready for a heatmap.
    """
    if extent is not None:
        low, high = extent
    axis = np.linspace(low, high, resolution)
    xs, ys = np.meshgrid(axis, axis)
    xs, ys = xs.ravel(), ys.ravel()
    points = np.stack([xs, ys], axis=1)  # (resolution**2, 2)
    if network.input_shape is not None and network.input_shape != (2,):
        if product(network.input_shape) != 2:  # Python ints: np.prod wraps at 32 or 64 bits
            raise ValueError(
                "a decision grid needs a network with 2 inputs, not %s" % (network.input_shape,)
            )
        points = points.reshape((len(points),) + tuple(network.input_shape))  # e.g. (N, 1, 2, 1)
    outputs = network.predict(points)
    return xs, ys, outputs.reshape(len(xs), -1)[:, 0]
