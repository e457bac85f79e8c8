"""Train the pretrained networks shipped in nncore/pretrained/, reproducibly.

    python scripts/train_pretrained.py                 # both models
    python scripts/train_pretrained.py --model mnist-cnn --epochs 30

Data: the bundled 10,000 MNIST training digits (nncore.datasets.load_mnist). Each epoch sees a
freshly augmented copy of them (random rotation, scale, shear, shift and stroke thickness, all
plain NumPy below), so digits drawn on a canvas, which are thicker, thinner or more tilted than
MNIST's, are still read well. Adam with a learning rate that decays geometrically each epoch.
Seeds are fixed: the same command gives the same weights. Accuracy is reported on the official
10,000-digit test set, which is never trained on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

import nncore  # noqa: E402

OUTPUT_DIRECTORY = REPOSITORY / "nncore" / "pretrained"
SEED = 2024


# ---------------------------------------------------------------------------- models


def build_mlp() -> nncore.Network:
    """784-256-128-10, ReLU, dropout; takes (N, 784)."""
    return nncore.Network(
        [
            nncore.Dense(256), nncore.ReLU(), nncore.Dropout(0.2),
            nncore.Dense(128), nncore.ReLU(), nncore.Dropout(0.2),
            nncore.Dense(10), nncore.Softmax(),
        ],
        input_shape=(784,),
        seed=SEED,
    )


def build_cnn() -> nncore.Network:
    """conv(16, 3x3)-relu-pool-conv(32, 3x3)-relu-pool-dense(128)-dense(10), on (N, 28, 28, 1)."""
    return nncore.Network(
        [
            nncore.Conv2D(16, 3), nncore.ReLU(), nncore.MaxPool2D(2),
            nncore.Conv2D(32, 3), nncore.ReLU(), nncore.MaxPool2D(2),
            nncore.Flatten(), nncore.Dropout(0.25),
            nncore.Dense(128), nncore.ReLU(), nncore.Dropout(0.3),
            nncore.Dense(10), nncore.Softmax(),
        ],
        input_shape=(28, 28, 1),
        seed=SEED,
    )


MODELS = {
    # name: (builder, input shape per sample, epochs, batch size, first lr, last lr)
    "mnist-mlp": (build_mlp, (784,), 40, 64, 1e-3, 2e-5),
    "mnist-cnn": (build_cnn, (28, 28, 1), 30, 64, 2e-3, 3e-5),
}


# ---------------------------------------------------------------------------- augmentation


def affine_warp(images: np.ndarray, matrices: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Warp each (28, 28) image by x -> A (x - c) + c + t, with bilinear interpolation.

    images (N, H, W); matrices (N, 2, 2) = A; shifts (N, 2) = t in pixels (row, column);
    c is the image centre. Each output pixel p samples the input at A^-1 (p - c - t) + c.
    """
    count, height, width = images.shape
    centre = np.array([(height - 1) / 2.0, (width - 1) / 2.0])
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    grid = np.stack([rows.ravel(), columns.ravel()])  # (2, H*W)
    inverse = np.linalg.inv(matrices)  # (N, 2, 2)
    offset = grid[np.newaxis] - (centre + shifts)[:, :, np.newaxis]  # (N, 2, H*W)
    source = inverse @ offset + centre[np.newaxis, :, np.newaxis]
    source_rows, source_columns = source[:, 0], source[:, 1]  # (N, H*W)

    # Pad by one zero pixel so the four bilinear neighbours are always in range.
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="constant").reshape(count, -1)
    top = np.floor(source_rows)
    left = np.floor(source_columns)
    down, right = source_rows - top, source_columns - left  # fractional parts
    top = np.clip(top.astype(np.int64) + 1, 0, height)  # +1: the padding
    left = np.clip(left.astype(np.int64) + 1, 0, width)
    stride = width + 2

    def at(r, c):
        return np.take_along_axis(padded, r * stride + c, axis=1)

    warped = (
        at(top, left) * (1 - down) * (1 - right)
        + at(top, left + 1) * (1 - down) * right
        + at(top + 1, left) * down * (1 - right)
        + at(top + 1, left + 1) * down * right
    )
    inside = (source_rows > -1) & (source_rows < height)
    inside &= (source_columns > -1) & (source_columns < width)
    return (warped * inside).reshape(count, height, width)


