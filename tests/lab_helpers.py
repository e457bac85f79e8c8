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


# One experiment that every host must train to the same numbers: the Streamlit app
# (tests/test_app.py), the web page in Pyodide (tests/e2e/test_web.py) and nncore.lab in
# CPython give the same loss curve (to 1e-5 relative) and the same test accuracy.
SAME_EVERYWHERE = {"preset": "mnist-mlp", "train_size": 500, "epochs": 2}


def same_everywhere():
    """The shared experiment, whole and checked."""
    from nncore.lab import experiment

    changes = {key: value for key, value in SAME_EVERYWHERE.items() if key != "preset"}
    return experiment.check(dict(experiment.default(SAME_EVERYWHERE["preset"]), **changes))


@functools.lru_cache(maxsize=None)
def cpython_run():
    """(the loss chart's rows as (series, step, loss), test accuracy) of the shared
    experiment, trained by a plain nncore.lab.Session in this CPython on the whole
    10,000-digit test set."""
    from nncore.lab import Session

    session = Session()
    session.speed = None
    session.train(same_everywhere())
    while session.status != "finished":
        session.step(1.0)
    return loss_points(session.rows()["loss"]), session.evaluation["accuracy"]


def loss_points(rows):
    """The loss chart's rows as (series, step, loss) tuples, in order."""
    return tuple((row["series"], row["step"], row["loss"]) for row in rows)


def assert_same_curve(rows, reference):
    """A host's loss rows against cpython_run()'s: the same points, losses to 1e-5."""
    import numpy as np

    points = loss_points(rows)
    assert [point[:2] for point in points] == [point[:2] for point in reference]
    assert len(points) > 2
    np.testing.assert_allclose([point[2] for point in points],
                               [point[2] for point in reference], rtol=1e-5)
