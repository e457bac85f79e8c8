"""A small convolutional network on MNIST.

    python examples/mnist_cnn.py

The preset "mnist-cnn" stack: conv(8 filters, 3x3, stride 1, valid) -> ReLU -> max-pool 2x2
-> flatten -> dense(10) -> softmax, on channels-last images (N, 28, 28, 1) as in the
articles' ConvLayer. Trained with Adam and the cross-entropy on the bundled 10,000 training
digits; accuracy is measured on the official 10,000-digit test set.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nncore  # noqa: E402


def main(epochs=3):
    x_train, y_train, x_test, y_test = nncore.datasets.load_mnist()
    x_train, x_test = x_train[..., None], x_test[..., None]  # (N, 28, 28) -> (N, 28, 28, 1)

    net = nncore.Network.from_spec(nncore.spec.PRESETS["mnist-cnn"], seed=0)
    net.compile(loss="cross_entropy", optimizer="adam", lr=0.002)
    print(net.summary())
    # validation_split keeps the last 10% aside (the bundled digits are stored in shuffled
    # order, so it holds every class); train_iter reshuffles the other 90% every epoch.
    for event in net.train_iter(x_train, y_train, epochs=epochs, batch_size=32,
                                validation_split=0.1, seed=0):
        if event["type"] == "epoch":
            print(
                f"epoch {event['epoch']}/{event['epochs']}  loss {event['loss']:.4f}  "
                f"accuracy {event['accuracy']:.4f}  val_loss {event['val_loss']:.4f}  "
                f"val_accuracy {event['val_accuracy']:.4f}  ({event['seconds']:.1f} s)"
            )
    scores = net.evaluate(x_test, y_test)
    print(f"small CNN: test accuracy {100 * scores['accuracy']:.2f}%")
    return scores["accuracy"]


if __name__ == "__main__":
    main()
