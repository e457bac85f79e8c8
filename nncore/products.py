"""The matrix products the layers compute, in one place, each in the formulation that the
running NumPy computes fastest.

Dense and Conv2D never write `@` themselves: they call these three, so that how a product
is formed is chosen here, once, for every layer.

    times(a, b)             a · b     the forward pass: Y = X · W
    times_transposed(a, b)  a · bᵀ    the input gradient: dE/dX = dE/dY · Wᵀ
    transposed_times(a, b)  aᵀ · b    the weight gradient: dE/dW = Xᵀ · dE/dY

Each takes 2-D arrays and an optional `out` array (C-contiguous, of the result's shape and
dtype) filled in place. Three formulations compute the same sums:

    "dot"     np.dot: hands 2-D arrays to BLAS when NumPy has one
    "matmul"  np.matmul: without BLAS a plain loop, the quickest when b is narrow
    "einsum"  np.einsum: without BLAS its sum-of-products loop runs along b's rows, the
              quickest when b is wide

The choice, made once at import from NumPy's build configuration (no timing, so a busy
machine cannot sway it): a NumPy linked to a BLAS uses "dot" everywhere (with BLAS it is
many times faster than the others). A NumPy without one (Pyodide's) uses "matmul" when b has
fewer than NARROW columns (a conv's im2col kernel, a classifier's last layer) and "einsum"
otherwise (a hidden dense layer). Measured in Pyodide 0.17.1, float32, ms per product:

    shapes a · b              product            dot    matmul  einsum
    (32x784) · (784x128)      times              2.70   2.90    1.16
                              times_transposed   1.40   1.48    1.18
                              transposed_times   1.96   1.84    1.40
    (21632x10) · (10x8)       times              2.73   1.25    1.60
                              times_transposed   3.07   1.24    2.20
                              transposed_times   1.38   1.44    1.36
    (32x1352) · (1352x10)     times              0.26   0.25    0.32
                              times_transposed   0.27   0.23    0.38
                              transposed_times   0.21   0.18    0.26

A configuration that cannot be read keeps "dot" (what NumPy does by default).
`choice()` tells what was chosen; `using(...)` forces a choice (the tests check every one).
"""
from __future__ import annotations

import contextlib

import numpy as np

NARROW = 32  # b with fewer columns than this is "narrow"
PRODUCTS = ("times", "times_transposed", "transposed_times")
FORMULATIONS = ("dot", "matmul", "einsum")
KINDS = ("narrow", "wide")

def _einsum(subscripts):
    """np.einsum for two operands; NumPy 1.17's refuses out=None, so `out` only if given."""
    def product(a, b, out=None):
        if out is None:
            return np.einsum(subscripts, a, b)
        return np.einsum(subscripts, a, b, out=out)
    return product


_FORMS = {
    # a (m, k) · b (k, n)
    "times": {
        "dot": lambda a, b, out=None: np.dot(a, b, out=out),
        "matmul": lambda a, b, out=None: np.matmul(a, b, out=out),
        "einsum": _einsum("ik,kn->in"),
    },
    # a (m, k) · bᵀ, b (n, k)
    "times_transposed": {
        "dot": lambda a, b, out=None: np.dot(a, b.T, out=out),
        "matmul": lambda a, b, out=None: np.matmul(a, b.T, out=out),
        "einsum": _einsum("ik,nk->in"),
    },
    # aᵀ · b, a (k, m), b (k, n)
    "transposed_times": {
        "dot": lambda a, b, out=None: np.dot(a.T, b, out=out),
        "matmul": lambda a, b, out=None: np.matmul(a.T, b, out=out),
        "einsum": _einsum("km,kn->mn"),
    },
}


def _product(product, names):
    """The function for one product: its formulation itself when both kinds of b share one
    (with BLAS: np.dot, no extra step), else one that looks at b's width first."""
    narrow, wide = (_FORMS[product][names[kind]] for kind in KINDS)
    if narrow is wide:
        compute = wide
    else:
        def compute(a, b, out=None):
            return (narrow if b.shape[1] < NARROW else wide)(a, b, out)
    compute.__name__ = compute.__qualname__ = product
    compute.__doc__ = _SHAPES[product]
    return compute


_SHAPES = {
    "times": "a (m, k) · b (k, n) -> (m, n).",
    "times_transposed": "a (m, k) · bᵀ, b (n, k) -> (m, n).",
    "transposed_times": "aᵀ · b, a (k, m), b (k, n) -> (m, n): a sum over the shared first "
                        "axis (the batch).",
}


def blas_linked():
    """Whether NumPy's build configuration names a BLAS: NumPy >= 1.26 keeps it in
    __config__.CONFIG, older ones answer get_info("blas_opt") (Pyodide's: {}, none).
    A configuration laid out otherwise counts as linked, keeping np.dot."""
    config = getattr(np, "__config__", None)
    try:
        if hasattr(config, "CONFIG"):
            return bool(config.CONFIG["Build Dependencies"]["blas"]["found"])
        return bool(config.get_info("blas_opt"))
    except Exception:
        return True


def _decide(linked):
    """{product: {kind of b: formulation}} for a NumPy with BLAS (linked) or without."""
    kinds = {"narrow": "dot", "wide": "dot"} if linked else {"narrow": "matmul",
                                                             "wide": "einsum"}
    return {product: dict(kinds) for product in PRODUCTS}


def _install(names):
    """Binds times, times_transposed and transposed_times to the formulations `names` picks."""
    global _names, times, times_transposed, transposed_times
    _names = {product: dict(names[product]) for product in PRODUCTS}
    times = _product("times", _names["times"])
    times_transposed = _product("times_transposed", _names["times_transposed"])
    transposed_times = _product("transposed_times", _names["transposed_times"])


_names = None
_install(_decide(blas_linked()))


def choice():
    """The formulation of each product for each kind of b, e.g.
    {"times": {"narrow": "matmul", "wide": "einsum"}, ...}."""
    return {product: dict(kinds) for product, kinds in _names.items()}


@contextlib.contextmanager
def using(names):
    """Compute every product with one formulation ("dot", "matmul" or "einsum"), or with a
    table as choice() returns it, inside the block; the import's choice comes back after."""
    if isinstance(names, str):
        if names not in FORMULATIONS:
            raise ValueError("formulation must be one of %s, got %r" % (FORMULATIONS, names))
        names = {product: {kind: names for kind in KINDS} for product in PRODUCTS}
    saved = choice()
    _install(names)
    try:
        yield
    finally:
        _install(saved)
