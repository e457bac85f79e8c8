"""The nncore side of benchmarks/browser_engines.py, run by worker.js inside Pyodide.

The worker writes the site's nncore.zip and the digits (little-endian float32 pixels,
uint8 labels) into Pyodide's file system, runs this file, then calls its functions with JSON
text and gets JSON text back. Shapes are Python ints: Pyodide 0.17's NumPy has 32-bit ints.
"""
import json
import sys
import time
import zipfile

import numpy as np

SPECS = {
    "mlp": {
        "input_shape": [784],
        "layers": [
            {"type": "dense", "units": 128, "activation": None},
            {"type": "relu"},
            {"type": "dense", "units": 10, "activation": None},
            {"type": "softmax"},
        ],
    },
    "cnn": {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "conv2d", "filters": 8, "kernel_size": 3, "stride": 1, "padding": "valid",
             "activation": None},
            {"type": "relu"},
            {"type": "maxpool2d", "pool_size": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 10, "activation": None},
            {"type": "softmax"},
        ],
    },
}
state = {}


def setup(arguments):
    """Unpack nncore.zip (as the site's bridge.py does) and read the digits."""
    arguments = json.loads(arguments)
    with zipfile.ZipFile(arguments["archive"]) as package:
        package.extractall(arguments["directory"])
    sys.path.insert(0, arguments["directory"])
    import nncore
    from nncore.losses import one_hot

    state["nncore"] = nncore
    for name in ("train", "test"):
        pixels = np.fromfile(arguments["data"] + name + "_x.f32", dtype="<f4")
        labels = np.fromfile(arguments["data"] + name + "_y.u8", dtype=np.uint8)
        count = int(labels.shape[0])
        # float32 one-hot targets, as the site's session trains (nncore.tasks.training_data)
        state[name] = (pixels.reshape(count, 28, 28, 1), one_hot(labels.astype(np.int64), 10))
    return json.dumps({"nncore": getattr(nncore, "__version__", "unknown"),
                       "numpy": np.__version__, "python": sys.version.split()[0]})


def build(arguments):
    arguments = json.loads(arguments)
    kind = arguments["kind"]
    network = state["nncore"].Network.from_spec(SPECS[kind], seed=arguments["seed"])
    network.compile(loss="cross_entropy", optimizer="sgd", lr=arguments["lr"])
    state.update(network=network, kind=kind, batch=arguments["batch"], epoch=0,
                 seed=arguments["seed"])
    return json.dumps({"parameters": int(network.count_parameters())})


def images(name):
    x, y = state[name]
    if state["kind"] == "mlp":
        x = x.reshape(int(x.shape[0]), 784)
    return x, y


def epoch(arguments=None):
    """One epoch through the public fit (shuffled, with everything the training loop does)."""
    x, y = images("train")
    state["epoch"] += 1
    history = state["network"].fit(x, y, epochs=1, batch_size=state["batch"],
                                   seed=state["seed"] + state["epoch"])
    return json.dumps(float(history.history["loss"][-1]))


def predict(arguments=None):
    """Labels of the held-out digits (predict's own slices of 256, then argmax)."""
    x, _ = images("test")
    labels = state["network"].predict(x).argmax(axis=-1)
    return json.dumps([int(label) for label in labels])


def profile(arguments=None):
    """Milliseconds of one more epoch spent in each layer's forward / backward, the loss, the
    optimizer, the divergence guard and the accuracy count, by wrapping those methods with a
    clock; the rest is the loop itself (the batch gather with take, the events)."""
    from nncore import guard

    network = state["network"]
    spent = {}

    def clocked(name, method):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = method(*args, **kwargs)
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
            return result
        return wrapper

    class ClockedLoss:
        def __init__(self, loss):
            self.loss = loss

        def __getattr__(self, name):
            return getattr(self.loss, name)

        def __call__(self, outputs, targets):
            return clocked("loss (softmax cross-entropy)", self.loss)(outputs, targets)

    wrapped = []
    for number, layer in enumerate(network.layers, 1):
        for part in ("forward", "backward"):
            name = "%d %s %s" % (number, layer.type, part)
            setattr(layer, part, clocked(name, getattr(layer, part)))
            wrapped.append((layer, part))
    network.optimizer.step = clocked("optimizer step", network.optimizer.step)
    network._correct = clocked("accuracy count", network._correct)
    loss = network.loss
    network.loss = ClockedLoss(loss)
    originals = {part: getattr(guard.DivergenceGuard, part) for part in ("starting", "passed")}
    for part, method in originals.items():
        setattr(guard.DivergenceGuard, part, clocked("divergence guard", method))
    try:
        start = time.perf_counter()
        epoch()
        total = time.perf_counter() - start
    finally:
        for part, method in originals.items():
            setattr(guard.DivergenceGuard, part, method)
        network.loss = loss
        del network._correct
        del network.optimizer.step
        for layer, part in wrapped:
            delattr(layer, part)
    rows = [[name, 1000 * seconds] for name, seconds in spent.items()]
    rows.append(["rest (batch gather, loop, events)", 1000 * (total - sum(spent.values()))])
    return json.dumps({"total": 1000 * total, "rows": rows})
