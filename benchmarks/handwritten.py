"""Hand-written fused NumPy training loops: the fastest straightforward float32 NumPy for the
benchmark networks, no classes per layer, every buffer reused where NumPy lets us.

Both compute what nncore computes each batch (softmax cross-entropy loss on the batch, the
gradients of every weight, a plain SGD step), so the difference is pure framework overhead.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def _he(rng, shape, fan_in):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def _softmax_cross_entropy(logits, labels):
    """In place: logits (m, C) become dE/dlogits = (softmax - onehot) / m; returns the loss."""
    m = logits.shape[0]
    rows = np.arange(m)
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    loss = -float(np.log(logits[rows, labels]).mean())
    logits[rows, labels] -= 1.0
    logits *= np.float32(1.0 / m)
    return loss


class MLP:
    """784-128-10, ReLU, softmax cross-entropy, SGD."""

    def __init__(self, lr=0.1, seed=0):
        rng = np.random.default_rng(seed)
        self.w1, self.b1 = _he(rng, (784, 128), 784), np.zeros(128, np.float32)
        self.w2, self.b2 = _he(rng, (128, 10), 128), np.zeros(10, np.float32)
        self.lr = np.float32(lr)
        self.rng = rng

    def epoch(self, x, y, batch_size):
        """x (N, 784) float32, y (N,) int; returns the mean loss."""
        w1, b1, w2, b2, lr = self.w1, self.b1, self.w2, self.b2, self.lr
        order = self.rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            chosen = order[start : start + batch_size]
            xb, yb = x[chosen], y[chosen]
            hidden = xb @ w1
            hidden += b1
            np.maximum(hidden, 0, out=hidden)
            logits = hidden @ w2
            logits += b2
            total += _softmax_cross_entropy(logits, yb) * len(chosen)
            grad_logits = logits
            # dE/dW2 = H^T G, dE/dH = G W2^T masked by relu'(H)
            grad_hidden = grad_logits @ w2.T
            grad_hidden *= hidden > 0
            w2 -= lr * (hidden.T @ grad_logits)
            b2 -= lr * grad_logits.sum(axis=0)
            w1 -= lr * (xb.T @ grad_hidden)
            b1 -= lr * grad_hidden.sum(axis=0)
        return total / len(x)


class CNN:
    """conv(8, 3x3, valid)-ReLU-maxpool(2)-dense(10) on (N, 28, 28) images, SGD."""

    def __init__(self, lr=0.05, seed=0):
        rng = np.random.default_rng(seed)
        self.kernel, self.kernel_bias = _he(rng, (9, 8), 9), np.zeros(8, np.float32)
        self.w, self.b = _he(rng, (13 * 13 * 8, 10), 13 * 13 * 8), np.zeros(10, np.float32)
        self.lr = np.float32(lr)
        self.rng = rng

    def epoch(self, x, y, batch_size):
        """x (N, 28, 28) float32, y (N,) int; returns the mean loss."""
        kernel, kernel_bias, w, b, lr = self.kernel, self.kernel_bias, self.w, self.b, self.lr
        order = self.rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            chosen = order[start : start + batch_size]
            xb, yb = x[chosen], y[chosen]
            m = len(chosen)
            # im2col: columns[n, i, j, a*3 + b] = X[n, i + a, j + b]
            sn, sh, sw = xb.strides
            columns = as_strided(xb, (m, 26, 26, 3, 3), (sn, sh, sw, sh, sw)).reshape(-1, 9)
            conv = columns @ kernel
            conv += kernel_bias
            np.maximum(conv, 0, out=conv)
            conv = conv.reshape(m, 13, 2, 13, 2, 8)
            pooled = conv.max(axis=(2, 4))
            logits = pooled.reshape(m, -1) @ w
            logits += b
            total += _softmax_cross_entropy(logits, yb) * m
            grad_pooled = (logits @ w.T).reshape(m, 13, 1, 13, 1, 8)
            w -= lr * (pooled.reshape(m, -1).T @ logits)
            b -= lr * logits.sum(axis=0)
            # the pool's gradient goes to the window maximum; relu' is 0 where the max is 0
            grad_conv = (conv == pooled.reshape(m, 13, 1, 13, 1, 8)) & (conv > 0)
            grad_conv = grad_conv * grad_pooled
            grad_conv = grad_conv.reshape(-1, 8)
            kernel -= lr * (columns.T @ grad_conv)
            kernel_bias -= lr * grad_conv.sum(axis=0)
        return total / len(x)
