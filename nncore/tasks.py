"""The tasks the hosts offer, XOR, the 2-D problems of the plane and MNIST digits: does a
network fit one, its training data shaped for the network, and a digit network's answers as
probabilities.

Both hosts (the Streamlit app and the web worker) call these, so a network that one host
accepts the other accepts too, a seed draws the same MNIST subset in both, and a drawn digit
gets the same probabilities in both.

Shapes never include the batch axis unless said: a network's `input_shape` is per sample.
MNIST digits are (N, 28, 28); a 784-input MLP takes them flattened to (N, 784), a CNN takes
(N, 28, 28, 1). Any input shape with the same number of values is a plain reshape; anything
else is a mismatch explained in words (never a broadcast error from deep inside a layer).
"""
from __future__ import annotations

import numpy as np

from . import datasets
from .losses import one_hot

# The 2-D problems (datasets.PLANE_PROBLEMS): point clouds with a train / test split.
PLANE_NAMES = {"circle": "circle", "spiral": "two spirals", "gaussians": "two gaussians",
               "moons": "moons", "xor-cloud": "XOR cloud"}
DATASET_NAMES = dict({"xor": "XOR", "mnist": "MNIST"}, **PLANE_NAMES)
# One sample's shape: an XOR (or any plane) point has 2 features, an MNIST digit 28 x 28 pixels.
DATASET_INPUTS = dict({"xor": (2,), "mnist": (28, 28)}, **{name: (2,) for name in PLANE_NAMES})
# Number of output values each dataset's targets have: a plane point one number (its 0 / 1
# label), an MNIST digit ten classes.
DATASET_OUTPUTS = dict({"xor": 1, "mnist": 10}, **{name: 1 for name in PLANE_NAMES})
SMALLEST_SUBSET = 10  # fewest MNIST training digits a run may ask for


class DataMismatch(ValueError):
    """A network whose input or output does not fit the chosen dataset."""


def describe_shape(shape) -> str:
    """(28, 28, 1) -> '28 × 28 × 1'."""
    return " × ".join(str(int(size)) for size in shape)


def is_plane(dataset: str) -> bool:
    """True for the data sets of 2-D points: XOR's four and the point clouds."""
    return dataset in DATASET_INPUTS and DATASET_INPUTS[dataset] == (2,)


def input_hint(dataset: str) -> str:
    if dataset == "mnist":
        return "for MNIST use input shape 784 (an MLP) or 28, 28, 1 (a CNN)"
    return "for %s use input shape 2" % DATASET_NAMES.get(dataset, "XOR")


def _values(shape) -> int:
    """How many numbers one sample of this shape holds: the product of its sizes."""
    count = 1
    for size in shape:
        count *= int(size)
    return count


def _known(dataset: str) -> None:
    if dataset not in DATASET_NAMES:
        raise ValueError("unknown data set %r" % (dataset,))


def check_inputs(input_shape, dataset: str) -> None:
    """Raise DataMismatch unless a sample reshapes to `input_shape` (same number of values)."""
    _known(dataset)
    name = DATASET_NAMES[dataset]
    sample_shape = DATASET_INPUTS[dataset]
    if _values(input_shape) != _values(sample_shape):
        raise DataMismatch(
            f"This model takes inputs of shape {describe_shape(input_shape)} "
            f"({_values(input_shape)} values), but a {name} sample is "
            f"{describe_shape(sample_shape)} ({_values(sample_shape)} values): "
            f"{input_hint(dataset)}."
        )


def check_fits(input_shape, output_shape, dataset: str) -> None:
    """Raise DataMismatch with a readable reason when the network cannot take this dataset.

    Inputs: any shape with as many values as a sample. Outputs: exactly (1,) for XOR and the
    2-D problems (one 0 / 1 label) and (10,) for MNIST, one value per target value.
    """
    check_inputs(input_shape, dataset)
    name = DATASET_NAMES[dataset]
    outputs = DATASET_OUTPUTS[dataset]
    if tuple(int(size) for size in output_shape) != (outputs,):
        plural = "s" if outputs > 1 else ""
        raise DataMismatch(
            f"This model gives outputs of shape {describe_shape(output_shape)}, but {name} "
            f"needs {outputs} output{plural} per sample: end the stack with a "
            f"dense layer of {outputs} unit{plural}."
        )


