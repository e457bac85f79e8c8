"""Optimizers own the update: given live weight arrays and their gradients, change the
weights in place. Each keeps its per-weight state (velocities, running averages) in lists
aligned with the parameters it is stepped with.
"""
from __future__ import annotations

import numpy as np


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError("%s must be a number, got %r" % (name, value))
    return float(value)


def _positive(value, name):
    value = _number(value, name)
    if not value > 0:
        raise ValueError("%s must be a positive number, got %r" % (name, value))
    return value


def _decay(value, name):
    """A running-average or momentum coefficient: 0 <= value < 1."""
    value = _number(value, name)
    if not 0 <= value < 1:
        raise ValueError("%s must lie in [0, 1), got %r" % (name, value))
    return value


class Optimizer:
    name = "optimizer"

    def __init__(self, lr=0.01):
        self.lr = _positive(lr, "the learning rate")
        self.state = None
        self.iterations = 0

    def _slots(self, params, count):
        """Per-parameter state arrays, created (zeros) on the first step."""
        if self.state is None:
            self.state = [[np.zeros_like(p) for p in params] for _ in range(count)]
        return self.state

    def step(self, params, grads):
        self.iterations += 1
        self.update(params, grads)

    def update(self, params, grads):
        raise NotImplementedError

    def options(self):
        return {}

    def __repr__(self):
        args = ", ".join("%s=%r" % item for item in dict(lr=self.lr, **self.options()).items())
        return "%s(%s)" % (type(self).__name__, args)


class SGD(Optimizer):
    """v <- momentum v - lr g;  w <- w + v  (Nesterov: w <- w + momentum v - lr g)."""

    name = "sgd"

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False):
        super().__init__(lr)
        self.momentum = _decay(momentum, "momentum")
        self.nesterov = bool(nesterov)

    def options(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def update(self, params, grads):
        if self.momentum == 0:
            for w, g in zip(params, grads):
                w -= self.lr * g
            return
        (velocities,) = self._slots(params, 1)
        for w, g, v in zip(params, grads, velocities):
            v *= self.momentum
            v -= self.lr * g
            if self.nesterov:
                w += self.momentum * v - self.lr * g
            else:
                w += v


class RMSprop(Optimizer):
    """s <- rho s + (1 - rho) g^2;  w <- w - lr g / (sqrt(s) + eps)."""

    name = "rmsprop"

    def __init__(self, lr=0.001, rho=0.9, epsilon=1e-7):
        super().__init__(lr)
        self.rho, self.epsilon = _decay(rho, "rho"), _positive(epsilon, "epsilon")

    def options(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def update(self, params, grads):
        (squares,) = self._slots(params, 1)
        for w, g, s in zip(params, grads, squares):
            s *= self.rho
            s += (1 - self.rho) * g * g
            w -= self.lr * g / (np.sqrt(s) + self.epsilon)


class Adagrad(Optimizer):
    """s <- s + g^2;  w <- w - lr g / (sqrt(s) + eps): steps shrink where gradients were big."""

    name = "adagrad"

    def __init__(self, lr=0.01, epsilon=1e-7):
        super().__init__(lr)
        self.epsilon = _positive(epsilon, "epsilon")

    def options(self):
        return {"epsilon": self.epsilon}

    def update(self, params, grads):
        (squares,) = self._slots(params, 1)
        for w, g, s in zip(params, grads, squares):
            s += g * g
            w -= self.lr * g / (np.sqrt(s) + self.epsilon)


class Adadelta(Optimizer):
    """Zeiler (2012): the step is g scaled by RMS(previous steps) / RMS(gradients).

    s <- rho s + (1 - rho) g^2;  d <- -sqrt(u + eps) / sqrt(s + eps) g;
    u <- rho u + (1 - rho) d^2;  w <- w + lr d   (lr = 1 is the paper's rule).
    """

    name = "adadelta"

    def __init__(self, lr=1.0, rho=0.95, epsilon=1e-6):
        super().__init__(lr)
        self.rho, self.epsilon = _decay(rho, "rho"), _positive(epsilon, "epsilon")

    def options(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def update(self, params, grads):
        squares, step_squares = self._slots(params, 2)
        rho, eps = self.rho, self.epsilon
        for w, g, s, u in zip(params, grads, squares, step_squares):
            s *= rho
            s += (1 - rho) * g * g
            step = -np.sqrt(u + eps) / np.sqrt(s + eps) * g
            u *= rho
            u += (1 - rho) * step * step
            w += self.lr * step


class Adam(Optimizer):
    """Kingma & Ba (2015): m, v running means of g and g^2, bias-corrected by 1 - beta^t.

    w <- w - lr * m_hat / (sqrt(v_hat) + eps).
    """

    name = "adam"

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(lr)
        self.beta_1, self.beta_2 = _decay(beta_1, "beta_1"), _decay(beta_2, "beta_2")
        self.epsilon = _positive(epsilon, "epsilon")

    def options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def update(self, params, grads):
        means, squares = self._slots(params, 2)
        b1, b2, t = self.beta_1, self.beta_2, self.iterations
        correction_1, correction_2 = 1 - b1**t, 1 - b2**t
        for w, g, m, v in zip(params, grads, means, squares):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            w -= (self.lr / correction_1) * m / (np.sqrt(v / correction_2) + self.epsilon)


class Adamax(Adam):
    """Adam with the infinity norm (same options as Adam, its own default lr).

    u <- max(beta_2 u, |g|);  w <- w - lr / (1 - beta_1^t) m / (u + eps).
    """

    name = "adamax"

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(lr, beta_1, beta_2, epsilon)

    def update(self, params, grads):
        means, norms = self._slots(params, 2)
        b1, b2 = self.beta_1, self.beta_2
        correction = 1 - b1**self.iterations
        for w, g, m, u in zip(params, grads, means, norms):
            m *= b1
            m += (1 - b1) * g
            np.maximum(u * b2, np.abs(g), out=u)
            w -= (self.lr / correction) * m / (u + self.epsilon)


# name -> (class, fixed options); the options a user may set, with their defaults
_FACTORIES = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (RMSprop, {}),
    "adagrad": (Adagrad, {}),
    "adadelta": (Adadelta, {}),
    "adam": (Adam, {}),
    "adamax": (Adamax, {}),
}

OPTIONS = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "rmsprop": {"rho": 0.9, "epsilon": 1e-7},
    "adagrad": {"epsilon": 1e-7},
    "adadelta": {"rho": 0.95, "epsilon": 1e-6},
    "adam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    "adamax": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
}


def get(optimizer, lr=0.01, **options):
    """'adam' -> Adam(lr, ...); an Optimizer instance passes through unchanged."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer not in _FACTORIES:
        raise ValueError(
            "unknown optimizer %r; choose one of %s" % (optimizer, ", ".join(_FACTORIES))
        )
    cls, fixed = _FACTORIES[optimizer]
    unknown = set(options) - set(OPTIONS[optimizer])
    if unknown:
        raise ValueError(
            "optimizer %r has no option %s; its options are: %s"
            % (optimizer, ", ".join(sorted(unknown)), ", ".join(OPTIONS[optimizer]) or "none")
        )
    arguments = dict(fixed)
    arguments.update(options)
    return cls(lr=lr, **arguments)
