"""NumPy helpers that turn digits and weights into images a browser shows crisply."""

from __future__ import annotations

import numpy as np


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: each pixel becomes a factor x factor block (no blur)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def framed(image: np.ndarray, size: int) -> np.ndarray:
    """A (h, w) grey image centred on a transparent size x size RGBA square: tiles of any
    size line up on one grid with a gap between them."""
    height, width = image.shape
    top, left = (size - height) // 2, (size - width) // 2
    square = np.zeros((size, size, 4), dtype=np.uint8)
    square[top:top + height, left:left + width, :3] = image[..., None]
    square[top:top + height, left:left + width, 3] = 255
    return square
