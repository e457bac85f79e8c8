"""nncore.tasks: what both hosts (the Streamlit app and the web worker) ask of a task.

Does a network fit XOR or MNIST (and why not, in words), its training data shaped for its
input, and a digit network's answers as probabilities.
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import nncore
from nncore import tasks

ROOT = Path(__file__).resolve().parent.parent


def network(layers, input_shape=(784,)):
    return nncore.Network.from_spec({"input_shape": list(input_shape), "layers": layers}, seed=3)


@pytest.fixture(scope="module")
def mnist():
    return nncore.datasets.load_mnist()


# ------------------------------------------------------------------ fitting a dataset


@pytest.mark.parametrize("input_shape", [(784,), (28, 28, 1), (28, 28), (1, 784)])
def test_any_input_with_784_values_fits_mnist(input_shape):
    tasks.check_fits(input_shape, (10,), "mnist")


def test_xor_network_on_mnist_is_explained():
    with pytest.raises(tasks.DataMismatch) as caught:
        tasks.check_fits((2,), (1,), "mnist")
    assert str(caught.value) == (
        "This model takes inputs of shape 2 (2 values), but a MNIST sample is 28 × 28 "
        "(784 values): for MNIST use input shape 784 (an MLP) or 28, 28, 1 (a CNN).")
    assert isinstance(caught.value, ValueError)


def test_mnist_network_on_xor_is_explained():
    with pytest.raises(ValueError, match=r"takes inputs of shape 28 × 28 × 1 \(784 values\), "
                                         r"but a XOR sample is 2 \(2 values\): for XOR use "
                                         r"input shape 2\.$"):
        tasks.check_fits((28, 28, 1), (10,), "xor")


@pytest.mark.parametrize("dataset, output_shape, message", [
    ("mnist", (3,), "This model gives outputs of shape 3, but MNIST needs 10 outputs per sample: "
                    "end the stack with a dense layer of 10 units."),
    ("xor", (2,), "This model gives outputs of shape 2, but XOR needs 1 output per sample: "
                  "end the stack with a dense layer of 1 unit."),
    ("mnist", (1, 10), "This model gives outputs of shape 1 × 10, but MNIST needs 10 outputs per "
                       "sample: end the stack with a dense layer of 10 units."),
])
def test_wrong_outputs_are_explained(dataset, output_shape, message):
    input_shape = tasks.DATASET_INPUTS[dataset]
    with pytest.raises(tasks.DataMismatch) as caught:
        tasks.check_fits(input_shape, output_shape, dataset)
    assert str(caught.value) == message


def test_unknown_dataset_is_a_value_error():
    with pytest.raises(ValueError, match="unknown data set 'cifar'"):
        tasks.check_fits((2,), (1,), "cifar")


def test_describe_shape():
    assert tasks.describe_shape((28, 28, 1)) == "28 × 28 × 1"
    assert tasks.describe_shape([784]) == "784"


# ------------------------------------------------------------------ shaping inputs


def test_shape_inputs_flattens_row_major_like_flatten():
    images = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28)
    flat = tasks.shape_inputs(images, (784,))
    assert flat.shape == (2, 784) and flat.dtype == np.float32
    np.testing.assert_array_equal(flat, nncore.Flatten().forward(images))
    assert tasks.shape_inputs(images, [28, 28, 1]).shape == (2, 28, 28, 1)


def test_shape_inputs_scales_uint8_pixels_exactly_as_load_mnist(mnist):
    raw = nncore.datasets.load_mnist_uint8()[0][:50]
    shaped = tasks.shape_inputs(raw, (28, 28, 1))
    assert shaped.dtype == np.float32
    np.testing.assert_array_equal(shaped[..., 0], mnist[0][:50])


# ------------------------------------------------------------------ training data


def test_the_mnist_subset_is_a_seeded_random_draw_whatever_the_file_order():
    labels = np.repeat(np.arange(10), 1000)  # the worst order: grouped by class
    chosen = tasks.subset_indices(len(labels), 500, seed=0)
    counts = np.bincount(labels[chosen], minlength=10)
    assert counts.min() >= 30, counts  # every class about 50 of 500, none starved
    held_out = labels[chosen[-50:]]  # validation_split 0.1 holds out the last tenth
    assert len(set(held_out)) >= 8, held_out
    assert len(set(chosen)) == 500
    np.testing.assert_array_equal(chosen, tasks.subset_indices(len(labels), 500, seed=0))
    assert not np.array_equal(chosen, tasks.subset_indices(len(labels), 500, seed=1))


def test_xor_training_data_takes_the_network_shape():
    x, y = tasks.training_data("xor", (2,))
    np.testing.assert_array_equal(x, nncore.datasets.xor()[0])
    np.testing.assert_array_equal(y, [[0], [1], [1], [0]])
    assert tasks.training_data("xor", (1, 2))[0].shape == (4, 1, 2)


def test_mnist_training_data_is_the_seeded_subset_one_hot(mnist):
    x, y = tasks.training_data("mnist", (28, 28, 1), size=300, seed=5, mnist=mnist)
    chosen = tasks.subset_indices(len(mnist[0]), 300, 5)
    assert x.shape == (300, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[..., 0], mnist[0][chosen])
    assert y.shape == (300, 10) and y.dtype == np.float32
    np.testing.assert_array_equal(y.argmax(axis=1), mnist[1][chosen])
    np.testing.assert_array_equal(y.sum(axis=1), 1)


def test_uint8_and_float_mnist_give_the_same_training_data(mnist):
    # the web worker keeps uint8 pixels, the app floats: the same seed gives the same arrays
    raw = nncore.datasets.load_mnist_uint8()
    from_floats = tasks.training_data("mnist", (784,), size=100, seed=2, mnist=mnist)
    from_bytes = tasks.training_data("mnist", (784,), size=100, seed=2, mnist=raw)
    for a, b in zip(from_floats, from_bytes):
        np.testing.assert_array_equal(a, b)


def test_mnist_training_data_refuses_a_bad_size_or_shape(mnist):
    with pytest.raises(ValueError, match="the MNIST subset size must be between 10 and 10000"):
        tasks.training_data("mnist", (784,), size=5, mnist=mnist)
    with pytest.raises(tasks.DataMismatch, match="takes inputs of shape 2"):
        tasks.training_data("mnist", (2,), size=100, mnist=mnist)


# ------------------------------------------------------------------ probabilities


def test_probabilities_softmax_scores_of_a_network_without_one():
    net = network([{"type": "dense", "units": 10}])
    images = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    scores = net.predict(images.reshape(3, 784)).astype(np.float64)
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    chances = tasks.probabilities(net, images)
    assert chances.shape == (3, 10) and chances.dtype == np.float64
    np.testing.assert_allclose(chances, expected, rtol=1e-12)


@pytest.mark.parametrize("tail", [
    [{"type": "flatten"}, {"type": "dense", "units": 10}, {"type": "softmax"}],
    [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}],
], ids=["softmax-layer", "softmax-activation"])
def test_probabilities_pass_a_softmax_output_through_unchanged(tail):
    net = network(tail, input_shape=(28, 28, 1))
    images = np.random.default_rng(1).random((2, 28, 28)).astype(np.float32)
    chances = tasks.probabilities(net, images)
    np.testing.assert_array_equal(chances, net.predict(images[..., None]).astype(np.float64))
    np.testing.assert_allclose(chances.sum(axis=1), 1.0, rtol=1e-6)


# ------------------------------------------------------------------ one copy


def test_the_hosts_do_not_redefine_what_tasks_provides():
    provided = {name for name, value in vars(tasks).items()
                if callable(value) and getattr(value, "__module__", "") == "nncore.tasks"}
    provided |= {"to_probabilities", "as_input", "check_outputs", "one_hot"}
    hosts = sorted((ROOT / "app").rglob("*.py")) + [ROOT / "web" / "src" / "bridge.py"]
    for path in hosts:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {node.name for node in ast.walk(tree)
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        # app/panels/train.py keeps a `training_data` that adds the app's validation split
        defined.discard("training_data")
        assert not defined & provided, (path.relative_to(ROOT), defined & provided)
