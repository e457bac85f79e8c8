"""Pretrained networks shipped with nncore, so drawing works before any training.

    net = nncore.pretrained.load("mnist-cnn")   # input (N, 28, 28, 1), output (N, 10) probabilities
    net = nncore.pretrained.load("mnist-mlp")   # input (N, 784)

Both were trained by scripts/train_pretrained.py on the bundled 10,000 MNIST training digits
(MNIST: LeCun, Cortes, Burges, CC BY-SA 3.0), with shift, rotation and thickness augmentation,
and end in a softmax, so `predict` gives class probabilities.
"""

from __future__ import annotations

import os

DIRECTORY = os.path.dirname(os.path.abspath(__file__))
NAMES = ("mnist-mlp", "mnist-cnn")
LABELS = {"mnist-mlp": "Pretrained MLP", "mnist-cnn": "Pretrained CNN"}  # as the hosts name them


def path(name):
    """The .npz file of a pretrained network."""
    if name not in NAMES:
        raise ValueError(
            "unknown pretrained model {!r}; choose one of: {}".format(name, ", ".join(NAMES))
        )
    return os.path.join(DIRECTORY, name + ".npz")


def load(name):
    """A pretrained nncore.Network by name: "mnist-mlp" or "mnist-cnn"."""
    from ..io import load as load_file

    return load_file(path(name))
