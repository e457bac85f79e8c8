"""Shared helpers of the nncore.lab tests: small MNIST subsets and running a session out."""
from __future__ import annotations

import functools
import json

from nncore import datasets


@functools.lru_cache(maxsize=None)
def mnist(test_size=500):
    """The bundled digits with only the first `test_size` test digits (a fast evaluation)."""
    x_train, y_train, x_test, y_test = datasets.load_mnist_uint8()
    return x_train, y_train, x_test[:test_size], y_test[:test_size]


def run_out(session, seconds=0.05, limit=100_000):
    """Step until the run is finished or paused; the reports of every step."""
    reports = []
    while session.status in ("running", "evaluating") and len(reports) < limit:
        reports.append(session.step(seconds))
    return reports


def strict_json(value):
    """The JSON text of `value`; raises on NaN, infinity or anything not plain JSON."""
    return json.dumps(value, allow_nan=False)
