"""The shipped pretrained networks: they load, meet their accuracy targets on the official
MNIST test set, and read simple drawn digits through canvas_to_mnist."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nncore
from nncore import pretrained
from nncore.preprocess import canvas_to_mnist

TARGETS = {"mnist-mlp": 0.975, "mnist-cnn": 0.992}
INPUT_SHAPES = {"mnist-mlp": (784,), "mnist-cnn": (28, 28, 1)}


@pytest.fixture(scope="module")
def test_set():
    _, _, x_test, y_test = nncore.datasets.load_mnist()
    return x_test, y_test


@pytest.fixture(scope="module", params=sorted(TARGETS))
def model(request):
    return request.param, pretrained.load(request.param)


def as_input(name, images):
    """(N, 28, 28) images -> the model's input: (N, 784) or (N, 28, 28, 1)."""
    return images.reshape((len(images),) + INPUT_SHAPES[name])


def vertical_stroke(size=280, width=16):
    canvas = np.zeros((size, size), dtype=np.uint8)
    canvas[40:240, 132 : 132 + width] = 255
    return canvas


def ellipse_loop(size=280, width=16):
    """A hand-drawn-looking '0': an ellipse outline, taller than wide."""
    rows, columns = np.mgrid[0:size, 0:size]
    radius = np.sqrt(((rows - 140) / 100.0) ** 2 + ((columns - 140) / 65.0) ** 2)
    return (((radius <= 1.0) & (radius >= 1.0 - width / 65.0)) * 255).astype(np.uint8)


def test_names_are_listed_and_files_ship_in_the_package():
    assert set(pretrained.NAMES) == set(TARGETS)
    for name in pretrained.NAMES:
        size = os.path.getsize(pretrained.path(name))
        assert 50_000 < size < 1_200_000, (name, size)  # a few hundred KB


def test_an_unknown_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="mnist-mlp, mnist-cnn"):
        pretrained.load("mnist-resnet")


def test_input_shape_and_probabilities(model, test_set):
    name, net = model
    assert tuple(net.input_shape) == INPUT_SHAPES[name]
    assert net.layers[-1].__class__.__name__ == "Softmax"
    probabilities = net.predict(as_input(name, test_set[0][:5]))
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert probabilities.min() >= 0.0


def test_accuracy_on_the_official_test_set_meets_the_target(model, test_set):
    name, net = model
    x_test, y_test = test_set
    predictions = net.predict(as_input(name, x_test)).argmax(axis=1)
    accuracy = nncore.metrics.accuracy(y_test, predictions)
    print(f"{name}: {100 * accuracy:.2f}% on the 10,000 test digits")
    assert accuracy >= TARGETS[name]


@pytest.mark.parametrize(
    "drawing, digit",
    [(vertical_stroke, 1), (ellipse_loop, 0)],
    ids=["stroke reads 1", "loop reads 0"],
)
def test_a_drawn_digit_is_read(model, drawing, digit):
    name, net = model
    image = canvas_to_mnist(drawing())
    probabilities = net.predict(as_input(name, image[np.newaxis]))[0]
    assert probabilities.argmax() == digit, probabilities.round(3).tolist()
    # The same drawing made with a transparent canvas (ink in alpha) reads the same.
    rgba = np.zeros(drawing().shape + (4,), dtype=np.uint8)
    rgba[..., 3] = drawing()
    again = net.predict(as_input(name, canvas_to_mnist(rgba)[np.newaxis]))[0]
    assert again.argmax() == digit
