"""The one edit the vocabulary tests make: a new activation class, not yet registered.

tests/test_vocabulary.py registers it in its own process; tests/e2e/test_web.py registers it
in a subprocess that builds the web site, and looks for it in the page's builder.
"""
from __future__ import annotations

import numpy as np

from nncore import layers


class Softsign(layers.ActivationLayer):
    """x / (1 + |x|): a tanh-like curve with polynomial tails."""

    type = "softsign"

    def function(self, x):
        return x / (1.0 + np.abs(x))

    def gradient(self, grad):
        # softsign'(x) = 1 / (1 + |x|)^2
        return grad / (1.0 + np.abs(self.x)) ** 2
