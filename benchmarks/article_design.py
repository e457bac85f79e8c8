"""The seed articles' design, reimplemented faithfully as a baseline (Omar Aflak, "Neural
Network from scratch in Python" and "Convolutional Neural Network from scratch").

Every layer sees ONE sample at a time (shape (1, n) for dense, (H, W, C) for images), and
`backward_propagation(output_error, learning_rate)` updates its own weights immediately:
plain per-sample SGD. Weights are float64 (the articles draw them with np.random.rand).
Differences from the articles, all needed to train the benchmark networks:
  - the loss is softmax cross-entropy (the articles use mse); its per-sample gradient is p - y;
  - weights start He/Glorot-scaled instead of rand - 0.5, so ReLU nets do not blow up;
  - the articles' ConvLayer calls scipy.signal.correlate2d / convolve2d; here those are
    NumPy loops over the kernel offsets (no SciPy), which is what "scipy-free" means below;
  - the articles have no max-pool layer; MaxPoolLayer below is written in the same style.
"""
from __future__ import annotations

import numpy as np


class Layer:
    def forward_propagation(self, input):
        raise NotImplementedError

    def backward_propagation(self, output_error, learning_rate):
        raise NotImplementedError


class FCLayer(Layer):
    """Y = X W + B for one sample X (1, input_size)."""

    def __init__(self, input_size, output_size, rng):
        limit = np.sqrt(6.0 / input_size)
        self.weights = rng.uniform(-limit, limit, (input_size, output_size))
        self.bias = np.zeros((1, output_size))

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = np.dot(self.input, self.weights) + self.bias
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        # dE/dX = dE/dY W^T, dE/dW = X^T dE/dY, dE/dB = dE/dY; update now (per-sample SGD)
        input_error = np.dot(output_error, self.weights.T)
        weights_error = np.dot(self.input.T, output_error)
        self.weights -= learning_rate * weights_error
        self.bias -= learning_rate * output_error
        return input_error


class ActivationLayer(Layer):
    def __init__(self, activation, activation_prime):
        self.activation = activation
        self.activation_prime = activation_prime

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = self.activation(self.input)
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        return self.activation_prime(self.input) * output_error


def relu(x):
    return np.maximum(x, 0)


def relu_prime(x):
    return (x > 0).astype(x.dtype)


def correlate2d_valid(image, kernel):
    """scipy.signal.correlate2d(image, kernel, 'valid') as a loop over kernel offsets."""
    kh, kw = kernel.shape
    out_h, out_w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((out_h, out_w))
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * image[a : a + out_h, b : b + out_w]
    return out


def convolve2d_full(image, kernel):
    """scipy.signal.convolve2d(image, kernel, 'full'): correlate the zero-padded image with
    the kernel flipped in both axes."""
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return correlate2d_valid(padded, kernel[::-1, ::-1])


class ConvLayer(Layer):
    """The article's ConvLayer: input (i, j, d), kernel (m, n), `layer_depth` filters."""

    def __init__(self, input_shape, kernel_shape, layer_depth, rng):
        self.input_shape = input_shape
        self.input_depth = input_shape[2]
        self.kernel_shape = kernel_shape
        self.layer_depth = layer_depth
        self.output_shape = (
            input_shape[0] - kernel_shape[0] + 1,
            input_shape[1] - kernel_shape[1] + 1,
            layer_depth,
        )
        fan_in = kernel_shape[0] * kernel_shape[1] * self.input_depth
        limit = np.sqrt(6.0 / fan_in)
        self.weights = rng.uniform(
            -limit, limit, (kernel_shape[0], kernel_shape[1], self.input_depth, layer_depth)
        )
        self.bias = np.zeros(layer_depth)

    def forward_propagation(self, input):
        self.input = input
        self.output = np.zeros(self.output_shape)
        for k in range(self.layer_depth):
            for d in range(self.input_depth):
                self.output[:, :, k] += (
                    correlate2d_valid(self.input[:, :, d], self.weights[:, :, d, k]) + self.bias[k]
                )
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        in_error = np.zeros(self.input_shape)
        d_weights = np.zeros(self.weights.shape)
        d_bias = np.zeros(self.layer_depth)
        for k in range(self.layer_depth):
            for d in range(self.input_depth):
                in_error[:, :, d] += convolve2d_full(output_error[:, :, k], self.weights[:, :, d, k])
                d_weights[:, :, d, k] = correlate2d_valid(self.input[:, :, d], output_error[:, :, k])
            d_bias[k] = self.input_depth * np.sum(output_error[:, :, k])
        self.weights -= learning_rate * d_weights
        self.bias -= learning_rate * d_bias
        return in_error


class MaxPoolLayer(Layer):
    """Non-overlapping pool x pool max over one (H, W, C) sample, in the articles' style."""

    def __init__(self, pool):
        self.pool = pool

    def forward_propagation(self, input):
        p = self.pool
        h, w, c = input.shape
        self.input = input
        windows = input[: h // p * p, : w // p * p].reshape(h // p, p, w // p, p, c)
        self.output = windows.max(axis=(1, 3))
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        p = self.pool
        h, w, c = self.input.shape
        in_error = np.zeros(self.input.shape)
        for i in range(h // p):
            for j in range(w // p):
                window = self.input[i * p : (i + 1) * p, j * p : (j + 1) * p]
                mask = window == self.output[i, j]
                in_error[i * p : (i + 1) * p, j * p : (j + 1) * p] = mask * output_error[i, j]
        return in_error


class FlattenLayer(Layer):
    def forward_propagation(self, input):
        self.input_shape = input.shape
        return input.reshape((1, -1))

    def backward_propagation(self, output_error, learning_rate):
        return output_error.reshape(self.input_shape)


def softmax_cross_entropy(label, output):
    """Loss and its gradient for one sample's logits (1, C): p - onehot(label)."""
    shifted = output - output.max()
    exps = np.exp(shifted)
    probabilities = exps / exps.sum()
    loss = -np.log(probabilities[0, label])
    error = probabilities.copy()
    error[0, label] -= 1
    return loss, error


class Network:
    def __init__(self, layers):
        self.layers = layers

    def fit(self, x_train, y_train, learning_rate, order):
        """One epoch over the samples in `order`, one sample at a time; returns the mean loss."""
        err = 0.0
        for j in order:
            output = x_train[j]
            for layer in self.layers:
                output = layer.forward_propagation(output)
            loss, error = softmax_cross_entropy(y_train[j], output)
            err += loss
            for layer in reversed(self.layers):
                error = layer.backward_propagation(error, learning_rate)
        return err / len(order)


def mlp(rng):
    """784-128-10 ReLU; samples shaped (1, 784) as in the article."""
    return Network([FCLayer(784, 128, rng), ActivationLayer(relu, relu_prime), FCLayer(128, 10, rng)])


def cnn(rng):
    """conv(8, 3x3)-ReLU-maxpool(2)-dense(10); samples shaped (28, 28, 1)."""
    return Network([
        ConvLayer((28, 28, 1), (3, 3), 8, rng),
        ActivationLayer(relu, relu_prime),
        MaxPoolLayer(2),
        FlattenLayer(),
        FCLayer(13 * 13 * 8, 10, rng),
    ])
