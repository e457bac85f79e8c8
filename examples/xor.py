"""The articles' first experiment: a 2-3-1 tanh network learns XOR.

    python examples/xor.py

Twice: once with nncore's own API, once with the articles' spelling (nncore.seed), which
runs their code unchanged. Both train with plain SGD, learning rate 0.1, one sample at a time,
for 1000 epochs, on the mean squared error (the article reaches error=0.000242).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nncore  # noqa: E402


def with_nncore():
    x, y = nncore.datasets.xor()  # x (4, 2), y (4, 1)
    net = nncore.Network(
        [nncore.Dense(2, 3), nncore.Tanh(), nncore.Dense(3, 1), nncore.Tanh()], seed=0
    )
    net.compile(loss="mse", optimizer="sgd", lr=0.1)
    history = net.fit(x, y, epochs=1000, batch_size=1, shuffle=False)
    print(net.summary())
    print(f"nncore: final error={history.history['loss'][-1]:f}")
    for inputs, output in zip(x, net.predict(x)):
        print(f"  {inputs.astype(int).tolist()} -> {output[0]:.4f}")
    return history.history["loss"][-1]


def with_the_articles_code():
    from nncore.seed import ActivationLayer, FCLayer, Network, mse, mse_prime, tanh, tanh_prime

    # training data, shaped (samples, 1, features) as in the article
    x_train = np.array([[[0, 0]], [[0, 1]], [[1, 0]], [[1, 1]]])
    y_train = np.array([[[0]], [[1]], [[1]], [[0]]])

    # network
    net = Network()
    net.add(FCLayer(2, 3))
    net.add(ActivationLayer(tanh, tanh_prime))
    net.add(FCLayer(3, 1))
    net.add(ActivationLayer(tanh, tanh_prime))

    # train (the article prints one line per epoch: we keep the last three)
    net.use(mse, mse_prime)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        net.fit(x_train, y_train, epochs=1000, learning_rate=0.1)
    lines = log.getvalue().splitlines()
    print("the articles' code (nncore.seed):")
    print("  ...\n  " + "\n  ".join(lines[-3:]))

    # test
    out = net.predict(x_train)
    print("  predictions:", [round(float(o[0, 0]), 4) for o in out])
    return float(lines[-1].split("error=")[1])


if __name__ == "__main__":
    errors = [with_nncore(), with_the_articles_code()]
    print()
    for label, error in zip(("nncore", "nncore.seed"), errors):
        verdict = "below" if error < 0.001 else "NOT below"
        print(f"{label:<12} error after 1000 epochs: {error:.6f} ({verdict} 0.001)")
