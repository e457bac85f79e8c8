"""The articles' own spelling, as thin adapters over nncore, so their code runs unchanged.

    from nncore.seed import Network, FCLayer, ActivationLayer, tanh, tanh_prime, mse, mse_prime
    net = Network()
    net.add(FCLayer(2, 3)); net.add(ActivationLayer(tanh, tanh_prime))
    net.add(FCLayer(3, 1)); net.add(ActivationLayer(tanh, tanh_prime))
    net.use(mse, mse_prime)
    net.fit(x_train, y_train, epochs=1000, learning_rate=0.1)   # x_train: (samples, 1, 2)

As in the articles, training goes one sample at a time (batch size 1) in float64.
"""
from __future__ import annotations

import numpy as np

from . import layers as _layers
from .losses import FunctionLoss, MeanSquaredError
from .network import Network as _Network
from .optimizers import SGD


def tanh(x):
    return np.tanh(x)


def tanh_prime(x):
    return 1 - np.tanh(x) ** 2


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid_prime(x):
    s = sigmoid(x)
    return s * (1 - s)


def relu(x):
    return np.maximum(x, 0)


def relu_prime(x):
    return (x > 0).astype(np.asarray(x).dtype)


def mse(y_true, y_pred):
    return np.mean(np.power(y_true - y_pred, 2))


def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / y_true.size


def FCLayer(input_size, output_size):
    """The articles' fully connected layer: Dense(input_size, output_size)."""
    return _layers.Dense(input_size, output_size)


class FunctionActivation(_layers.ActivationLayer):
    """An activation given as f and f' (the articles' ActivationLayer(tanh, tanh_prime))."""

    type = "function"

    def __init__(self, activation, activation_prime):
        super().__init__()
        self.activation, self.activation_prime = activation, activation_prime

    def function(self, x):
        return self.activation(x)

    def gradient(self, grad):
        return grad * self.activation_prime(self.x)


_KNOWN = {tanh: _layers.Tanh, sigmoid: _layers.Sigmoid, relu: _layers.ReLU}


def ActivationLayer(activation, activation_prime):
    """Our own layer for the articles' tanh/sigmoid/relu; any other pair runs as given."""
    if activation in _KNOWN:
        return _KNOWN[activation]()
    return FunctionActivation(activation, activation_prime)


def ConvLayer(input_shape, kernel_shape, layer_depth):
    """The articles' convolution: stride 1, valid, `layer_depth` filters of kernel_shape."""
    return _layers.Conv2D(layer_depth, kernel_size=tuple(kernel_shape[:2]))


def _samples(x):
    """The articles feed (samples, 1, features); nncore wants (samples, features)."""
    x = np.asarray(x, dtype=np.float64)
    return x[:, 0] if x.ndim == 3 and x.shape[1] == 1 else x


class Network:
    def __init__(self):
        self.network = _Network(dtype="float64")
        self.loss = MeanSquaredError()

    def add(self, layer):
        self.network.add(layer)

    def use(self, loss, loss_prime):
        self.loss = MeanSquaredError() if loss is mse else FunctionLoss(loss, loss_prime)

    def fit(self, x_train, y_train, epochs, learning_rate):
        self.network.compile(loss=self.loss, optimizer=SGD(lr=learning_rate))
        history = self.network.fit(
            _samples(x_train), _samples(y_train), epochs, batch_size=1, shuffle=False
        )
        for epoch, error in enumerate(history.history["loss"], start=1):
            print("epoch %d/%d   error=%f" % (epoch, epochs, error))
        return history

    def predict(self, input_data):
        """One (1, outputs) array per sample, as in the articles."""
        outputs = self.network.predict(_samples(input_data))
        return [row[None, :] for row in outputs]
