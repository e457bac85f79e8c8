"""Accuracy for time: how long nncore takes to reach a test accuracy on the official MNIST test
set (10,000 digits), training on the bundled 10k subset.

    python -m benchmarks.accuracy_for_time [--only mlp|cnn] [--out FILE]

One epoch at a time: train (timed), then score the whole test set (timed separately), stop
at the target or at the cap (epochs or seconds of training), and say which happened.
"""
from __future__ import annotations

import argparse
import sys
import time

from .common import configure_threads, emit, header, load_average, load_mnist, table

MODELS = {
    # name: (description, layers factory, input shape, compile options, batch, target, caps)
    "mlp": {
        "description": "MLP 784-128-10, ReLU, softmax cross-entropy, Adam lr 1e-3, batch 32",
        "layers": lambda nn: [nn.Dense(128, activation="relu"), nn.Dense(10)],
        "input_shape": (784,),
        "compile": {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3},
        "batch_size": 32,
        "target": 0.97,
    },
    "mlp-dropout": {
        "description": "MLP 784-512-10, ReLU, dropout 0.4, softmax cross-entropy, Adam lr 1e-3, batch 64",
        "layers": lambda nn: [nn.Dense(512, activation="relu"), nn.Dropout(0.4), nn.Dense(10)],
        "input_shape": (784,),
        "compile": {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3},
        "batch_size": 64,
        "target": 0.97,
    },
    "cnn16": {
        "description": ("CNN conv(16,3x3)-ReLU-maxpool(2)-conv(32,3x3)-ReLU-maxpool(2)-"
                        "flatten-dropout(0.25)-dense(10), Adam lr 1e-3 x 0.8 per epoch, batch 32"),
        "layers": lambda nn: [
            nn.Conv2D(16, 3, activation="relu"), nn.MaxPool2D(2),
            nn.Conv2D(32, 3, activation="relu"), nn.MaxPool2D(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Dense(10),
        ],
        "input_shape": (28, 28, 1),
        "compile": {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3},
        "lr_decay": 0.8,
        "batch_size": 32,
        "target": 0.985,
    },
    "cnn32": {
        "description": ("CNN conv(32,3x3)-ReLU-maxpool(2)-conv(64,3x3)-ReLU-maxpool(2)-"
                        "flatten-dropout(0.25)-dense(10), Adam lr 1e-3 x 0.85 per epoch, batch 32"),
        "layers": lambda nn: [
            nn.Conv2D(32, 3, activation="relu"), nn.MaxPool2D(2),
            nn.Conv2D(64, 3, activation="relu"), nn.MaxPool2D(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Dense(10),
        ],
        "input_shape": (28, 28, 1),
        "compile": {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3},
        "lr_decay": 0.85,
        "batch_size": 32,
        "target": 0.985,
    },
    "small-cnn": {
        "description": "CNN conv(8,3x3)-ReLU-maxpool(2)-dense(10) (the throughput CNN), Adam lr 1e-3, batch 32",
        "layers": lambda nn: [nn.Conv2D(8, 3, activation="relu"), nn.MaxPool2D(2), nn.Flatten(),
                              nn.Dense(10)],
        "input_shape": (28, 28, 1),
        "compile": {"loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3},
        "batch_size": 32,
        "target": 0.985,
    },
}


def run(name, model, data, max_epochs, max_seconds, out):
    import nncore

    x_train, y_train, x_test, y_test = data
    shape = model["input_shape"]
    x_train = x_train.reshape((-1,) + shape)
    x_test = x_test.reshape((-1,) + shape)
    net = nncore.Network(model["layers"](nncore), input_shape=shape, seed=0)
    net.compile(**model["compile"])
    rows, train_seconds, reached = [], 0.0, None
    for epoch in range(1, max_epochs + 1):
        if epoch > 1:
            net.optimizer.lr *= model.get("lr_decay", 1.0)  # a step schedule, between epochs
        start = time.perf_counter()
        history = net.fit(x_train, y_train, epochs=1, batch_size=model["batch_size"], seed=epoch)
        train_seconds += time.perf_counter() - start
        start = time.perf_counter()
        scores = net.evaluate(x_test, y_test)
        eval_seconds = time.perf_counter() - start
        rows.append([epoch, "%.1f" % train_seconds, "%.4f" % history.history["loss"][-1],
                     "%.2f%%" % (100 * history.history["accuracy"][-1]),
                     "%.2f%%" % (100 * scores["accuracy"]), "%.2f" % eval_seconds])
        print("  %s epoch %d: %.1f s, test accuracy %.2f%%"
              % (name, epoch, train_seconds, 100 * scores["accuracy"]), file=sys.stderr)
        if scores["accuracy"] >= model["target"]:
            reached = (epoch, train_seconds, scores["accuracy"])
            break
        if train_seconds >= max_seconds:
            break
    lines = ["%s: %s" % (name, model["description"]),
             f"parameters: {net.count_parameters():,}",
             table(["epoch", "train s (cumulative)", "train loss", "train acc", "test acc",
                    "test eval s"], rows)]
    if reached:
        lines.append("REACHED %.1f%% test accuracy after %d epochs, %.1f s of training "
                     "(%.2f%%)" % (100 * model["target"], reached[0], reached[1], 100 * reached[2]))
    else:
        best = max(float(row[4].rstrip("%")) for row in rows)
        lines.append("NOT REACHED %.1f%% within the cap (%d epochs / %.0f s of training): best "
                     "test accuracy %.2f%%" % (100 * model["target"], max_epochs, max_seconds, best))
    emit("\n" + "\n".join(lines), out)
    return reached


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(MODELS), default=["mlp", "mlp-dropout", "cnn32"])
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="cap on cumulative training time per model")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: NumPy's own setting)")
    parser.add_argument("--out", default=None, help="also append the tables to this file")
    args = parser.parse_args(argv)

    configure_threads(args.threads)
    x_train, y_train, x_test, y_test, source = load_mnist()
    emit(header("Accuracy for time: nncore on the official MNIST test set", notes=[
        "data: %s; train on %d digits, test on %d" % (source, len(x_train), len(x_test)),
        "cap: %d epochs or %.0f s of training per model; wall time counts training only "
        "(the test evaluation after each epoch is timed separately)" % (args.max_epochs,
                                                                        args.max_seconds),
    ]), args.out)
    for name in args.only:
        run(name, MODELS[name], (x_train, y_train, x_test, y_test), args.max_epochs,
            args.max_seconds, args.out)
    emit("load avg  %s at end" % load_average(), args.out)


if __name__ == "__main__":
    main()
