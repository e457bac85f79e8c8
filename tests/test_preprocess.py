"""nncore.preprocess.canvas_to_mnist: a drawing of any kind -> an MNIST-like 28x28 digit."""

from __future__ import annotations

import numpy as np
import pytest

from nncore import preprocess
from nncore.preprocess import canvas_to_mnist


def stroke_canvas(size=280, width=16, rows=(40, 240), column=140):
    """A white-on-black (0..255 uint8) canvas with one vertical pen stroke."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    half = width // 2
    canvas[rows[0] : rows[1], column - half : column - half + width] = 255
    return canvas


def ring_canvas(shape=(280, 280), centre=(140, 140), radii=(100, 60), width=16):
    """An ellipse outline (a drawn '0'), white on black, 0..255."""
    rows, columns = np.mgrid[0 : shape[0], 0 : shape[1]]
    radius = np.sqrt(((rows - centre[0]) / radii[0]) ** 2 + ((columns - centre[1]) / radii[1]) ** 2)
    inner = 1.0 - width / float(radii[1])
    return (((radius <= 1.0) & (radius >= inner)) * 255).astype(np.uint8)


def centre_of_mass(image):
    total = image.sum()
    indices = np.arange(image.shape[0])
    return (image.sum(axis=1) @ indices) / total, (image.sum(axis=0) @ indices) / total


@pytest.mark.parametrize("pen", [8, 12, 16])
def test_a_thin_vertical_stroke_becomes_a_centred_mnist_like_bar(pen):
    digit = canvas_to_mnist(stroke_canvas(width=pen))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() == pytest.approx(1.0)
    ink_rows = np.flatnonzero((digit > 0.5).any(axis=1))
    ink_columns = np.flatnonzero((digit > 0.5).any(axis=0))
    # MNIST's recipe: the longer side is 20 px, centred by the centre of mass at (14, 14).
    assert 19 <= ink_rows[-1] - ink_rows[0] + 1 <= 21
    row, column = centre_of_mass(digit)
    assert abs(row - 14.0) <= 0.51 and abs(column - 14.0) <= 0.51  # integer shifts
    # An 8-16 px pen on a 280 px canvas would be 0.8-1.6 px wide; it is thickened to MNIST's
    # ~2-3 px (a 1 px bar reads poorly).
    assert 2 <= ink_columns.size <= 3
    bar = digit[ink_rows[0] : ink_rows[-1] + 1]
    assert (bar.sum(axis=1) > 1.5).all()  # solid all the way down, no gaps
    assert digit[:, :11].max() == 0.0 and digit[:, 17:].max() == 0.0


def test_thick_strokes_are_not_thickened_further():
    thin = canvas_to_mnist(stroke_canvas(width=16))
    thick = canvas_to_mnist(stroke_canvas(width=60))
    thick_width = np.flatnonzero((thick > 0.5).any(axis=0)).size
    assert thick_width == 6  # 60 px of a 200 px stroke -> 6 px of 20, unchanged
    assert thick_width > np.flatnonzero((thin > 0.5).any(axis=0)).size


def test_all_encodings_of_the_same_drawing_give_the_same_digit():
    ink = ring_canvas()
    expected = canvas_to_mnist(ink)
    transparent = np.zeros(ink.shape + (4,), dtype=np.uint8)
    transparent[..., 3] = ink  # streamlit-drawable-canvas: black paint, ink in the alpha channel
    opaque_rgba = np.stack([255 - ink] * 3 + [np.full_like(ink, 255)], axis=-1)  # black on white
    coloured = np.zeros(ink.shape + (3,), dtype=np.uint8)
    coloured[..., 0] = 30
    coloured[..., 2] = 200
    coloured[ink > 0] = (250, 240, 20)  # yellow ink on a blue background
    versions = {
        "white on black 0..255": ink,
        "white on black 0..1 float": ink / 255.0,
        "black on white 0..255": 255 - ink,
        "black on white bool": ink == 0,
        "(H, W, 1)": ink[..., np.newaxis],
        "transparent RGBA": transparent,
        "opaque RGBA black on white": opaque_rgba,
        "RGB coloured": coloured,
    }
    for name, canvas in versions.items():
        np.testing.assert_allclose(canvas_to_mnist(canvas), expected, atol=1e-6, err_msg=name)


def test_a_loop_stays_a_loop():
    digit = canvas_to_mnist(ring_canvas())
    assert digit[14, 14] == 0.0  # the hole is empty
    rows = np.flatnonzero((digit > 0.5).any(axis=1))
    columns = np.flatnonzero((digit > 0.5).any(axis=0))
    assert 19 <= rows.size <= 20  # taller than wide: the longer side is 20
    assert 11 <= columns.size <= 13  # 120 / 200 of it, aspect ratio kept


def test_size_and_position_on_the_canvas_do_not_matter():
    reference = canvas_to_mnist(ring_canvas())
    moved = ring_canvas(shape=(400, 300), centre=(290, 80))
    np.testing.assert_allclose(canvas_to_mnist(moved), reference, atol=1e-6)
    # Twice as big on a huge canvas, and small on a small one: the same digit, nearly.
    for canvas in (
        ring_canvas(shape=(1200, 900), centre=(500, 400), radii=(200, 120), width=32),
        ring_canvas(shape=(90, 70), centre=(45, 35), radii=(40, 24), width=6),
    ):
        digit = canvas_to_mnist(canvas)
        assert digit.shape == (28, 28)
        # Rounding may place it one pixel off: compare at the best of the 9 one-pixel shifts.
        best = max(
            np.corrcoef(np.roll(digit, (dy, dx), axis=(0, 1)).ravel(), reference.ravel())[0, 1]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
        assert best > 0.95


def test_area_resize_preserves_the_mean_and_averages_blocks():
    image = np.arange(16, dtype=np.float64).reshape(4, 4)
    halved = preprocess.area_resize(image, 2, 2)
    np.testing.assert_allclose(halved, [[2.5, 4.5], [10.5, 12.5]])
    odd = np.random.RandomState(0).rand(37, 23)
    assert preprocess.area_resize(odd, 20, 13).mean() == pytest.approx(odd.mean())
    np.testing.assert_allclose(preprocess.area_resize(odd, 37, 23), odd)


@pytest.mark.parametrize(
    "canvas",
    [
        np.zeros((280, 280)),
        np.full((280, 280), 255, dtype=np.uint8),
        np.full((100, 50), 0.5),
        np.zeros((280, 280, 4), dtype=np.uint8),  # fully transparent
        np.dstack([np.full((50, 50, 3), 255, np.uint8), np.zeros((50, 50), np.uint8)]),
    ],
)
def test_an_empty_canvas_raises_a_clear_error(canvas):
    with pytest.raises(ValueError, match="^empty drawing$"):
        canvas_to_mnist(canvas)


@pytest.mark.parametrize(
    "canvas, message",
    [
        (np.zeros(10), "shape"),
        (np.zeros((5, 5, 2)), "shape"),
        (np.zeros((2, 5, 5, 4)), "shape"),
        (np.array([["a", "b"]]), "numeric"),
        (np.full((5, 5), np.nan), "NaN"),
    ],
)
def test_bad_canvases_get_a_message_not_a_traceback_from_deep_inside(canvas, message):
    with pytest.raises(ValueError, match=message):
        canvas_to_mnist(canvas)


def test_preprocessing_an_mnist_digit_keeps_it_recognisably_the_same():
    """MNIST digits already follow the recipe, so the recipe nearly reproduces them."""
    from nncore.datasets import load_mnist

    x_train = load_mnist()[0]
    for image in x_train[::1000]:
        again = canvas_to_mnist(image)
        assert np.corrcoef(again.ravel(), image.ravel())[0, 1] > 0.8
