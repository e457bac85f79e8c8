"""Rebuild nncore/data/mnist.npz from MNIST IDX files.

    python scripts/make_mnist_subset.py [--source DIR] [--output FILE] [--train-count N]

The source folder (default: ../shared/data/mnist relative to the repository) holds
train-10k-images-idx3-ubyte.gz, train-10k-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz (the full train-images-idx3-ubyte.gz / train-labels-idx1-ubyte.gz
also work) and a README listing their sha256 sums; every file is checked against that list
before it is read. The training digits are stored in a fixed shuffled order (the source
groups them by class); the test set keeps its official order. The output keeps the digits as
uint8 in a compressed .npz:
x_train (N, 28, 28), y_train (N,), x_test (10000, 28, 28), y_test (10000,).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from nncore.datasets import read_idx  # noqa: E402

DEFAULT_SOURCE = REPOSITORY.parent / "shared" / "data" / "mnist"
DEFAULT_OUTPUT = REPOSITORY / "nncore" / "data" / "mnist.npz"

TRAIN_CANDIDATES = [
    ("train-10k-images-idx3-ubyte.gz", "train-10k-labels-idx1-ubyte.gz"),
    ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
]
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
SHUFFLE_SEED = 0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_sums(source: Path) -> dict[str, str]:
    """file name -> sha256, from lines like '<64 hex digits>  <file name>' in the README."""
    sums: dict[str, str] = {}
    for readme in sorted(source.glob("README*")):
        for line in readme.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s*([0-9a-fA-F]{64})\s+\*?(\S+)\s*$", line)
            if match:
                sums[match.group(2)] = match.group(1).lower()
    return sums


def verified(source: Path, name: str, sums: dict[str, str]) -> Path:
    path = source / name
    if name not in sums:
        raise SystemExit(f"{path}: no sha256 listed for it in {source}/README*; refusing to use it")
    actual = sha256(path)
    if actual != sums[name]:
        raise SystemExit(f"{path}: sha256 {actual} does not match the README's {sums[name]}")
    print(f"ok  {actual}  {name}")
    return path


def pick_train_files(source: Path) -> tuple[str, str]:
    for images, labels in TRAIN_CANDIDATES:
        if (source / images).exists() and (source / labels).exists():
            return images, labels
    raise SystemExit(f"{source}: no MNIST training IDX files found")


def load_pair(source: Path, images: str, labels: str, sums: dict[str, str]):
    x = read_idx(verified(source, images, sums))
    y = read_idx(verified(source, labels, sums))
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
        raise SystemExit(f"{images}: expected uint8 images of 28x28, got {x.dtype} {x.shape}")
    if y.dtype != np.uint8 or y.shape != (x.shape[0],):
        raise SystemExit(f"{labels}: expected {x.shape[0]} uint8 labels, got {y.dtype} {y.shape}")
    return x, y


def save_reproducible_npz(path: Path, **arrays: np.ndarray) -> None:
    """Like np.savez_compressed, but with fixed zip timestamps so the bytes (and sha256)
    depend only on the arrays. np.load reads it as any other .npz."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="IDX files' folder")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the .npz to write")
    parser.add_argument("--train-count", type=int, default=10000, help="training digits to keep")
    args = parser.parse_args(argv)

    sums = published_sums(args.source)
    x_train, y_train = load_pair(args.source, *pick_train_files(args.source), sums)
    x_test, y_test = load_pair(args.source, *TEST_FILES, sums)
    if x_train.shape[0] < args.train_count:
        raise SystemExit(f"only {x_train.shape[0]} training digits, asked for {args.train_count}")
    # Keep the first N, then store them in a fixed random order: the 10k source file is grouped
    # by class, which would make x_train[:1000] all zeros and a validation_split (the last
    # fraction, as in Keras) all nines. RandomState(0) gives the same order on every NumPy.
    x_train, y_train = x_train[: args.train_count], y_train[: args.train_count]
    order = np.random.RandomState(SHUFFLE_SEED).permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]

    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_reproducible_npz(
        args.output, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    print(f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KB): "
          f"train {x_train.shape} classes {np.bincount(y_train, minlength=10).tolist()}, "
          f"test {x_test.shape} classes {np.bincount(y_test, minlength=10).tolist()}")
    print(f"sha256 {sha256(args.output)}  {args.output.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
