"""nncore.datasets: XOR, the IDX reader and the bundled MNIST subset."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from nncore import datasets

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    """An IDX file by hand: 0, 0, type code, dimension count, big-endian sizes, data."""
    sizes = struct.pack(">" + "I" * array.ndim, *array.shape)
    header = bytes([0, 0, type_code, array.ndim]) + sizes
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_xor_is_the_truth_table():
    x, y = datasets.xor()
    assert x.shape == (4, 2) and y.shape == (4, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(x[:, 0], x[:, 1]).astype(np.float32))


@pytest.mark.parametrize(
    "dtype, type_code",
    [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D),
     (np.float64, 0x0E)],
)
def test_read_idx_round_trips_every_type(dtype, type_code):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    result = datasets.read_idx(idx_bytes(array, type_code))
    assert result.shape == (2, 3, 4)
    assert result.dtype == np.dtype(dtype)  # native byte order, not big-endian
    np.testing.assert_array_equal(result, array)


def test_read_idx_reads_gzipped_files_paths_and_file_objects(tmp_path):
    labels = np.array([7, 2, 1, 0], dtype=np.uint8)
    raw = idx_bytes(labels, 0x08)
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(datasets.read_idx(path), labels)
    np.testing.assert_array_equal(datasets.read_idx(str(path)), labels)
    np.testing.assert_array_equal(datasets.read_idx(io.BytesIO(raw)), labels)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "magic number"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "magic number"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "type code"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x02", "header is truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05", "needs 3 data bytes, found 1"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_read_idx_rejects_bad_files_clearly(data, message):
    with pytest.raises(ValueError, match=message):
        datasets.read_idx(data)


@pytest.fixture(scope="module")
def bundled():
    return datasets.load_mnist()


def test_load_mnist_shapes_types_and_ranges(bundled):
    x_train, y_train, x_test, y_test = bundled
    assert x_train.shape == (10000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (10000,) and y_test.shape == (10000,)
    assert np.issubdtype(y_train.dtype, np.integer) and np.issubdtype(y_test.dtype, np.integer)
    for images in (x_train, x_test):
        assert images.min() == 0.0 and images.max() == 1.0
    # Class counts documented in nncore/data/README.md (the official test set's are well known).
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(y_train).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    # Stored shuffled, not grouped by class: any slice, such as the article's x_train[:1000] or
    # a trailing 10% validation split, holds every digit.
    for part in (y_train[:1000], y_train[-1000:]):
        assert np.bincount(part, minlength=10).min() >= 50


def test_load_mnist_accepts_bytes_and_file_objects(bundled):
    """The browser hands over the file's bytes rather than a path."""
    with open(datasets.MNIST_PATH, "rb") as handle:
        data = handle.read()
    for source in (data, io.BytesIO(data)):
        for loaded, expected in zip(datasets.load_mnist(source), bundled):
            assert loaded.dtype == expected.dtype
            np.testing.assert_array_equal(loaded, expected)


def test_load_mnist_rejects_a_file_without_the_arrays(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="lacks the arrays: y_train, x_test, y_test"):
        datasets.load_mnist(str(path))
    with pytest.raises(ValueError, match="could not read the MNIST file"):
        datasets.load_mnist(b"not an npz at all")


def test_bundled_file_matches_its_published_checksum():
    """nncore/data/README.md lists the sha256 of mnist.npz; the file must match it."""
    with open(os.path.join(datasets.DATA_DIRECTORY, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    with open(datasets.MNIST_PATH, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    assert digest + "  mnist.npz" in readme
    assert "CC BY-SA 3.0" in readme


def write_idx_sources(folder) -> None:
    """IDX files rebuilt from the bundled arrays, plus a README listing their sha256 sums,
    laid out like ../shared/data/mnist (so this runs wherever the repository is)."""
    x_train, y_train, x_test, y_test = datasets.load_mnist_uint8()
    # The script stores source[order] with order = RandomState(0).permutation(N); undo it.
    order = np.random.RandomState(0).permutation(len(x_train))
    x_train, y_train = x_train[np.argsort(order)], y_train[np.argsort(order)]
    files = {
        "train-10k-images-idx3-ubyte.gz": idx_bytes(x_train, 0x08),
        "train-10k-labels-idx1-ubyte.gz": idx_bytes(y_train, 0x08),
        "t10k-images-idx3-ubyte.gz": idx_bytes(x_test, 0x08),
        "t10k-labels-idx1-ubyte.gz": idx_bytes(y_test, 0x08),
    }
    lines = ["# MNIST", "", "sha256:", "```"]
    for name, raw in files.items():
        data = gzip.compress(raw, compresslevel=1, mtime=0)
        (folder / name).write_bytes(data)
        lines.append(hashlib.sha256(data).hexdigest() + "  " + name)
    (folder / "README.md").write_text("\n".join(lines + ["```", ""]), encoding="utf-8")


@pytest.fixture(scope="module")
def idx_sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idx")
    write_idx_sources(folder)
    return folder


def run_script(source, output):
    return subprocess.run(
        [sys.executable, os.path.join(REPOSITORY, "scripts", "make_mnist_subset.py"),
         "--source", str(source), "--output", str(output)],
        capture_output=True, text=True,
    )


def test_make_mnist_subset_rebuilds_the_bundled_arrays_reproducibly(idx_sources, tmp_path):
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    for output in (first, second):
        result = run_script(idx_sources, output)
        assert result.returncode == 0, result.stderr
    # Same arrays as the shipped file, and the same bytes run to run (fixed zip timestamps).
    # (Bytes equal to the shipped file's need the same zipfile/zlib as when it was built.)
    for rebuilt, bundled in zip(datasets.load_mnist_uint8(str(first)), datasets.load_mnist_uint8()):
        assert rebuilt.dtype == np.uint8
        np.testing.assert_array_equal(rebuilt, bundled)
    assert first.read_bytes() == second.read_bytes()


def test_make_mnist_subset_refuses_a_file_with_a_wrong_checksum(idx_sources, tmp_path):
    for name in os.listdir(idx_sources):
        (tmp_path / name).write_bytes((idx_sources / name).read_bytes())
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes() + b"\x00")
    result = run_script(tmp_path, tmp_path / "out.npz")
    assert result.returncode != 0
    assert "does not match" in result.stderr
    assert not (tmp_path / "out.npz").exists()
