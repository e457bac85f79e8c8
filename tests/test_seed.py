"""The articles' own spelling (nncore.seed): their code runs unchanged and learns."""
from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore.seed import (
    ActivationLayer,
    ConvLayer,
    FCLayer,
    Network,
    mse,
    mse_prime,
    relu,
    relu_prime,
    sigmoid,
    sigmoid_prime,
    tanh,
    tanh_prime,
)


def test_the_articles_xor_example(capsys):
    # training data, shaped as in the article: (samples, 1, features)
    x_train = np.array([[[0, 0]], [[0, 1]], [[1, 0]], [[1, 1]]])
    y_train = np.array([[[0]], [[1]], [[1]], [[0]]])

    net = Network()
    net.add(FCLayer(2, 3))
    net.add(ActivationLayer(tanh, tanh_prime))
    net.add(FCLayer(3, 1))
    net.add(ActivationLayer(tanh, tanh_prime))

    net.use(mse, mse_prime)
    net.fit(x_train, y_train, epochs=1000, learning_rate=0.1)

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1000
    assert lines[0].startswith("epoch 1/1000")
    final_error = float(lines[-1].split("error=")[1])
    assert final_error < 0.001  # the article reports 0.000242

    out = net.predict(x_train)
    assert isinstance(out, list) and len(out) == 4
    assert all(isinstance(row, np.ndarray) and row.shape == (1, 1) for row in out)
    predicted = np.array([row[0, 0] for row in out])
    np.testing.assert_array_equal(predicted > 0.5, [False, True, True, False])


def test_the_articles_activation_functions():
    x = np.array([[-2.0, 0.5, 3.0]])
    np.testing.assert_allclose(tanh_prime(x), 1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(sigmoid_prime(x), sigmoid(x) * (1 - sigmoid(x)))
    np.testing.assert_array_equal(relu(x), [[0, 0.5, 3.0]])
    np.testing.assert_array_equal(relu_prime(x), [[0, 1, 1]])
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]])
    assert mse(y_true, y_pred) == 0.25
    np.testing.assert_allclose(mse_prime(y_true, y_pred), [[-0.5, 0.5]])
    # the known functions become nncore's own layers
    assert isinstance(ActivationLayer(tanh, tanh_prime), nncore.Tanh)
    assert isinstance(ActivationLayer(relu, relu_prime), nncore.ReLU)


def test_a_custom_activation_and_loss_pair_runs_as_given(capsys):
    """Functions the adapters do not know are used exactly as the article's classes would."""

    def square(x):
        return x * x

    def square_prime(x):
        return 2 * x

    def half_sum_squares(y_true, y_pred):
        return 0.5 * np.sum((y_pred - y_true) ** 2) / len(y_true)

    def half_sum_squares_prime(y_true, y_pred):
        return (y_pred - y_true) / len(y_true)

    net = Network()
    net.add(FCLayer(1, 1))
    net.add(ActivationLayer(square, square_prime))
    net.use(half_sum_squares, half_sum_squares_prime)
    net.network.build((1,))
    weights, bias = net.network.parameters()
    weights[...], bias[...] = 1.0, 0.0
    # one step on x = 1, y = 4: z = w x + b = 1, out = z^2 = 1, dE/dout = out - y = -3,
    # dE/dz = -3 * 2z = -6, so dE/dw = -6 x = -6 and dE/db = -6; lr 0.01 adds 0.06 to each
    net.fit(np.array([[[1.0]]]), np.array([[[4.0]]]), epochs=1, learning_rate=0.01)
    assert "error=4.500000" in capsys.readouterr().out  # 0.5 (1 - 4)^2
    assert weights[0, 0] == pytest.approx(1.06) and bias[0] == pytest.approx(0.06)
    out = net.predict(np.array([[[2.0]]]))
    np.testing.assert_allclose(out[0], [[(1.06 * 2 + 0.06) ** 2]])


def test_the_articles_conv_layer_learns(capsys):
    """ConvLayer(input_shape, kernel_shape, depth): stride 1, valid, channels-last."""
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(8, 5, 5, 2))
    targets = images[:, 1:4, 1:4, :].sum(axis=-1, keepdims=True).reshape(8, 1, 9)
    net = Network()
    net.add(ConvLayer((5, 5, 2), (3, 3), 1))
    net.add(nncore.Flatten())
    net.add(FCLayer(9, 9))
    net.use(mse, mse_prime)
    outputs = net.predict(images)
    assert len(outputs) == 8 and outputs[0].shape == (1, 9)
    start = np.mean((np.array(outputs)[:, 0] - targets[:, 0]) ** 2)
    net.fit(images, targets, epochs=30, learning_rate=0.05)
    capsys.readouterr()
    layer = net.network.layers[0]
    assert layer.params[0].shape == (3, 3, 2, 1)
    assert layer.output_shape == (3, 3, 1)
    end = np.mean((np.array(net.predict(images))[:, 0] - targets[:, 0]) ** 2)
    assert end < 0.5 * start
