"""Losses: values against their formulas, gradients against finite differences, and the
numerics that must never blow up (logits of +-1e4, a trailing Softmax not applied twice)."""
from __future__ import annotations

import numpy as np
import pytest
from test_gradients import numerical_gradient, relative_error

import nncore
from nncore import losses


def log_softmax(z):
    """Reference log-softmax over the last axis, computed in extended precision."""
    z = np.asarray(z, dtype=np.longdouble)
    shifted = z - z.max(axis=-1, keepdims=True)
    return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)), np.float64)


def test_losses_are_listed():
    assert set(nncore.LOSSES) == {"mse", "cross_entropy", "binary_cross_entropy"}
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get("hinge")


def test_mse_value_and_gradient():
    outputs = np.array([[1.0, 2.0], [3.0, 5.0]])
    targets = np.array([[0.0, 2.0], [1.0, 1.0]])
    loss, grad = losses.get("mse")(outputs, targets)
    # mean over all 4 elements of (1, 0, 4, 16)
    assert loss == pytest.approx(21 / 4)
    np.testing.assert_allclose(grad, 2 * (outputs - targets) / 4)


def test_cross_entropy_value_with_one_hot_and_integer_labels():
    logits = np.array([[2.0, 1.0, -1.0], [0.5, 0.5, 3.0]])
    labels = np.array([0, 2])
    expected = -np.mean(log_softmax(logits)[np.arange(2), labels])
    loss_integer, grad_integer = losses.get("cross_entropy")(logits, labels)
    loss_one_hot, grad_one_hot = losses.get("cross_entropy")(logits, nncore.one_hot(labels, 3))
    assert loss_integer == pytest.approx(expected, rel=1e-12)
    assert loss_one_hot == pytest.approx(expected, rel=1e-12)
    # dE/dz = (softmax(z) - y) / N
    expected_grad = (np.exp(log_softmax(logits)) - np.eye(3)[labels]) / 2
    np.testing.assert_allclose(grad_integer, expected_grad, rtol=1e-12)
    np.testing.assert_allclose(grad_one_hot, expected_grad, rtol=1e-12)


def test_binary_cross_entropy_value():
    logits = np.array([[2.0, -1.0], [0.0, 4.0]])
    targets = np.array([[1.0, 0.0], [1.0, 0.25]])
    p = 1 / (1 + np.exp(-logits))
    expected = -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    loss, grad = losses.get("binary_cross_entropy")(logits, targets)
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, (p - targets) / 4, rtol=1e-12)


@pytest.mark.parametrize(
    "name, targets",
    [
        ("mse", np.array([[0.5, -1.0, 2.0], [0.0, 1.0, 0.3], [1.0, 1.0, -2.0], [0.2, 0.1, 0.0]])),
        ("cross_entropy", np.eye(3)[[0, 2, 1, 2]]),
        ("cross_entropy", np.array([0, 2, 1, 2])),
        ("binary_cross_entropy", np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0.5, 0.2, 0.9]])),
    ],
    ids=["mse", "cross_entropy-one-hot", "cross_entropy-integer", "binary_cross_entropy"],
)
def test_loss_gradients_match_finite_differences(name, targets):
    outputs = np.random.default_rng(30).normal(scale=2.0, size=(4, 3))
    loss = losses.get(name)
    analytic = loss(outputs, targets)[1]
    numeric = numerical_gradient(lambda: loss(outputs, targets)[0], outputs)
    assert relative_error(analytic, numeric) < 1e-6


# ------------------------------------------------------------------ stable numerics


def test_cross_entropy_is_finite_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    loss, grad = losses.get("cross_entropy")(logits, np.array([1, 2]))
    # sample 0: logsumexp = 1e4, the true class scores -1e4 -> 2e4; sample 1: log 2
    assert loss == pytest.approx((2e4 + np.log(2)) / 2)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, np.array([[1, -1, 0], [0, 0.5, -0.5]]) / 2, atol=1e-12)
    for dtype in (np.float32, np.float64):
        loss, grad = losses.get("cross_entropy")(logits.astype(dtype), np.eye(3)[[0, 1]])
        assert np.isfinite(loss) and np.isfinite(grad).all()


def test_binary_cross_entropy_is_finite_for_huge_logits():
    logits = np.array([[1e4, -1e4], [1e4, -1e4]])
    targets = np.array([[1.0, 0.0], [0.0, 1.0]])  # first row right, second row wrong
    loss, grad = losses.get("binary_cross_entropy")(logits, targets)
    assert loss == pytest.approx(2e4 / 4)
    np.testing.assert_allclose(grad, np.array([[0, 0], [1, -1]]) / 4, atol=1e-12)
    for dtype in (np.float32, np.float64):
        loss, grad = losses.get("binary_cross_entropy")(logits.astype(dtype), targets)
        assert np.isfinite(loss) and np.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_never_overflows(dtype):
    layer = nncore.Sigmoid()
    with np.errstate(all="raise"):  # an overflow inside would raise FloatingPointError
        y = layer.forward(np.array([[-1e4, 1e4, -800.0, 800.0]], dtype=dtype))
        grad = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(y, [[0.0, 1.0, 0.0, 1.0]])
    assert np.isfinite(grad).all()


