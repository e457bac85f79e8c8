"""NumPy helpers that turn digits and weights into images a browser shows crisply."""

from __future__ import annotations

import numpy as np


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: each pixel becomes a factor x factor block (no blur)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def signed_to_unit(weights: np.ndarray) -> np.ndarray:
    """Weights of either sign -> [0, 1] with 0.5 = zero, scaled by the largest |weight|."""
    largest = float(np.abs(weights).max()) or 1.0
    return 0.5 + 0.5 * weights / largest


def first_layer_images(network, limit: int = 32, initial=None):
    """What each first-layer unit looks for, as greyscale images (or None if not an image net).

    `initial`: the layer's weights before training, if known. Then each image shows what
    training changed (weights - initial): after a short run the raw weights are still mostly
    their random start, and only the change shows the strokes a unit learned to look for.

    Dense after a 784 input: W is (784, units); column u reshaped to 28x28 is the pattern
    that excites unit u most. Conv2D: K is (kh, kw, channels, filters); filter f on channel 0
    is a small kh x kw image, enlarged so the pixels are visible.
    """
    for layer in network.layers:
        if not layer.params:
            continue
        weights = np.asarray(layer.params[0], dtype=np.float64)
        if initial is not None and np.shape(initial) == weights.shape:
            weights = weights - initial
        if weights.ndim == 2 and weights.shape[0] == 784:
            units = weights[:, :limit].T.reshape(-1, 28, 28)
            return [enlarge(signed_to_unit(unit), 2) for unit in units]
        if weights.ndim == 4:
            kernels = np.moveaxis(weights[:, :, 0, :limit], -1, 0)
            factor = max(1, 56 // kernels.shape[1])
            return [enlarge(signed_to_unit(kernel), factor) for kernel in kernels]
        return None
    return None