def _neighbour_extreme(images: np.ndarray, function) -> np.ndarray:
    """Grey-level dilation (np.maximum) or erosion (np.minimum) with a 3x3 cross."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="constant")
    result = images.copy()
    for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
        result = function(result, padded[:, dr : dr + images.shape[1], dc : dc + images.shape[2]])
    return result


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly distorted copy of (N, 28, 28) float images in [0, 1]."""
    count = len(images)
    angle = np.radians(rng.uniform(-15, 15, count))
    scale = rng.uniform(0.85, 1.12, count)
    aspect = np.exp(rng.uniform(-0.12, 0.12, count))  # wider or narrower strokes/digits
    shear = rng.uniform(-0.2, 0.2, count)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    stretch = np.zeros((count, 2, 2))
    stretch[:, 0, 0] = scale * aspect
    stretch[:, 1, 1] = scale / aspect
    stretch[:, 0, 1] = shear * scale
    matrices = rotation @ stretch
    shifts = rng.uniform(-2.5, 2.5, (count, 2))
    warped = affine_warp(images.astype(np.float64), matrices, shifts)

    # Stroke thickness: a third get thicker (blend with a dilation), a sixth thinner.
    choice = rng.uniform(size=count)
    strength = rng.uniform(0.5, 1.0, (count, 1, 1))
    thicker = choice < 1 / 3
    thinner = choice > 5 / 6
    if thicker.any():
        grown = _neighbour_extreme(warped[thicker], np.maximum)
        warped[thicker] += strength[thicker] * (grown - warped[thicker])
    if thinner.any():
        shrunk = _neighbour_extreme(warped[thinner], np.minimum)
        warped[thinner] += 0.5 * strength[thinner] * (shrunk - warped[thinner])
    return np.clip(warped, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------- training


def train(name: str, epochs: int | None = None, output_directory: Path = OUTPUT_DIRECTORY):
    builder, sample_shape, default_epochs, batch_size, first_lr, last_lr = MODELS[name]
    epochs = epochs or default_epochs
    x_train, y_train, x_test, y_test = nncore.datasets.load_mnist()
    x_test = x_test.reshape((-1,) + sample_shape)

    net = builder()
    optimizer = nncore.Adam(lr=first_lr)
    net.compile(loss="cross_entropy", optimizer=optimizer, lr=first_lr)
    print(net.summary(), flush=True)
    rng = np.random.default_rng(SEED)
    decay = (last_lr / first_lr) ** (1.0 / max(epochs - 1, 1))
    start = time.perf_counter()
    for epoch in range(epochs):
        # The same optimizer object keeps its moments; only its step size shrinks.
        optimizer.lr = first_lr * decay**epoch
        x_epoch = augment(x_train, rng).reshape((-1,) + sample_shape)
        history = net.fit(x_epoch, y_train, epochs=1, batch_size=batch_size,
                          seed=int(rng.integers(2**31)))
        scores = net.evaluate(x_test, y_test)
        print(
            f"{name} epoch {epoch + 1:2d}/{epochs} lr {optimizer.lr:.2e} "
            f"loss {history.history['loss'][-1]:.4f} "
            f"train acc {history.history['accuracy'][-1]:.4f} "
            f"test acc {scores['accuracy']:.4f} ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    output_directory.mkdir(parents=True, exist_ok=True)
    path = output_directory / (name + ".npz")
    net.save(str(path))
    size = path.stat().st_size / 1024
    print(f"saved {path} ({size:.0f} KB), test accuracy {scores['accuracy']:.4f}", flush=True)
    return net, scores["accuracy"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS) + ["all"], default="all")
    parser.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    parser.add_argument("--output-directory", type=Path, default=OUTPUT_DIRECTORY)
    args = parser.parse_args(argv)
    names = sorted(MODELS) if args.model == "all" else [args.model]
    for name in names:
        train(name, args.epochs, args.output_directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
