"""The articles' MNIST experiments with fully connected networks.

    python examples/mnist_mlp.py

1. The first article's network: 784-100-50-10 with tanh everywhere, mean squared error on
   one-hot labels, plain SGD with learning rate 0.1, one sample at a time, trained on 1000
   digits for 35 epochs.
2. The second article's one-layer softmax classifier (784 -> 10) trained with Adam and the
   cross-entropy (the article reports 88.55% test accuracy).

Accuracy is measured on the official 10,000-digit MNIST test set.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nncore  # noqa: E402


def load():
    x_train, y_train, x_test, y_test = nncore.datasets.load_mnist()  # (N, 28, 28) in [0, 1]
    return x_train.reshape(-1, 784), y_train, x_test.reshape(-1, 784), y_test


def articles_tanh_network(x_train, y_train, x_test, y_test):
    net = nncore.Network(
        [
            nncore.Dense(784, 100), nncore.Tanh(),
            nncore.Dense(100, 50), nncore.Tanh(),
            nncore.Dense(50, 10), nncore.Tanh(),
        ],
        input_shape=(784,),
        seed=0,
    )
    net.compile(loss="mse", optimizer="sgd", lr=0.1)
    print(net.summary())
    samples = 1000
    history = net.fit(x_train[:samples], nncore.one_hot(y_train[:samples], 10), epochs=35,
                      batch_size=1, seed=0)
    for epoch in (0, 9, 19, 34):
        print(f"epoch {epoch + 1:2d}/35   error={history.history['loss'][epoch]:f}")
    predicted = net.predict(x_test).argmax(axis=1)
    print("predicted values:", predicted[:3].tolist(), " true values:", y_test[:3].tolist())
    accuracy = nncore.metrics.accuracy(y_test, predicted)
    print("784-100-50-10 tanh, 1000 samples, 35 epochs: test accuracy %.2f%%\n" % (100 * accuracy))
    return accuracy


def softmax_classifier(x_train, y_train, x_test, y_test):
    net = nncore.Network([nncore.Dense(784, 10), nncore.Softmax()], input_shape=(784,), seed=0)
    net.compile(loss="cross_entropy", optimizer="adam", lr=0.001)
    print(net.summary())
    history = net.fit(x_train, y_train, epochs=10, batch_size=32, validation_split=0.1, seed=0)
    last = {key: values[-1] for key, values in history.history.items()}
    print(
        f"last epoch: loss {last['loss']:.4f}, accuracy {last['accuracy']:.4f}, "
        f"val_loss {last['val_loss']:.4f}, val_accuracy {last['val_accuracy']:.4f}"
    )
    accuracy = net.evaluate(x_test, y_test)["accuracy"]
    print(f"one-layer softmax + adam: test accuracy {100 * accuracy:.2f}% (the article: 88.55%)")
    return accuracy


if __name__ == "__main__":
    data = load()
    articles_tanh_network(*data)
    softmax_classifier(*data)