def huge_logit_network(loss, tail):
    """A one-layer net whose weights make logits of about +-1e4."""
    net = nncore.Network.from_spec(
        {"input_shape": [2], "layers": [{"type": "dense", "units": 3}] + tail}, dtype="float64"
    )
    weights, bias = net.parameters()
    weights[...] = [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]]
    bias[...] = 0
    net.compile(loss=loss)
    return net


@pytest.mark.parametrize("loss, tail", [("cross_entropy", [{"type": "softmax"}]),
                                        ("binary_cross_entropy", [{"type": "sigmoid"}])])
def test_huge_logits_through_a_network(loss, tail):
    net = huge_logit_network(loss, tail)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([1, 0]) if loss == "cross_entropy" else np.array([[0, 1, 1], [1, 0, 0.0]])
    value, gradients = net.loss_and_grads(x, y)
    assert np.isfinite(value) and value > 1e3  # badly wrong, but a number
    assert all(np.isfinite(g).all() for g in gradients)
    predictions = net.predict(x)
    assert np.isfinite(predictions).all()
    assert predictions.min() >= 0 and predictions.max() <= 1


# ------------------------------------------------------------------ fused activations


def softmax_network(spec_tail):
    net = nncore.Network.from_spec(
        {"input_shape": [4], "layers": [{"type": "dense", "units": 6, "activation": "tanh"}]
         + spec_tail},
        dtype="float64",
        seed=5,
    )
    net.compile(loss="cross_entropy")
    return net


@pytest.mark.parametrize(
    "spec_tail",
    [
        [{"type": "dense", "units": 3}, {"type": "softmax"}],
        [{"type": "dense", "units": 3, "activation": "softmax"}],
    ],
    ids=["softmax-layer", "softmax-activation"],
)
def test_softmax_is_not_applied_twice(spec_tail):
    net = softmax_network(spec_tail)
    rng = np.random.default_rng(31)
    x = rng.normal(size=(5, 4))
    labels = rng.integers(0, 3, size=5)
    hidden, last = net.layers[0], net.layers[1]
    scores = last.forward(hidden.forward(x), activate=False)  # the pre-softmax outputs
    expected = -np.mean(log_softmax(scores)[np.arange(5), labels])
    assert net.evaluate(x, labels)["loss"] == pytest.approx(expected, rel=1e-10)
    assert net.loss_and_grads(x, labels)[0] == pytest.approx(expected, rel=1e-10)
    # softmax applied twice would give this, which is different
    twice = -np.mean(log_softmax(np.exp(log_softmax(scores)))[np.arange(5), labels])
    assert abs(twice - expected) > 1e-3
    # predict still applies the softmax once: probabilities summing to 1
    probabilities = net.predict(x)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(probabilities, np.exp(log_softmax(scores)), rtol=1e-10)


def test_sigmoid_is_not_applied_twice_with_binary_cross_entropy():
    net = nncore.Network.from_spec(
        {"input_shape": [3], "layers": [{"type": "dense", "units": 2}, {"type": "sigmoid"}]},
        dtype="float64",
    )
    net.compile(loss="binary_cross_entropy")
    rng = np.random.default_rng(32)
    x, y = rng.normal(size=(4, 3)), rng.integers(0, 2, size=(4, 2)).astype(float)
    scores = net.layers[0].forward(x)
    p = 1 / (1 + np.exp(-scores))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert net.evaluate(x, y)["loss"] == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(net.predict(x), p, rtol=1e-12)


def test_integer_and_one_hot_labels_give_the_same_loss_and_gradients():
    net = softmax_network([{"type": "dense", "units": 3}, {"type": "softmax"}])
    rng = np.random.default_rng(33)
    x, labels = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    loss_integer, grads_integer = net.loss_and_grads(x, labels)
    loss_one_hot, grads_one_hot = net.loss_and_grads(x, nncore.one_hot(labels, 3))
    assert loss_integer == pytest.approx(loss_one_hot, rel=1e-12)
    for a, b in zip(grads_integer, grads_one_hot):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert net.evaluate(x, labels) == pytest.approx(net.evaluate(x, nncore.one_hot(labels, 3)))


def test_one_hot():
    encoded = nncore.one_hot([0, 2, 1], 3)
    assert encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    with pytest.raises(ValueError):
        nncore.one_hot([0, 3], 3)
    with pytest.raises(ValueError):
        nncore.one_hot([0.5, 1.0], 3)
