"""Small datasets: XOR, the 2-D problems of the plane, IDX files, and the bundled MNIST subset.

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


# The square each plane problem's points lie in (and the boundary chart draws): XOR's four
# corners sit inside [-0.5, 1.5]^2; the point clouds are centred on 0 inside [-1.5, 1.5]^2.
XOR_EXTENT = (-0.5, 1.5)
PLANE_EXTENT = (-1.5, 1.5)
PLANE_NOISE = (0.0, 0.5)  # the standard deviation added to every coordinate, at most
PLANE_POINTS = (20, 5_000)  # fewest and most points a problem can be asked for


def _circle(count, rng):
    """Label 1 inside radius 0.5, label 0 on a ring of radius 0.8 .. 1.2."""
    inner = count // 2
    radius = np.concatenate([0.5 * np.sqrt(rng.random(inner)),
                             rng.uniform(0.8, 1.2, count - inner)])
    angle = rng.uniform(0.0, 2 * np.pi, count)
    labels = np.concatenate([np.ones(inner), np.zeros(count - inner)])
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), labels


def _spiral(count, rng):
    """Two interleaved spirals, 1.25 turns each: r = 0.1 + 1.1 t, angle = 2.5 pi t + k pi."""
    first = count // 2
    t = np.concatenate([rng.random(first), rng.random(count - first)])
    labels = np.concatenate([np.ones(first), np.zeros(count - first)])
    radius = 0.1 + 1.1 * t
    angle = 2.5 * np.pi * t + np.pi * labels
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), labels


def _gaussians(count, rng):
    """Two round clouds (standard deviation 0.25) centred at (0.6, 0.6) and (-0.6, -0.6)."""
    first = count // 2
    labels = np.concatenate([np.ones(first), np.zeros(count - first)])
    centres = np.where(labels[:, None] > 0.5, 0.6, -0.6)
    return centres + rng.normal(0.0, 0.25, (count, 2)), labels


def _moons(count, rng):
    """Two interleaved half circles (scikit-learn's make_moons), centred and scaled by 0.8:
    upper (cos t, sin t), lower (1 - cos t, 0.5 - sin t), t in [0, pi]."""
    first = count // 2
    t = rng.uniform(0.0, np.pi, count)
    labels = np.concatenate([np.ones(first), np.zeros(count - first)])
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    points = np.where(labels[:, None] > 0.5, upper, lower)
    return 0.8 * (points - np.array([0.5, 0.25])), labels


def _xor_cloud(count, rng):
    """XOR as a cloud: label 1 where x1 and x2 differ in sign (the corners (0, 1) and (1, 0)
    of the four-point XOR), each coordinate 0.1 .. 1.2 away from the axes."""
    first = count // 2
    labels = np.concatenate([np.ones(first), np.zeros(count - first)])
    size = rng.uniform(0.1, 1.2, (count, 2))
    sign = np.where(rng.random(count) < 0.5, 1.0, -1.0)
    # same signs for label 0, opposite for label 1
    signs = np.stack([sign, np.where(labels > 0.5, -sign, sign)], axis=1)
    return size * signs, labels


PLANE_PROBLEMS = {
    "circle": _circle,
    "spiral": _spiral,
    "gaussians": _gaussians,
    "moons": _moons,
    "xor-cloud": _xor_cloud,
}


def plane(name, points=200, noise=0.1, seed=0):
    """A 2-D problem as (x (points, 2), y (points, 1)), float32, labels 0 / 1, shuffled.

    ``name`` is one of PLANE_PROBLEMS; half the points (rounded down) have label 1. Every
    coordinate gets Gaussian noise of standard deviation ``noise`` and is then clipped to
    PLANE_EXTENT, the square the decision boundary is drawn over. The same seed gives the
    same points.
    """
    if name not in PLANE_PROBLEMS:
        raise ValueError("unknown 2-D problem %r; choose one of %s"
                         % (name, ", ".join(PLANE_PROBLEMS)))
    points = int(points)
    low, high = PLANE_POINTS
    if not low <= points <= high:
        raise ValueError("a 2-D problem has between %d and %d points, not %d"
                         % (low, high, points))
    noise = float(noise)
    if not PLANE_NOISE[0] <= noise <= PLANE_NOISE[1]:
        raise ValueError("the noise must lie between %g and %g, not %g" % (PLANE_NOISE + (noise,)))
    rng = np.random.default_rng(int(seed))
    x, labels = PLANE_PROBLEMS[name](points, rng)
    x = np.clip(x + rng.normal(0.0, 1.0, x.shape) * noise, *PLANE_EXTENT)
    order = rng.permutation(points)
    return (x[order].astype(np.float32),
            labels[order].reshape(points, 1).astype(np.float32))


def extent(name):
    """(low, high): the square [low, high]^2 that data set ``name``'s points lie in."""
    return PLANE_EXTENT if name in PLANE_PROBLEMS else XOR_EXTENT


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
