"""Analytic gradients against central finite differences, in float64, on batches.

For a single layer the scalar under test is E = sum(Y * R) for a fixed random R, so that
dE/dY = R and backward(R) must return dE/dX while filling layer.grads with dE/dparams.
For a whole network the scalar is the loss itself, from net.loss_and_grads.
"""
from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore.layers import ACTIVATIONS

EPSILON = 1e-6
TOLERANCE = 1e-6


def numerical_gradient(function, array, epsilon=EPSILON):
    """dE/darray by central differences (E(a + e) - E(a - e)) / 2e, one element at a time.
    `array` is changed in place and put back, so it must be the live (contiguous) array."""
    assert array.flags["C_CONTIGUOUS"]
    flat = array.reshape(-1)
    gradient = np.zeros(array.size)
    for i in range(array.size):
        original = flat[i]
        flat[i] = original + epsilon
        plus = function()
        flat[i] = original - epsilon
        minus = function()
        flat[i] = original
        gradient[i] = (plus - minus) / (2 * epsilon)
    return gradient.reshape(array.shape)


def relative_error(analytic, numeric):
    """||a - n|| / (||a|| + ||n||): scale-free, and not fooled by elements close to 0."""
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric)
    assert analytic.shape == numeric.shape
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    assert scale > 1e-8, "a gradient check on an all-zero gradient proves nothing"
    return np.linalg.norm(analytic - numeric) / scale


def away_from_zero(values, margin=0.1):
    """Moves every value at least `margin` away from 0, the kink of relu and leaky_relu."""
    return np.sign(values) * (margin + np.abs(values))


def distinct_values(rng, shape):
    """A random arrangement of well separated values (gap 0.1): no max-pool ties, and no
    element within a finite-difference step of its neighbour's value."""
    values = rng.permutation(np.prod(shape)).reshape(shape) * 0.1
    return values - values.mean()


def build(layer, input_shape, rng):
    """Builds a layer in float64 and randomises every weight, biases included (they start
    at 0, which would hide a wrong bias gradient in a layer with an activation)."""
    layer.build(input_shape, np.random.default_rng(1), np.float64)
    for param in layer.params:
        param[...] = rng.normal(scale=0.5, size=param.shape)
    return layer


def check_layer(layer, x, rng, training=False, before_forward=lambda: None):
    """Compares backward() with finite differences of E = sum(forward(x) * R)."""
    build(layer, x.shape[1:], rng)
    if getattr(layer, "activation", None) in ("relu", "leaky_relu"):
        # every pre-activation score stays far from the kink at 0
        assert np.abs(layer.forward(x, activate=False)).min() > 1e-3
    projection = rng.normal(size=(len(x),) + layer.output_shape)

    def energy():
        before_forward()
        return float((layer.forward(x, training) * projection).sum())

    energy()
    input_gradient = layer.backward(projection.copy())
    parameter_gradients = [g.copy() for g in layer.grads]
    assert input_gradient.shape == x.shape
    assert relative_error(input_gradient, numerical_gradient(energy, x)) < TOLERANCE
    assert len(parameter_gradients) == len(layer.params)
    for param, gradient in zip(layer.params, parameter_gradients):
        assert gradient.shape == param.shape
        assert relative_error(gradient, numerical_gradient(energy, param)) < TOLERANCE
    return input_gradient


# ------------------------------------------------------------------ single layers


@pytest.mark.parametrize("activation", (None,) + ACTIVATIONS)
def test_dense_gradients(activation):
    rng = np.random.default_rng(10)
    layer = nncore.Dense(4, activation=activation)
    x = rng.normal(size=(5, 3))
    check_layer(layer, x, rng)


def test_dense_with_declared_input_size_gradients():
    rng = np.random.default_rng(11)
    check_layer(nncore.Dense(3, 2), rng.normal(size=(4, 3)), rng)


@pytest.mark.parametrize(
    "kernel_size, stride, padding, height, width",
    [
        (3, 1, "valid", 5, 6),
        (3, 1, "same", 5, 6),
        (3, 2, "valid", 6, 7),  # (6 - 3) is not a multiple of 2: the last row is never read
        (3, 2, "same", 5, 6),
        ((2, 3), 1, "same", 4, 5),  # even kernel: uneven zero padding
        ((2, 3), 2, "valid", 5, 5),
    ],
)
def test_conv2d_gradients(kernel_size, stride, padding, height, width):
    rng = np.random.default_rng(12)
    layer = nncore.Conv2D(2, kernel_size=kernel_size, stride=stride, padding=padding)
    x = rng.normal(size=(2, height, width, 3))  # a batch of 2 three-channel images
    check_layer(layer, x, rng)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_conv2d_with_fused_activation_gradients(activation):
    rng = np.random.default_rng(13)
    layer = nncore.Conv2D(3, kernel_size=2, padding="same", activation=activation)
    x = rng.normal(size=(2, 4, 4, 2))
    check_layer(layer, x, rng)


