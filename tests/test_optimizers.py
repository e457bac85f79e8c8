"""Each optimizer against its textbook update, written out by hand below, and on convex
problems it must solve."""
from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import optimizers

START = np.array([1.0, -2.0, 0.5])
# three steps' worth of gradients, fixed so that every rule sees the same sequence
GRADIENTS = [np.array([0.5, -1.0, 0.0]), np.array([0.2, 0.3, -0.1]), np.array([-0.4, 0.1, 2.0])]


def textbook_sgd(lr):
    w = START.copy()
    for g in GRADIENTS:
        w = w - lr * g
    return w


def textbook_momentum(lr, mu, nesterov):
    """v_t = mu v_{t-1} - lr g_t; classical: w += v_t; Nesterov (Sutskever's form, as in
    Keras): w += mu v_t - lr g_t."""
    w, v = START.copy(), np.zeros(3)
    for g in GRADIENTS:
        v = mu * v - lr * g
        w = w + (mu * v - lr * g if nesterov else v)
    return w


def textbook_rmsprop(lr, rho, eps):
    """s_t = rho s_{t-1} + (1 - rho) g^2; w -= lr g / (sqrt(s_t) + eps)."""
    w, s = START.copy(), np.zeros(3)
    for g in GRADIENTS:
        s = rho * s + (1 - rho) * g**2
        w = w - lr * g / (np.sqrt(s) + eps)
    return w


def textbook_adagrad(lr, eps):
    """s_t = s_{t-1} + g^2 (Duchi et al., accumulator starting at 0);
    w -= lr g / (sqrt(s_t) + eps)."""
    w, s = START.copy(), np.zeros(3)
    for g in GRADIENTS:
        s = s + g**2
        w = w - lr * g / (np.sqrt(s) + eps)
    return w


def textbook_adadelta(lr, rho, eps):
    """Zeiler (2012), algorithm 1: RMS[x] = sqrt(E[x^2] + eps);
    dx_t = -RMS[dx]_{t-1} / RMS[g]_t * g_t; w += lr dx_t."""
    w, eg2, edx2 = START.copy(), np.zeros(3), np.zeros(3)
    for g in GRADIENTS:
        eg2 = rho * eg2 + (1 - rho) * g**2
        dx = -np.sqrt(edx2 + eps) / np.sqrt(eg2 + eps) * g
        edx2 = rho * edx2 + (1 - rho) * dx**2
        w = w + lr * dx
    return w


