"""Turn a drawn canvas into a 28x28 image that looks like an MNIST digit.

MNIST's recipe (LeCun et al.): the digit's bounding box is scaled so its longer side is
20 pixels, keeping the aspect ratio, with anti-aliasing (grey levels); it is then placed in
a 28x28 field so that its centre of mass sits at the centre. We follow the same steps:

    canvas (H, W[, C]) -> ink map (H, W) in [0, 1] -> crop to the ink -> thicken thin strokes
    -> area-average to 20 px on the longer side -> paste into 28x28 by centre of mass

Every step is plain NumPy, so the browser (Pyodide) and the server compute the same pixels.
"""

from __future__ import annotations

import numpy as np

SIZE = 28  # side of the output field
BOX = 20  # longer side of the scaled digit
CENTRE = 14.0  # mean centre of mass of MNIST training digits, in pixel indices (row, column)
STROKE_WIDTH = 2.2  # typical MNIST stroke width in output pixels (ink > 0.5)
WORKING_SIZE = 280  # larger crops are first reduced to this, to bound the cost of thickening
EMPTY_INK = 0.1  # a canvas whose strongest ink is below this (on a 0..1 scale) is empty
BOX_INK = 0.1  # pixels above this fraction of the strongest ink define the bounding box


def canvas_to_mnist(image) -> np.ndarray:
    """A drawing -> a (28, 28) float32 image in [0, 1], white ink on black, like MNIST.

    ``image`` is (H, W) greyscale (0..255 or 0..1), or (H, W, 3) RGB, or (H, W, 4) RGBA,
    of any size. The ink may be light on dark, dark on light, or carried by the alpha
    channel of a transparent canvas; the background is detected from the border.
    Raises ValueError("empty drawing") when there is no ink.
    """
    ink = ink_map(image)
    if ink.max() < EMPTY_INK:
        raise ValueError("empty drawing")
    ink = ink / ink.max()

    ink = crop_to_ink(ink)
    longer = max(ink.shape)
    if longer > WORKING_SIZE:
        ink = area_resize(ink, *_fit(ink.shape, WORKING_SIZE))
        ink = crop_to_ink(ink / ink.max())

    ink = thicken(ink, scale=BOX / max(ink.shape))
    ink = crop_to_ink(ink)

    digit = area_resize(ink, *_fit(ink.shape, BOX))
    digit = digit / digit.max()
    return place_by_centre_of_mass(digit).astype(np.float32)


def measure_ink(image) -> dict:
    """How much was drawn, measured on the raw drawing before any scaling.

    pixels: how many pixels hold more than half the strongest ink; box: [top, left, height,
    width] of the ink (pixels above BOX_INK of the strongest); stroke: the estimated stroke
    width (stroke_width); strokes: pixels / stroke^2, the drawing's length in pen widths
    (a stroke of length L and width w covers ~ L w pixels, so L / w); height_ratio: box
    height / box width. The last two do not change when a drawing is scaled, so a dot or a
    short dash reads the same on any canvas. An empty drawing gives zeros.
    """
    ink = ink_map(image)
    if ink.max() < EMPTY_INK:
        return {"pixels": 0, "box": [0, 0, 0, 0], "stroke": 0.0, "strokes": 0.0,
                "height_ratio": 0.0}
    ink = ink / ink.max()
    mask = ink > BOX_INK
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    height, width = int(rows[-1] - rows[0] + 1), int(columns[-1] - columns[0] + 1)
    pixels = int((ink > 0.5).sum())
    stroke = float(stroke_width(ink))
    return {"pixels": pixels, "box": [int(rows[0]), int(columns[0]), height, width],
            "stroke": stroke, "strokes": pixels / max(stroke, 1.0) ** 2,
            "height_ratio": height / float(width)}