def test_conv2d_matches_a_direct_loop():
    """The im2col product against the definition
    Y[n, i, j, f] = b[f] + sum_{a, b, c} X[n, i*s + a, j*s + b, c] K[a, b, c, f]."""
    rng = np.random.default_rng(14)
    layer = build(nncore.Conv2D(2, kernel_size=(2, 3), stride=2), (5, 7, 3), rng)
    x = rng.normal(size=(2, 5, 7, 3))
    kernel, bias = layer.params
    y = layer.forward(x)
    assert y.shape == (2, 2, 3, 2)
    expected = np.zeros_like(y)
    for i in range(2):
        for j in range(3):
            patch = x[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 3, :]
            expected[:, i, j, :] = np.einsum("nabc,abcf->nf", patch, kernel) + bias
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pool_size, height, width", [(2, 4, 6), (2, 5, 7), (3, 7, 8)])
def test_maxpool2d_gradients(pool_size, height, width):
    rng = np.random.default_rng(15)
    x = distinct_values(rng, (2, height, width, 2))
    gradient = check_layer(nncore.MaxPool2D(pool_size), x, rng)
    # rows and columns left over by an odd size take no part and get no gradient
    assert not gradient[:, (height // pool_size) * pool_size :, :, :].any()
    assert not gradient[:, :, (width // pool_size) * pool_size :, :].any()
    # exactly one element per window receives the gradient
    assert np.count_nonzero(gradient) == 2 * (height // pool_size) * (width // pool_size) * 2


def test_maxpool2d_matches_a_direct_loop():
    """Y[n, i, j, c] = max over the window X[n, i*p : i*p + p, j*p : j*p + p, c]."""
    rng = np.random.default_rng(16)
    x = rng.normal(size=(2, 7, 5, 3))
    y = nncore.MaxPool2D(2).forward(x)
    assert y.shape == (2, 3, 2, 3)
    for i in range(3):
        for j in range(2):
            window = x[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, :]
            np.testing.assert_array_equal(y[:, i, j, :], window.max(axis=(1, 2)))


def test_flatten_gradients():
    rng = np.random.default_rng(16)
    check_layer(nncore.Flatten(), rng.normal(size=(3, 2, 4, 2)), rng)


def test_dropout_gradients_with_a_fixed_mask():
    rng = np.random.default_rng(17)
    layer = nncore.Dropout(0.4)

    def same_mask():
        layer.rng = np.random.default_rng(5)  # identical mask for every evaluation

    check_layer(layer, rng.normal(size=(6, 5)), rng, training=True, before_forward=same_mask)


def test_dropout_backward_multiplies_by_the_stored_mask():
    layer = nncore.Dropout(0.25)
    layer.build((200,), None, np.float64)
    x = np.ones((4, 200))
    y = layer.forward(x, training=True)
    mask = layer.mask
    # inverted dropout: survivors are scaled by 1 / (1 - rate), the rest are 0
    assert set(np.unique(mask)) == {0.0, 1.0 / 0.75}
    assert 0.15 < (mask == 0).mean() < 0.35
    np.testing.assert_array_equal(y, x * mask)
    grad = np.random.default_rng(0).normal(size=x.shape)
    np.testing.assert_array_equal(layer.backward(grad), grad * mask)
    # prediction: the identity, and the gradient passes unchanged
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(grad), grad)


@pytest.mark.parametrize(
    "layer",
    [nncore.ReLU(), nncore.LeakyReLU(alpha=0.1), nncore.Sigmoid(), nncore.Tanh(), nncore.Softmax(),
     nncore.Activation("tanh"), nncore.Activation("leaky_relu", alpha=0.2)],
    ids=repr,
)
def test_activation_gradients(layer):
    rng = np.random.default_rng(18)
    x = away_from_zero(rng.normal(size=(4, 6)))
    check_layer(layer, x, rng)


def test_activation_gradients_on_image_batches():
    rng = np.random.default_rng(19)
    for layer in (nncore.ReLU(), nncore.Tanh(), nncore.Softmax()):
        check_layer(layer, away_from_zero(rng.normal(size=(2, 3, 3, 4))), rng)


def test_activation_values():
    x = np.array([[-2.0, -0.5, 0.5, 3.0]])
    np.testing.assert_allclose(nncore.ReLU().forward(x), [[0, 0, 0.5, 3.0]])
    np.testing.assert_allclose(nncore.LeakyReLU(0.1).forward(x), [[-0.2, -0.05, 0.5, 3.0]])
    np.testing.assert_allclose(nncore.Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(nncore.Tanh().forward(x), np.tanh(x))
    softmax = nncore.Softmax().forward(x)
    np.testing.assert_allclose(softmax, np.exp(x) / np.exp(x).sum(), rtol=1e-12)


# ------------------------------------------------------------------ whole networks


def network(spec, loss, seed=3):
    net = nncore.Network.from_spec(spec, dtype="float64", seed=seed)
    rng = np.random.default_rng(seed)
    for param in net.parameters():
        param[...] = rng.normal(scale=0.5, size=param.shape)
    net.compile(loss=loss, optimizer="sgd", lr=0.1)
    return net


def layer_inputs(net, x):
    """The input each layer sees, for checking that no relu / max-pool sits on a kink."""
    inputs = []
    for layer in net.layers:
        inputs.append(x)
        x = layer.forward(x)
    return inputs


def check_network(net, x, y):
    before = [p.copy() for p in net.parameters()]
    loss, gradients = net.loss_and_grads(x, y)
    for param, saved in zip(net.parameters(), before):
        np.testing.assert_array_equal(param, saved)  # no update
    assert np.isfinite(loss)
    assert len(gradients) == len(net.parameters())

    def energy():
        return net.loss_and_grads(x, y)[0]

    for param, gradient in zip(net.parameters(), gradients):
        assert relative_error(gradient, numerical_gradient(energy, param)) < TOLERANCE


MLP = {"input_shape": [3], "layers": [
    {"type": "dense", "units": 5, "activation": "tanh"},
    {"type": "dense", "units": 4},
    {"type": "leaky_relu", "alpha": 0.1},
    {"type": "dense", "units": 3},
]}


def with_tail(spec, *layers):
    return {"input_shape": spec["input_shape"], "layers": spec["layers"] + list(layers)}


def test_network_gradients_mse():
    rng = np.random.default_rng(20)
    net = network(with_tail(MLP, {"type": "sigmoid"}), "mse")
    x = rng.normal(size=(6, 3))
    assert np.abs(layer_inputs(net, x)[2]).min() > 1e-4  # leaky_relu away from its kink
    check_network(net, x, rng.uniform(size=(6, 3)))


@pytest.mark.parametrize(
    "tail",
    [[{"type": "softmax"}], [], "fused"],
    ids=["trailing-softmax", "logits", "dense-softmax-activation"],
)
@pytest.mark.parametrize("labels", ["one-hot", "integer"])
def test_network_gradients_cross_entropy(tail, labels):
    rng = np.random.default_rng(21)
    if tail == "fused":
        spec = {"input_shape": [3], "layers": MLP["layers"][:-1] + [
            {"type": "dense", "units": 3, "activation": "softmax"}]}
    else:
        spec = with_tail(MLP, *tail)
    net = network(spec, "cross_entropy")
    x = rng.normal(size=(7, 3))
    classes = rng.integers(0, 3, size=7)
    y = classes if labels == "integer" else nncore.one_hot(classes, 3)
    check_network(net, x, y)


@pytest.mark.parametrize("tail", [[{"type": "sigmoid"}], [], "fused"])
def test_network_gradients_binary_cross_entropy(tail):
    rng = np.random.default_rng(22)
    if tail == "fused":
        spec = {"input_shape": [3], "layers": MLP["layers"][:-1] + [
            {"type": "dense", "units": 2, "activation": "sigmoid"}]}
    else:
        spec = {"input_shape": [3], "layers": MLP["layers"][:-1] + [
            {"type": "dense", "units": 2}] + tail}
    net = network(spec, "binary_cross_entropy")
    x = rng.normal(size=(6, 3))
    check_network(net, x, rng.integers(0, 2, size=(6, 2)).astype(np.float64))


def test_network_gradients_convolutional():
    """conv (same, stride 2) -> relu -> conv (valid) -> maxpool (odd size) -> flatten ->
    dropout (off in loss_and_grads) -> dense -> softmax, with cross_entropy."""
    spec = {"input_shape": [7, 8, 2], "layers": [
        {"type": "conv2d", "filters": 3, "kernel_size": 3, "stride": 2, "padding": "same"},
        {"type": "relu"},
        {"type": "conv2d", "filters": 2, "kernel_size": 2, "activation": "tanh"},
        {"type": "maxpool2d", "pool_size": 2},
        {"type": "flatten"},
        {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 3},
        {"type": "softmax"},
    ]}
    rng = np.random.default_rng(23)
    net = network(spec, "cross_entropy")
    x = rng.normal(size=(3, 7, 8, 2))
    inputs = layer_inputs(net, x)
    assert np.abs(inputs[1]).min() > 1e-4  # relu input away from 0
    windows = np.sort(pool_windows(inputs[3], net.layers[3].pool_size), axis=-1)
    assert (windows[..., -1] - windows[..., -2]).min() > 1e-4  # no near-ties in any window
    check_network(net, x, rng.integers(0, 3, size=3))


def test_network_gradients_take_one_channel_images():
    spec = {"input_shape": [5, 5, 1], "layers": [
        {"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "sigmoid"},
        {"type": "flatten"},
        {"type": "dense", "units": 1},
    ]}
    rng = np.random.default_rng(24)
    net = network(spec, "mse")
    check_network(net, rng.normal(size=(4, 5, 5)), rng.normal(size=(4, 1)))


def pool_windows(x, p):
    """(N, H, W, C) -> (N, OH, OW, C, p*p): each window's values on the last axis, row-major."""
    n, height, width, channels = x.shape
    out_h, out_w = height // p, width // p
    cropped = x[:, : out_h * p, : out_w * p, :].reshape(n, out_h, p, out_w, p, channels)
    return cropped.transpose(0, 1, 3, 5, 2, 4).reshape(n, out_h, out_w, channels, p * p)


@pytest.mark.parametrize("pool_size", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maxpool_matches_the_window_argmax_reference(dtype, pool_size):
    # ties on purpose (rounded values, ReLU zeros): the first maximum of a window must win
    rng = np.random.default_rng(3)
    p = pool_size
    x = np.maximum(np.round(rng.standard_normal((3, 7, 9, 4)), 1), 0).astype(dtype)
    out_h, out_w = 7 // p, 9 // p
    grad = rng.standard_normal((3, out_h, out_w, 4)).astype(dtype)
    pool = nncore.MaxPool2D(p)
    windows = pool_windows(x, p)  # (N, OH, OW, C, p*p)
    first = windows.argmax(axis=-1)
    expected = np.take_along_axis(windows, first[..., None], axis=-1)[..., 0]
    expected_grad = np.zeros_like(windows)
    np.put_along_axis(expected_grad, first[..., None], grad[..., None], axis=-1)
    expected_grad = expected_grad.reshape(3, out_h, out_w, 4, p, p).transpose(0, 1, 4, 2, 5, 3)
    y = pool.forward(x, training=True)
    x_grad = pool.backward(grad)
    assert y.dtype == dtype and np.array_equal(y, expected)
    assert x_grad.dtype == dtype and x_grad.shape == x.shape
    rows, columns = out_h * p, out_w * p
    assert np.array_equal(x_grad[:, :rows, :columns], expected_grad.reshape(3, rows, columns, 4))
    assert not x_grad[:, rows:].any() and not x_grad[:, :, columns:].any()  # cropped


def test_maxpool_gradient_follows_a_new_batch_shape():
    # the window corners are kept between batches of one shape; a smaller batch is new
    rng = np.random.default_rng(4)
    pool = nncore.MaxPool2D(2)
    for n in (4, 4, 1, 3):
        x = rng.permutation(n * 6 * 6 * 2).reshape(n, 6, 6, 2).astype(np.float64)
        grad = rng.standard_normal((n, 3, 3, 2))
        pool.forward(x, training=True)
        x_grad = pool.backward(grad)
        # distinct values: the maximum of each window gets its gradient, nothing else
        is_max = x == np.repeat(np.repeat(pool_windows(x, 2).max(axis=-1), 2, 1), 2, 2)
        expected = np.where(is_max, np.repeat(np.repeat(grad, 2, 1), 2, 2), 0)
        np.testing.assert_array_equal(x_grad, expected)


def test_maxpool_passes_a_nan_on():
    x = np.zeros((1, 2, 2, 1))
    x[0, 1, 0, 0] = np.nan
    pool = nncore.MaxPool2D(2)
    assert np.isnan(pool.forward(x, training=True)).all()
    x_grad = pool.backward(np.ones((1, 1, 1, 1)))
    assert x_grad.shape == x.shape and x_grad.sum() == 1  # the gradient stays in its window
