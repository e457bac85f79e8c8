"""Does a network fit a dataset? Shape the dataset's arrays for the network, or say why not.

A spec declares `input_shape` without the batch axis. MNIST digits are (N, 28, 28); a
784-input MLP takes them flattened to (N, 784), a CNN takes (N, 28, 28, 1). Any input shape
with the same number of values is a plain reshape; anything else is a mismatch that the page
explains in words (never a broadcast error from deep inside a layer).
"""

from __future__ import annotations

import math

import numpy as np

DATASET_NAMES = {"xor": "XOR", "mnist": "MNIST"}
# Number of output values each dataset's targets have: XOR one number, MNIST ten classes.
DATASET_OUTPUTS = {"xor": 1, "mnist": 10}
DATASET_INPUTS = {"xor": (2,), "mnist": (28, 28)}


class DataMismatch(ValueError):
    """A model whose input or output does not fit the chosen dataset."""


def describe_shape(shape) -> str:
    """(28, 28, 1) -> '28 × 28 × 1'."""
    return " × ".join(str(int(size)) for size in shape)


def input_hint(dataset: str) -> str:
    if dataset == "mnist":
        return "for MNIST use input shape 784 (an MLP) or 28, 28, 1 (a CNN)"
    return "for XOR use input shape 2"


def check_fits(input_shape, output_shape, dataset: str) -> None:
    """Raise DataMismatch with a readable reason when the model cannot take this dataset."""
    name = DATASET_NAMES[dataset]
    sample_shape = DATASET_INPUTS[dataset]
    if math.prod(input_shape) != math.prod(sample_shape):
        raise DataMismatch(
            f"This model takes inputs of shape {describe_shape(input_shape)} "
            f"({math.prod(input_shape)} values), but a {name} sample is "
            f"{describe_shape(sample_shape)} ({math.prod(sample_shape)} values): "
            f"{input_hint(dataset)}."
        )
    outputs = DATASET_OUTPUTS[dataset]
    if tuple(output_shape) != (outputs,):
        raise DataMismatch(
            f"This model gives outputs of shape {describe_shape(output_shape)}, but {name} "
            f"needs {outputs} output{'s' if outputs > 1 else ''} per sample: end the stack with a "
            f"dense layer of {outputs} unit{'s' if outputs > 1 else ''}."
        )


def shape_inputs(x: np.ndarray, input_shape) -> np.ndarray:
    """(N, ...) -> (N, *input_shape): same values per sample, reshaped (row-major, like Flatten)."""
    return np.ascontiguousarray(x).reshape((len(x),) + tuple(int(size) for size in input_shape))


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """Integer labels (N,) -> (N, classes) float32 rows with a single 1."""
    return np.eye(classes, dtype=np.float32)[np.asarray(labels, dtype=int)]
