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


def test_an_optimizer_instance_takes_no_lr_or_options_from_compile():
    """As in Keras: an optimizer object brings its own settings. lr or options beside it are
    refused, saying where they go, rather than silently ignored."""
    for settings, constructor in [({"lr": 0.5}, "Adam(lr=0.5)"),
                                  ({"beta_1": 0.5}, "Adam(beta_1=0.5)"),
                                  ({"lr": 0.5, "beta_1": 0.5}, "Adam(lr=0.5, beta_1=0.5)")]:
        optimizer = nncore.Adam()
        net = nncore.Network([nncore.Dense(1)], input_shape=(2,))
        with pytest.raises(ValueError, match="constructor") as caught:
            net.compile(loss="mse", optimizer=optimizer, **settings)
        assert constructor in str(caught.value)
        assert net.optimizer is None and net.loss is None and net.training_config is None
        assert optimizer.lr == nncore.optimizers.DEFAULT_LR["adam"] and optimizer.beta_1 == 0.9
    with pytest.raises(ValueError, match=r"SGD\(lr=0.1, momentum=0.9\)"):
        nncore.Network([nncore.Dense(1)]).compile(optimizer=nncore.SGD(), lr=0.1, momentum=0.9)
    # the object's own settings are what the network trains with, and records
    net = nncore.Network([nncore.Dense(1)], input_shape=(2,))
    net.compile(loss="mse", optimizer=nncore.Adam(lr=0.5, beta_1=0.5))
    assert net.optimizer.lr == net.training_config["lr"] == 0.5
    assert net.training_config["options"]["beta_1"] == 0.5


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


# ------------------------------------------------------------------ default learning rates


def test_default_lr_is_each_optimizers_own_textbook_rate():
    assert nncore.optimizers.DEFAULT_LR == {
        "sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "rmsprop": 0.001,
        "adagrad": 0.01, "adadelta": 1.0, "adam": 0.001, "adamax": 0.002,
    }
    for name, lr in optimizers.DEFAULT_LR.items():
        assert optimizers.get(name).lr == lr
        assert optimizers.get(name, lr=None).lr == lr
        assert optimizers.get(name, lr=0.5).lr == 0.5
        cls = type(optimizers.get(name))
        assert cls().lr == optimizers.DEFAULT_LR[cls.name]  # the class's own default agrees


def test_compile_without_lr_uses_the_optimizers_default():
    for name, lr in optimizers.DEFAULT_LR.items():
        net = nncore.Network([nncore.Dense(1)], input_shape=(2,)).compile(optimizer=name)
        assert net.optimizer.lr == lr
        assert net.training_config["lr"] == lr


# ------------------------------------------------------------------ state per weight array


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_array_added_later_gets_its_own_state_and_step_count(name):
    """Three steps on one array, then a second array joins: it must follow the textbook
    from its own first step (Adam's bias correction uses its own t), not be skipped."""
    options, textbook = CASES[name]
    optimizer = optimizers.get(name, lr=0.1, **options)
    early = START.copy()
    optimizer.step([early], [GRADIENTS[0].copy()])
    optimizer.step([early], [GRADIENTS[1].copy()])
    late = START.copy()
    optimizer.step([early, late], [GRADIENTS[2].copy(), GRADIENTS[0].copy()])
    optimizer.step([early, late], [GRADIENTS[0].copy(), GRADIENTS[1].copy()])
    optimizer.step([early, late], [GRADIENTS[0].copy(), GRADIENTS[2].copy()])
    np.testing.assert_allclose(late, textbook(0.1), rtol=1e-12, atol=1e-15)
    assert optimizer.iterations == 5
    assert optimizer.state_of(early).steps == 5 and optimizer.state_of(late).steps == 3


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_optimizer_object_can_step_two_sets_of_arrays(name):
    options, textbook = CASES[name]
    optimizer = optimizers.get(name, lr=0.1, **options)
    small, other = START.copy(), np.ones((4, 2))
    for g in GRADIENTS:
        optimizer.step([small], [g.copy()])
        optimizer.step([other], [np.full((4, 2), g[0])])
    np.testing.assert_allclose(small, textbook(0.1), rtol=1e-12, atol=1e-15)


def test_mismatched_steps_are_errors():
    optimizer = optimizers.get("adam")
    with pytest.raises(ValueError, match="2 weight arrays but 1 gradients"):
        optimizer.step([np.zeros(3), np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="does not fit"):
        optimizer.step([np.zeros(3)], [np.zeros(4)])
    assert optimizer.iterations == 0
    w = np.zeros(3)
    optimizer.step([w], [np.ones(3)])
    w.shape = (3, 1)  # the same array, reshaped in place: its state no longer fits
    with pytest.raises(ValueError, match="no longer fits"):
        optimizer.step([w], [np.ones((3, 1))])


def test_the_state_goes_with_its_array():
    import gc

    optimizer = optimizers.get("adam")
    w = np.zeros(3)
    optimizer.step([w], [np.ones(3)])
    assert len(optimizer._states) == 1
    del w
    gc.collect()
    assert optimizer._states == {}


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_and_load_state_continue_exactly(name):
    options, textbook = CASES[name]
    first = optimizers.get(name, lr=0.1, **options)
    w = START.copy()
    first.step([w], [GRADIENTS[0].copy()])
    first.step([w], [GRADIENTS[1].copy()])
    state = first.state_dict([w])
    assert state["iterations"] == 2 and state["steps"] == [2]
    assert state["slot_names"] == list(first.slot_names)
    assert len(state["slots"][0]) == len(first.slot_names)

    second = optimizers.get(name, lr=0.1, **options)
    copy = w.copy()
    second.load_state([copy], state)
    second.step([copy], [GRADIENTS[2].copy()])
    np.testing.assert_allclose(copy, textbook(0.1), rtol=1e-12, atol=1e-15)
    assert second.iterations == 3
    # loaded slots are copies: stepping the second optimizer left the first one's alone
    first.step([w], [GRADIENTS[2].copy()])
    np.testing.assert_array_equal(w, copy)


def test_load_state_refuses_what_does_not_fit():
    adam, w = optimizers.get("adam"), np.zeros(3)
    adam.step([w], [np.ones(3)])
    state = adam.state_dict([w])
    fresh = optimizers.get("adam")
    bad = [
        (optimizers.get("rmsprop"), state, "slots"),
        (fresh, dict(state, steps=[1, 1]), "covers"),
        (fresh, dict(state, slots=[[np.zeros(4), np.zeros(4)]]), "shape"),
        (fresh, dict(state, slots=[[np.zeros(3)]]), "slot arrays"),
        (fresh, dict(state, steps=[0]), "no steps"),
        (fresh, dict(state, steps=[-1]), "whole number"),
        (fresh, dict(state, iterations=True), "whole number"),
    ]
    for optimizer, wrong, words in bad:
        with pytest.raises(ValueError, match=words):
            optimizer.load_state([np.zeros(3)], wrong)
    assert fresh._states == {} and fresh.iterations == 0  # nothing changed


def test_an_unstepped_array_has_no_slots_in_the_state():
    optimizer, a, b = optimizers.get("momentum"), np.zeros(2), np.zeros(3)
    optimizer.step([a], [np.ones(2)])
    state = optimizer.state_dict([a, b])
    assert state["steps"] == [1, 0] and len(state["slots"][0]) == 1 and state["slots"][1] == []
    assert optimizers.get("sgd").slot_names == ()  # plain SGD keeps nothing
