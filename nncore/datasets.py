"""Small datasets: XOR, IDX files, and the bundled MNIST subset.

The MNIST subset ships inside the package (``nncore/data/mnist.npz``) as uint8 arrays:
10,000 training digits and the official 10,000 test digits. MNIST is by Yann LeCun,
Corinna Cortes and Christopher J.C. Burges, licensed CC BY-SA 3.0 (see nncore/data/README.md).
"""

from __future__ import annotations

import gzip
import io
import os
import zlib

import numpy as np

DATA_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
MNIST_PATH = os.path.join(DATA_DIRECTORY, "mnist.npz")
MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

GZIP_MAGIC = b"\x1f\x8b"


def xor():
    """The four XOR points: x (4, 2) and y (4, 1), float32."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return x, y


def _read_bytes(source):
    """Bytes of a path, a bytes-like object or a binary file-like object."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        return source.read()
    with open(os.fspath(source), "rb") as handle:
        return handle.read()


def read_idx(source):
    """Read an IDX file (gzipped or not) into a NumPy array in native byte order.

    ``source`` is a path, bytes, or a binary file-like object. The IDX layout is:
    two zero bytes, a type code, the number of dimensions d, then d big-endian
    uint32 sizes, then the data in row-major order.
    """
    data = _read_bytes(source)
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            message = f"not a valid IDX file: the gzip stream is damaged ({error})"
            raise ValueError(message) from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError("not an IDX file: the magic number must start with two zero bytes")
    type_code, dimensions = data[2], data[3]
    if type_code not in IDX_DTYPES:
        raise ValueError(f"not a valid IDX file: unknown data type code 0x{type_code:02x}")
    if dimensions == 0:
        raise ValueError("not a valid IDX file: zero dimensions")
    header_size = 4 + 4 * dimensions
    if len(data) < header_size:
        raise ValueError("not a valid IDX file: the header is truncated")
    sizes = np.frombuffer(data, dtype=">u4", count=dimensions, offset=4)
    shape = tuple(int(size) for size in sizes)
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_size
    if actual != expected:
        raise ValueError(
            f"not a valid IDX file: shape {shape} needs {expected} data bytes, found {actual}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def load_mnist_uint8(source=None):
    """The raw MNIST subset: (x_train, y_train, x_test, y_test) as uint8 arrays.

    ``source`` is None (the bundled file), a path, bytes, or a binary file-like object
    holding an .npz with the keys x_train, y_train, x_test, y_test.
    """
    if source is None:
        source = MNIST_PATH
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    try:
        archive = np.load(source, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"could not read the MNIST file: {error}") from None
    with archive:
        missing = [key for key in MNIST_KEYS if key not in archive.files]
        if missing:
            raise ValueError("the MNIST file lacks the arrays: " + ", ".join(missing))
        arrays = tuple(archive[key] for key in MNIST_KEYS)
    return arrays


def load_mnist(path=None):
    """The bundled MNIST subset as (x_train, y_train, x_test, y_test).

    Images are float32 in [0, 1] with shape (N, 28, 28); labels are int64 class indices
    0..9. ``path`` may be None (the bundled subset), a path, bytes, or a file-like object.
    """
    x_train, y_train, x_test, y_test = load_mnist_uint8(path)
    scale = np.float32(1.0 / 255.0)
    return (
        x_train.astype(np.float32) * scale,
        y_train.astype(np.int64),
        x_test.astype(np.float32) * scale,
        y_test.astype(np.int64),
    )
