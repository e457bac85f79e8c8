"""NumPy helpers that turn digits and weights into images a browser shows crisply."""

from __future__ import annotations

import numpy as np


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: each pixel becomes a factor x factor block (no blur)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