def textbook_adam(lr, beta_1, beta_2, eps):
    """Kingma & Ba (2015), algorithm 1, with bias-corrected moments m_hat, v_hat."""
    w, m, v = START.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADIENTS, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1**t)
        v_hat = v / (1 - beta_2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def textbook_adamax(lr, beta_1, beta_2, eps):
    """Kingma & Ba (2015), algorithm 2: u_t = max(beta_2 u_{t-1}, |g_t|);
    w -= lr / (1 - beta_1^t) * m_t / (u_t + eps) (eps as in Keras)."""
    w, m, u = START.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADIENTS, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        u = np.maximum(beta_2 * u, np.abs(g))
        w = w - lr / (1 - beta_1**t) * m / (u + eps)
    return w


CASES = {
    "sgd": ({}, lambda lr: textbook_sgd(lr)),
    "momentum": ({"momentum": 0.8}, lambda lr: textbook_momentum(lr, 0.8, nesterov=False)),
    "nesterov": ({"momentum": 0.7}, lambda lr: textbook_momentum(lr, 0.7, nesterov=True)),
    "rmsprop": ({"rho": 0.8, "epsilon": 1e-7}, lambda lr: textbook_rmsprop(lr, 0.8, 1e-7)),
    "adagrad": ({"epsilon": 1e-7}, lambda lr: textbook_adagrad(lr, 1e-7)),
    "adadelta": ({"rho": 0.9, "epsilon": 1e-6}, lambda lr: textbook_adadelta(lr, 0.9, 1e-6)),
    "adam": ({"beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-8},
             lambda lr: textbook_adam(lr, 0.8, 0.9, 1e-8)),
    "adamax": ({"beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-8},
               lambda lr: textbook_adamax(lr, 0.8, 0.9, 1e-8)),
}


def test_every_optimizer_is_covered():
    assert set(CASES) == set(optimizers.OPTIONS) == set(nncore.OPTIMIZERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_three_steps_match_the_textbook(name):
    options, textbook = CASES[name]
    lr = 0.1
    optimizer = optimizers.get(name, lr=lr, **options)
    # two parameter arrays, stepped together, each with its own state
    first, second = START.copy(), START.copy().reshape(3, 1)
    for g in GRADIENTS:
        optimizer.step([first, second], [g.copy(), g.copy().reshape(3, 1)])
    expected = textbook(lr)
    np.testing.assert_allclose(first, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(second[:, 0], expected, rtol=1e-12, atol=1e-15)
    assert not np.allclose(first, START)


def test_first_steps_by_hand():
    """A few numbers worked out on paper, independent of the textbook functions above."""
    w = np.array([1.0])
    optimizers.get("sgd", lr=0.5).step([w], [np.array([0.2])])
    assert w[0] == pytest.approx(0.9)

    w, momentum = np.array([1.0]), optimizers.get("momentum", lr=0.5, momentum=0.5)
    momentum.step([w], [np.array([0.2])])  # v = -0.1, w = 0.9
    momentum.step([w], [np.array([0.2])])  # v = -0.05 - 0.1 = -0.15, w = 0.75
    assert w[0] == pytest.approx(0.75)

    w, nesterov = np.array([1.0]), optimizers.get("nesterov", lr=0.5, momentum=0.5)
    nesterov.step([w], [np.array([0.2])])  # v = -0.1, w += 0.5 * -0.1 - 0.1 = -0.15
    assert w[0] == pytest.approx(0.85)

    # Adam's first step is lr * sign(g): m_hat = g, v_hat = g^2
    w = np.array([1.0, 1.0])
    optimizers.get("adam", lr=0.01).step([w], [np.array([3.0, -0.002])])
    np.testing.assert_allclose(w, [0.99, 1.01], rtol=1e-6)

    # Adagrad's first step is lr * sign(g) too: s = g^2
    w = np.array([1.0])
    optimizers.get("adagrad", lr=0.1).step([w], [np.array([-4.0])])
    assert w[0] == pytest.approx(1.1)

    # RMSprop's first step: s = (1 - rho) g^2 = 0.1 * 4 -> step lr * 2 / sqrt(0.4)
    w = np.array([0.0])
    optimizers.get("rmsprop", lr=0.01, rho=0.9).step([w], [np.array([2.0])])
    assert w[0] == pytest.approx(-0.01 * 2 / np.sqrt(0.4))

    # Adamax's first step: m = 0.1 g, u = |g|, corrected by 1 / 0.1 -> lr * sign(g)
    w = np.array([0.0])
    optimizers.get("adamax", lr=0.002).step([w], [np.array([-5.0])])
    assert w[0] == pytest.approx(0.002)

    # Adadelta's first step: E[g^2] = 0.05 g^2, dx = -sqrt(eps) / sqrt(0.05 g^2 + eps) g
    w = np.array([0.0])
    optimizers.get("adadelta", lr=1.0, rho=0.95, epsilon=1e-6).step([w], [np.array([1.0])])
    assert w[0] == pytest.approx(-np.sqrt(1e-6) / np.sqrt(0.05 + 1e-6))


# a convex quadratic f(w) = 1/2 w^T A w - b^T w, minimum at A^-1 b
MATRIX = np.array([[3.0, 0.5], [0.5, 1.0]])
TARGET = np.array([1.0, -2.0])
SETTINGS = {
    "sgd": (0.1, {}),
    "momentum": (0.05, {}),
    "nesterov": (0.05, {}),
    "rmsprop": (0.01, {}),
    "adagrad": (0.5, {}),
    "adadelta": (1.0, {"rho": 0.9, "epsilon": 1e-4}),
    "adam": (0.05, {}),
    "adamax": (0.05, {}),
}


def quadratic(w):
    return 0.5 * w @ MATRIX @ w - TARGET @ w


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_optimizer_minimises_a_convex_quadratic(name):
    lr, options = SETTINGS[name]
    optimizer = optimizers.get(name, lr=lr, **options)
    minimum = quadratic(np.linalg.solve(MATRIX, TARGET))
    w = np.array([2.0, 2.0])
    start_gap = quadratic(w) - minimum
    for _ in range(500):
        optimizer.step([w], [MATRIX @ w - TARGET])  # the gradient A w - b
    assert quadratic(w) - minimum < 0.01 * start_gap


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_optimizer_fits_a_linear_regression_through_compile(name):
    rng = np.random.default_rng(40)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3
    net = nncore.Network([nncore.Dense(1)], dtype="float64")
    lr, options = SETTINGS[name]
    net.compile(loss="mse", optimizer=name, lr=lr, **options)
    before = net.evaluate(x, y)["loss"]
    history = net.fit(x, y, epochs=40, batch_size=16, seed=0)
    assert history.history["loss"][-1] < 0.05 * before
    assert net.evaluate(x, y)["loss"] < 0.05 * before


def test_an_optimizer_instance_is_accepted():
    optimizer = nncore.Adam(lr=0.05)
    net = nncore.Network([nncore.Dense(1)], dtype="float64")
    net.compile(loss="mse", optimizer=optimizer)
    assert net.optimizer is optimizer
    x = np.random.default_rng(41).normal(size=(8, 2))
    net.fit(x, x.sum(axis=1, keepdims=True), epochs=2, batch_size=4, seed=0)
    assert optimizer.iterations == 4


def test_bad_optimizer_settings_are_refused():
    with pytest.raises(ValueError, match="unknown optimizer"):
        optimizers.get("lbfgs")
    with pytest.raises(ValueError, match="no option"):
        optimizers.get("adam", lr=0.1, momentum=0.9)
    for lr in (0, -1.0, float("nan"), "0.1"):
        with pytest.raises(ValueError, match="learning rate"):
            optimizers.get("sgd", lr=lr)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.get("momentum", lr=0.1, momentum=1.5)


def test_options_table_lists_the_defaults():
    for name, options in optimizers.OPTIONS.items():
        optimizer = optimizers.get(name, lr=0.1)
        for option, default in options.items():
            assert getattr(optimizer, option) == default
