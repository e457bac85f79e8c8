"""nncore: a neural-network library written from scratch in pure NumPy.

    import nncore
    net = nncore.Network([nncore.Dense(3, activation="tanh"), nncore.Dense(1, activation="tanh")])
    net.compile(loss="mse", optimizer="sgd", lr=0.1)
    x, y = nncore.datasets.xor()
    net.fit(x, y, epochs=1000, batch_size=1)
"""
from __future__ import annotations

from . import datasets, io, layers, losses, metrics, optimizers, preprocess, pretrained, spec, tasks
from .errors import ModelFileError, SpecError, TrainingDiverged
from .io import load
from .layers import (
    Activation,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import one_hot
from .network import History, Network
from .optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Optimizer, RMSprop

LOSSES = list(losses.LOSSES)
OPTIMIZERS = list(optimizers.OPTIONS)

__version__ = "0.1.0"

__all__ = [
    "Activation", "Adadelta", "Adagrad", "Adam", "Adamax", "Conv2D", "Dense", "Dropout",
    "Flatten", "History", "Layer", "LeakyReLU", "LOSSES", "MaxPool2D", "ModelFileError",
    "Network", "OPTIMIZERS", "Optimizer", "ReLU", "RMSprop", "SGD", "Sigmoid", "Softmax",
    "SpecError", "Tanh", "TrainingDiverged", "datasets", "io", "layers", "load", "losses",
    "metrics", "one_hot", "optimizers", "preprocess", "pretrained", "spec", "tasks",
]
