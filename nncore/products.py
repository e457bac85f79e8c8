"""The matrix products the layers compute, in one place.

Dense and Conv2D never write `@` themselves: they call these three, so that how a product
is formed (NumPy's `@` with BLAS natively; maybe einsum or contiguous copies on a NumPy
without BLAS, as in Pyodide) can be chosen here, once, for every layer.

    times(a, b)             a · b     the forward pass: Y = X · W
    times_transposed(a, b)  a · bᵀ    the input gradient: dE/dX = dE/dY · Wᵀ
    transposed_times(a, b)  aᵀ · b    the weight gradient: dE/dW = Xᵀ · dE/dY

Each takes 2-D arrays and an optional `out` array (C-contiguous, of the result's shape and
dtype) filled in place. Natively they are np.dot, which hands 2-D arrays to BLAS (measured
here no slower than np.matmul, at one thread or two, for the benchmark networks' shapes).
"""
from __future__ import annotations

import numpy as np


def times(a, b, out=None):
    """a (m, k) · b (k, n) -> (m, n)."""
    return np.dot(a, b, out=out)


def times_transposed(a, b, out=None):
    """a (m, k) · bᵀ, b (n, k) -> (m, n)."""
    return np.dot(a, b.T, out=out)


def transposed_times(a, b, out=None):
    """aᵀ · b, a (k, m), b (k, n) -> (m, n): a sum over the shared first axis (the batch)."""
    return np.dot(a.T, b, out=out)