def ink_map(image) -> np.ndarray:
    """How much ink each pixel holds, (H, W) float64 in [0, 1], 0 = background."""
    array = np.asarray(image)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise ValueError(f"a canvas must be a numeric array, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(
            "a canvas must be (H, W) greyscale, (H, W, 3) RGB or (H, W, 4) RGBA; "
            f"got shape {array.shape}"
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError("empty drawing")
    values = array.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("a canvas must not contain NaN or infinite values")
    # 0..255 integers (or floats above 1) are scaled to 0..1; bools and 0..1 floats stay.
    if np.issubdtype(array.dtype, np.integer) or values.max() > 1.0:
        values = values / 255.0
    values = np.clip(values, 0.0, 1.0)

    if values.ndim == 3 and values.shape[2] == 4:
        alpha = values[:, :, 3]
        if alpha.max() - alpha.min() > EMPTY_INK:
            # A transparent canvas: strokes are where the paint is opaque, whatever its colour.
            return alpha
        if alpha.max() < EMPTY_INK:
            return np.zeros(alpha.shape)  # fully transparent: nothing is visible
        values = values[:, :, :3]
    if values.ndim == 2:
        values = values[:, :, np.newaxis]
    # The background is the typical border colour; ink is how far a pixel is from it, in the
    # channel that differs most (so black-on-white, white-on-black and coloured ink all work).
    background = np.median(_border(values), axis=0)
    return np.abs(values - background).max(axis=2)


def _border(values: np.ndarray) -> np.ndarray:
    """The pixels on the four edges of an (H, W, C) image, as (K, C)."""
    return np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]], axis=0)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The smallest rectangle holding every pixel above BOX_INK of the strongest ink."""
    mask = ink > BOX_INK * ink.max()
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("empty drawing")
    return ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _fit(shape, longer_side: int):
    """(height, width) with the longer side equal to ``longer_side``, aspect ratio kept."""
    height, width = shape
    scale = float(longer_side) / max(height, width)
    return max(1, int(round(height * scale))), max(1, int(round(width * scale)))


def area_weights(source: int, target: int) -> np.ndarray:
    """(target, source) matrix averaging source pixels into target pixels by overlap.

    Output pixel i covers the source interval [i * s, (i + 1) * s) with s = source / target;
    weight[i, j] is the length of its overlap with source pixel [j, j + 1), divided by s,
    so each row sums to 1 (an exact box filter, for shrinking and for enlarging alike).
    """
    step = source / float(target)
    starts = np.arange(target)[:, np.newaxis] * step
    ends = starts + step
    left = np.arange(source)[np.newaxis, :]
    overlap = np.minimum(ends, left + 1) - np.maximum(starts, left)
    return np.clip(overlap, 0.0, None) / step


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D image by area averaging: rows then columns, as two matrix products."""
    rows = area_weights(image.shape[0], height)  # (height, H)
    columns = area_weights(image.shape[1], width)  # (width, W)
    return rows @ image @ columns.T


def stroke_width(ink: np.ndarray) -> float:
    """Estimated stroke width in pixels: 2 * area / perimeter of the ink (> 0.5) mask.

    For a stroke of width w and length L, area = w L and perimeter ~ 2 L, hence w.
    """
    mask = (ink > 0.5).astype(np.int8)
    area = mask.sum()
    padded = np.pad(mask, 1, mode="constant")
    perimeter = np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum()
    return 2.0 * area / max(perimeter, 1)


def thicken(ink: np.ndarray, scale: float) -> np.ndarray:
    """Grow strokes so that, once scaled by ``scale``, they are about STROKE_WIDTH wide.

    A pen 16 px wide on a 280 px canvas shrinks to ~1.5 px in a 20 px box, thinner than
    MNIST's ~2 px pen. Grey-level dilation (a running maximum) by r pixels widens a stroke
    by 2 r; alternating a cross and a square step grows an octagon, close to a round pen.
    """
    width = stroke_width(ink)
    wanted = STROKE_WIDTH / scale
    radius = int(round((wanted - width) / 2.0))
    if radius <= 0:
        return ink
    grown = np.pad(ink, radius, mode="constant")
    for step in range(radius):
        grown = _dilate(grown, diagonal=step % 2 == 1)
    return grown


def _dilate(image: np.ndarray, diagonal: bool) -> np.ndarray:
    """One-pixel grey-level dilation with a 3x3 cross (or a 3x3 square if ``diagonal``)."""
    out = image.copy()
    # vertical neighbours
    np.maximum(out[1:], image[:-1], out=out[1:])
    np.maximum(out[:-1], image[1:], out=out[:-1])
    source = out if diagonal else image  # the square is the cross of a vertical step
    result = out.copy()
    np.maximum(result[:, 1:], source[:, :-1], out=result[:, 1:])
    np.maximum(result[:, :-1], source[:, 1:], out=result[:, :-1])
    return result


def place_by_centre_of_mass(digit: np.ndarray) -> np.ndarray:
    """Paste a digit (at most 20x20) into a 28x28 field with its centre of mass at CENTRE."""
    height, width = digit.shape
    total = digit.sum()
    centre_row = (digit.sum(axis=1) * np.arange(height)).sum() / total
    centre_column = (digit.sum(axis=0) * np.arange(width)).sum() / total
    # Integer shift (keeps the pixels sharp), clipped so the whole digit stays in the field.
    top = int(np.clip(np.round(CENTRE - centre_row), 0, SIZE - height))
    left = int(np.clip(np.round(CENTRE - centre_column), 0, SIZE - width))
    field = np.zeros((SIZE, SIZE))
    field[top : top + height, left : left + width] = digit
    return np.clip(field, 0.0, 1.0)
