"""Losses: E(outputs, targets) averaged over the batch, and dE/doutputs.

The two cross-entropies take *logits* (scores before softmax / sigmoid) and fuse the
activation into the loss: log-sum-exp keeps them finite for logits of +-1e4, and the
gradient is the famous (p - y) / N. A network whose last layer is Softmax (Sigmoid) trains
on the input of that layer, so the activation is never applied twice.
"""
from __future__ import annotations

import numpy as np


class Loss:
    name = "loss"
    fused_activation = None  # type name of a trailing layer the loss absorbs

    def __call__(self, outputs, targets):
        """Returns (mean loss over the batch as a float, dE/doutputs with outputs' shape)."""
        raise NotImplementedError

    def __repr__(self):
        return "%s()" % type(self).__name__


class MeanSquaredError(Loss):
    """E = mean over every element of (outputs - targets)^2, as in the articles."""

    name = "mse"

    def __call__(self, outputs, targets):
        difference = outputs - targets
        loss = float(np.mean(difference * difference))
        return loss, difference * (2.0 / difference.size)


def as_one_hot(targets, num_classes, dtype):
    """Integer class labels (N,) -> one-hot (N, C); one-hot input passes through."""
    targets = np.asarray(targets)
    if targets.ndim == 1:
        encoded = np.zeros((targets.shape[0], num_classes), dtype=dtype)
        encoded[np.arange(targets.shape[0]), targets.astype(np.int64)] = 1
        return encoded
    return targets.astype(dtype, copy=False)


def one_hot(labels, num_classes):
    """nncore.one_hot([0, 2], 3) -> [[1, 0, 0], [0, 0, 1]] (float32)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("one_hot expects a 1-D array of integer labels")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("labels must lie in [0, %d)" % num_classes)
    return as_one_hot(labels, num_classes, np.float32)


class CrossEntropy(Loss):
    """Softmax + categorical cross-entropy on logits z (N, C), targets one-hot or labels.

    E = mean_n [ logsumexp(z_n) - <y_n, z_n> ],  dE/dz = (softmax(z) - y) / N.
    """

    name = "cross_entropy"
    fused_activation = "softmax"

    def __call__(self, outputs, targets):
        n = outputs.shape[0]
        shifted = outputs - outputs.max(axis=-1, keepdims=True)
        grad = np.exp(shifted)
        sums = grad.sum(axis=-1, keepdims=True)
        grad /= sums  # softmax(z)
        targets = np.asarray(targets)
        if targets.ndim == 1:
            # integer labels: <y_n, z_n> is the label's logit, at flat index n*C + label.
            # Indices in NumPy's own index type: int64 labels on a 32-bit NumPy (Pyodide)
            # would make int64 indices, which take() refuses to cast down
            picked = (np.arange(n, dtype=np.intp) * int(outputs.shape[-1])
                      + targets.astype(np.intp, copy=False))
            loss = float((np.log(sums[:, 0]) - shifted.take(picked)).sum()) / n
            grad.reshape(-1)[picked] -= 1  # y is 1 there
        else:
            targets = targets.astype(outputs.dtype, copy=False)
            log_probabilities = shifted - np.log(sums)
            loss = float(-(targets * log_probabilities).sum() / n)
            grad -= targets
        grad *= 1.0 / n
        return loss, grad


class BinaryCrossEntropy(Loss):
    """Sigmoid + binary cross-entropy on logits z, targets in [0, 1], averaged over elements.

    E = mean [ max(z, 0) - z y + log(1 + exp(-|z|)) ],  dE/dz = (sigmoid(z) - y) / size.
    """

    name = "binary_cross_entropy"
    fused_activation = "sigmoid"

    def __call__(self, outputs, targets):
        targets = np.asarray(targets, dtype=outputs.dtype).reshape(outputs.shape)
        loss = np.maximum(outputs, 0) - outputs * targets + np.log1p(np.exp(-np.abs(outputs)))
        probabilities = 0.5 * (1.0 + np.tanh(0.5 * outputs))
        return float(loss.mean()), (probabilities - targets) / outputs.size


class FunctionLoss(Loss):
    """A loss given as two functions, loss(y_true, y_pred) and loss_prime(y_true, y_pred),
    the articles' `net.use(mse, mse_prime)` spelling."""

    name = "custom"

    def __init__(self, function, derivative):
        self.function = function
        self.derivative = derivative

    def __call__(self, outputs, targets):
        return float(self.function(targets, outputs)), self.derivative(targets, outputs)


LOSSES = {cls.name: cls for cls in (MeanSquaredError, CrossEntropy, BinaryCrossEntropy)}


def get(loss):
    if isinstance(loss, Loss):
        return loss
    if loss not in LOSSES:
        raise ValueError("unknown loss %r; choose one of %s" % (loss, ", ".join(LOSSES)))
    return LOSSES[loss]()
