"""The unsure answer (nncore.lab.reading): real digits are read, a dot or a dash is not."""
from __future__ import annotations

import numpy as np
import pytest

from nncore import Network, datasets, preprocess, pretrained, tasks
from nncore.lab import inside
from nncore.lab.reading import MIN_CONFIDENCE, read_drawing, reading
from nncore.layers import Dense

PEN_WIDTH = 20  # the shared pad's pen on its 280 px canvas (pad/pad.js)


def drawn(points, width=PEN_WIDTH, size=280) -> np.ndarray:
    """A transparent (size, size, 4) canvas with a round-pen polyline through `points`
    (fractions of the side), anti-aliased like a browser canvas, ink in the alpha channel."""
    rows, columns = np.mgrid[0:size, 0:size] + 0.5
    distance = np.full((size, size), np.inf)
    corners = [np.asarray(point, dtype=np.float64) * size for point in points]
    corners = corners * 2 if len(corners) == 1 else corners
    for start, end in zip(corners[:-1], corners[1:]):
        along = end - start
        length = max(float(along @ along), 1e-9)
        t = np.clip(((columns - start[0]) * along[0] + (rows - start[1]) * along[1]) / length,
                    0.0, 1.0)
        distance = np.minimum(distance, np.hypot(columns - start[0] - t * along[0],
                                                 rows - start[1] - t * along[1]))
    image = np.zeros((size, size, 4), dtype=np.uint8)
    image[..., 3] = np.round(255 * np.clip(width / 2 + 0.5 - distance, 0.0, 1.0))
    return image


def read(network, canvas) -> dict:
    chances = tasks.probabilities(network, preprocess.canvas_to_mnist(canvas)[None])[0]
    return reading(chances, preprocess.measure_ink(canvas))


@pytest.fixture(scope="module", params=["mnist-mlp", "mnist-cnn"])
def network(request):
    return pretrained.load(request.param)


def test_real_test_digits_drawn_on_a_canvas_are_sure(network):
    _, _, x_test, y_test = datasets.load_mnist_uint8()
    readings = [read(network, np.kron(digit, np.ones((10, 10), np.uint8)))
                for digit in x_test[:400]]  # 28x28 -> a 280x280 canvas, like the pad
    sure = np.array([answer["sure"] for answer in readings])
    assert sure.mean() >= 0.97, sure.mean()
    right = np.array([answer["digit"] for answer in readings]) == y_test[:400]
    assert right[sure].mean() >= 0.98  # and what is sure is nearly always right


@pytest.mark.parametrize("points", [
    [(0.5, 0.5)],  # a dot
    [(0.4, 0.5), (0.6, 0.5)],  # a short dash
    [(0.45, 0.35), (0.45, 0.5)],  # a short vertical dash
    [(0.2, 0.5), (0.8, 0.5)],  # a horizontal line across the pad
], ids=["dot", "short dash", "short vertical dash", "horizontal line"])
def test_a_dot_or_a_line_is_not_sure(network, points):
    answer = read(network, drawn(points))
    assert answer["sure"] is False
    assert answer["message"].startswith("Not sure: ")
    assert 0 <= answer["digit"] <= 9 and 0 < answer["confidence"] <= 1


def test_the_dot_says_too_little_ink_and_a_drawn_one_is_sure(network):
    assert read(network, drawn([(0.5, 0.5)]))["message"] == "Not sure: too little ink to read"
    one = read(network, drawn([(0.5, 0.15), (0.5, 0.85)]))
    assert one["sure"] and one["digit"] == 1
    assert one["message"].startswith("It reads 1 (")


def test_low_probability_says_maybe_and_high_says_it_reads():
    ink = {"strokes": 20.0, "height_ratio": 1.0}
    low = np.full(10, 0.05)
    low[2] = 0.55
    assert reading(low, ink) == {"digit": 2, "confidence": 0.55, "sure": False,
                                 "message": "Not sure: maybe 2 (55%)"}
    high = np.full(10, 0.01)
    high[7] = 0.91
    assert reading(high, ink)["message"] == "It reads 7 (91% sure)"
    assert reading(high)["sure"]  # without an ink measure only the probability counts
    edge = np.full(10, (1 - MIN_CONFIDENCE) / 9)
    edge[0] = MIN_CONFIDENCE
    assert reading(edge, ink)["sure"]


def test_measure_ink_of_an_empty_and_a_drawn_canvas():
    assert preprocess.measure_ink(np.zeros((280, 280, 4), np.uint8))["strokes"] == 0.0
    ink = preprocess.measure_ink(drawn([(0.5, 0.2), (0.5, 0.8)]))
    top, left, height, width = ink["box"]
    assert 160 <= height <= 190 and 18 <= width <= 22
    assert 17 <= ink["stroke"] <= 21 and ink["height_ratio"] > 5
    # scale invariant: the same drawing on a canvas half the size measures the same
    half = preprocess.measure_ink(drawn([(0.5, 0.2), (0.5, 0.8)], width=10, size=140))
    assert abs(half["strokes"] - ink["strokes"]) < 1.0


def test_read_drawing_gives_both_hosts_the_image_the_answer_and_the_views():
    network = pretrained.load("mnist-cnn")
    canvas = drawn([(0.5, 0.15), (0.5, 0.85)])  # a vertical stroke: a 1
    drawing = read_drawing(network, canvas)
    assert drawing["digit_image"].shape == (28, 28)
    np.testing.assert_array_equal(drawing["digit_image"], preprocess.canvas_to_mnist(canvas))
    np.testing.assert_allclose(drawing["probabilities"], tasks.probabilities(
        network, drawing["digit_image"][None])[0], rtol=1e-6)
    assert drawing["reading"] == reading(drawing["probabilities"],
                                         preprocess.measure_ink(canvas))
    assert drawing["reading"]["sure"] and drawing["reading"]["digit"] == 1
    assert [view["layer"] for view in drawing["views"]] == list(
        range(1, len(network.layers) + 1))
    # the rows of the answer's bars and of the strip chart, the same in both hosts
    assert [row["probability"] for row in drawing["rows"]["probabilities"]] == \
        drawing["probabilities"]
    assert [row["digit"] for row in drawing["rows"]["probabilities"]] == list(range(10))
    assert drawing["rows"]["strip"] == inside.strip_rows(drawing["views"])


def test_read_drawing_of_an_empty_pad_is_none_and_a_non_digit_network_is_refused():
    network = pretrained.load("mnist-mlp")
    assert read_drawing(network, np.zeros((280, 280, 4), np.uint8)) is None
    xor_network = Network([Dense(1)], input_shape=(2,))
    with pytest.raises(tasks.DataMismatch):
        read_drawing(xor_network, drawn([(0.5, 0.15), (0.5, 0.85)]))