def shape_inputs(images, input_shape) -> np.ndarray:
    """(N, ...) -> (N, *input_shape): same values per sample, reshaped (row-major, like Flatten).

    uint8 pixels (0..255) become float32 in [0, 1] on the way, exactly as
    datasets.load_mnist scales them; other arrays keep their dtype.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) * np.float32(1.0 / 255.0)
    shape = (len(images),) + tuple(int(size) for size in input_shape)
    return np.ascontiguousarray(images).reshape(shape)


def subset_indices(total: int, size: int, seed: int) -> np.ndarray:
    """`size` of `total` sample indices, drawn at random with `seed`, in random order.

    Never the first `size`: the stored digits may be grouped by label (all 0s, then all 1s,
    ...), and validation_split holds out the *last* fraction before any shuffling. A random
    draw gives every class its share whatever order the file has.
    """
    return np.random.default_rng(int(seed)).permutation(int(total))[:int(size)]


def plane_split(dataset: str, points=200, noise=0.1, test_split=0.5, seed=0):
    """A 2-D problem's (x_train, y_train, x_test, y_test): x (N, 2), y (N, 1) float32.

    datasets.plane draws `points` shuffled points with `seed`; the last
    round(points * test_split) of them (at least one, and at least one left to train on)
    are the test points, never trained on.
    """
    if dataset not in PLANE_NAMES:
        raise ValueError("%r is not one of the 2-D problems %s"
                         % (dataset, ", ".join(PLANE_NAMES)))
    x, y = datasets.plane(dataset, points=points, noise=noise, seed=seed)
    total = len(x)
    tested = min(max(int(round(total * float(test_split))), 1), total - 1)
    kept = total - tested
    return x[:kept], y[:kept], x[kept:], y[kept:]


def training_data(dataset: str, input_shape, size=None, seed=0, mnist=None, points=200,
                  noise=0.1, test_split=0.5):
    """(x, y) to train a network taking `input_shape` on the dataset.

    XOR: x (4, *input_shape), y (4, 1) float32. A 2-D problem: its training points
    (plane_split with `points`, `noise`, `test_split`, `seed`), x (N, *input_shape),
    y (N, 1) float32 labels 0 / 1. MNIST: `size` training digits (all when None)
    drawn with `seed`, x (size, *input_shape) float32 in [0, 1], y (size, 10) float32 one-hot
    rows (they suit every loss: cross-entropy, and mse against ten outputs). `mnist` is the
    already loaded (x_train, y_train, x_test, y_test), images uint8 or float in [0, 1];
    None loads the bundled subset.
    """
    check_inputs(input_shape, dataset)
    if dataset == "xor":
        x, y = datasets.xor()
        return shape_inputs(x, input_shape), np.asarray(y, dtype=np.float32)
    if dataset in PLANE_NAMES:
        x, y = plane_split(dataset, points, noise, test_split, seed)[:2]
        return shape_inputs(x, input_shape), y
    x_train, y_train = (mnist if mnist is not None else datasets.load_mnist())[:2]
    size = len(x_train) if size is None else int(size)
    if not SMALLEST_SUBSET <= size <= len(x_train):
        raise ValueError(
            f"the MNIST subset size must be between {SMALLEST_SUBSET} and {len(x_train)}"
        )
    chosen = subset_indices(len(x_train), size, seed)
    labels = np.asarray(y_train)[chosen].astype(np.int64)
    return shape_inputs(x_train[chosen], input_shape), one_hot(labels, DATASET_OUTPUTS["mnist"])


def softmax(outputs) -> np.ndarray:
    """Scores (N, C) -> probabilities; shifted by the row maximum so exp never overflows."""
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def ends_in_softmax(network) -> bool:
    """True when predict already gives probabilities: a softmax layer, or a layer whose
    activation is softmax (dense or conv2d with activation="softmax")."""
    if not network.layers:
        return False
    last = network.layers[-1]
    return last.type == "softmax" or getattr(last, "activation", None) == "softmax"


def probabilities(network, inputs) -> np.ndarray:
    """Images (N, 28, 28) (or any (N, ...) with as many values per sample) -> (N, 10) float64
    class probabilities, each row summing to 1.

    A softmax is applied unless the network's last layer already ends in one.
    """
    outputs = network.predict(shape_inputs(inputs, network.input_shape))
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    return outputs if ends_in_softmax(network) else softmax(outputs)
