"""Python side of the web worker: every command the page can send, on top of nncore.

worker.js runs this file once, then calls `dispatch(command, json_text) -> json_text`.
Answers are {"result": ...} or {"error": {"message", "index"?}}; nothing here ever lets a
traceback reach the page. Byte arrays (canvas pixels, model files, the 28x28 preview) are
files in Pyodide's file system, written or read by the worker.

This file runs on Pyodide 0.17 too: Python 3.8 and NumPy 1.17.
"""
import json
import math
import sys
import time
import zipfile

import numpy as np

MNIST_TEST_SIZE = 2000  # test digits used for the accuracy and the confusion matrix
BOUNDARY_RESOLUTION = 31  # grid points per side of the XOR decision-boundary heatmap
BOUNDARY_EVERY_SECONDS = 0.4  # how often a training run redraws the boundary
MAX_BATCH_POINTS = 1500  # per-batch losses sent per run (the faint line), evenly thinned
PRETRAINED_NAMES = ("mnist-mlp", "mnist-cnn")

nncore = None  # imported by setup()
state = {
    "mnist": None,  # (x_train, y_train, x_test, y_test) as uint8, or None
    "pretrained": {},  # name -> Network
    "model": None,  # the trained or imported Network
    "model_origin": None,
    "run": None,  # the training run in progress
}


class Refusal(Exception):
    """A request that cannot be served, with a message for a person."""


def dispatch(command, arguments_json):
    handler = COMMANDS.get(command)
    if handler is None:
        return json.dumps({"error": {"message": f"unknown command {command!r}"}})
    try:
        result = handler(**json.loads(arguments_json))
        return json.dumps({"result": result}, default=_plain)
    except Exception as error:  # every failure becomes a message, never a traceback
        return json.dumps({"error": describe(error)}, default=_plain)


def describe(error):
    """{"message", "index"} for a SpecError, {"message"} for anything else."""
    if nncore is not None and isinstance(error, nncore.SpecError):
        return {"message": str(error), "reason": error.message, "index": error.index}
    if isinstance(error, (Refusal, ValueError)):
        return {"message": str(error)}
    return {"message": f"{type(error).__name__}: {error}"}


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON: {value!r}")


def _finite(value):
    """JSON has no NaN or infinity: those become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------- loading


def setup(archive, directory):
    """Unpack nncore.zip into `directory`, put it on sys.path and import nncore."""
    global nncore
    with zipfile.ZipFile(archive) as package:
        package.extractall(directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    import nncore as imported
    import nncore.datasets
    import nncore.io
    import nncore.metrics
    import nncore.preprocess
    import nncore.tasks  # noqa: F401  (submodules the commands below use)

    nncore = imported
    return {"nncore": getattr(nncore, "__version__", "unknown")}


def load_data():
    """The MNIST subset and the pretrained models; each may be missing (then say why)."""
    from nncore import datasets

    answer = {"mnist": None, "mnist_error": None, "pretrained": [], "pretrained_error": None}
    state["mnist"], state["pretrained"] = None, {}
    try:
        if hasattr(datasets, "load_mnist_uint8"):
            state["mnist"] = datasets.load_mnist_uint8()
        else:  # floats in [0, 1] -> back to the uint8 pixels, to keep memory small
            arrays = datasets.load_mnist()
            state["mnist"] = (
                np.round(arrays[0] * 255).astype(np.uint8), arrays[1],
                np.round(arrays[2] * 255).astype(np.uint8), arrays[3],
            )
        answer["mnist"] = {"train": len(state["mnist"][0]), "test": len(state["mnist"][2])}
    except Exception as error:
        answer["mnist_error"] = f"MNIST is unavailable ({error})"
    errors = []
    for name in PRETRAINED_NAMES:
        try:
            from nncore import pretrained

            state["pretrained"][name] = pretrained.load(name)
            answer["pretrained"].append(name)
        except Exception as error:
            errors.append(f"{name}: {error}")
    if errors:
        answer["pretrained_error"] = "pretrained models unavailable ({})".format("; ".join(errors))
    return answer


# ---------------------------------------------------------------- building


def summary(network):
    rows = []
    for row in network.summary_rows():
        rows.append({
            "index": row["index"], "layer": row["layer"], "type": row["type"],
            "output_shape": list(row["output_shape"]), "parameters": int(row["parameters"]),
        })
    return {
        "rows": rows,
        "parameters": sum(row["parameters"] for row in rows),
        "input_shape": list(network.input_shape),
        "output_shape": rows[-1]["output_shape"] if rows else list(network.input_shape),
    }


def validate(spec):
    """A layer stack -> its summary table, or the SpecError naming the offending layer."""
    return summary(nncore.Network.from_spec(spec))


# ---------------------------------------------------------------- training


def dataset_arrays(dataset, size, seed, network):
    """(x, y, x_test, y_test) shaped for the network; y one-hot, y_test integer labels."""
    nncore.tasks.check_fits(network.input_shape, network.output_shape, dataset)
    if dataset == "xor":
        x, y = nncore.tasks.training_data("xor", network.input_shape)
        return x, y, None, None
    if state["mnist"] is None:
        raise Refusal("MNIST is unavailable in this build, so only XOR can be trained")
    x, y = nncore.tasks.training_data("mnist", network.input_shape, size=size, seed=seed,
                                      mnist=state["mnist"])
    x_test, y_test = state["mnist"][2][:MNIST_TEST_SIZE], state["mnist"][3][:MNIST_TEST_SIZE]
    return (x, y, nncore.tasks.shape_inputs(x_test, network.input_shape),
            y_test.astype(np.int64))


def train_start(spec, settings):
    """Build, compile and start a run; events are pulled by train_step."""
    train_stop()
    seed = int(settings.get("seed", 0))
    network = nncore.Network.from_spec(spec, seed=seed)
    dataset = settings.get("dataset", "xor")
    x, y, x_test, y_test = dataset_arrays(dataset, settings.get("size", 2000), seed, network)
    network.compile(loss=settings["loss"], optimizer=settings["optimizer"],
                    lr=float(settings["lr"]), **settings.get("options", {}))
    epochs = int(settings["epochs"])
    batch_size = int(settings["batch_size"])
    if epochs < 1 or batch_size < 1:
        raise Refusal("epochs and batch size must be at least 1")
    validation_split = float(settings.get("validation_split", 0.0)) if dataset == "mnist" else 0.0
    events = network.train_iter(x, y, epochs, batch_size=batch_size,
                                validation_split=validation_split, shuffle=True, seed=seed)
    batches_per_epoch = int(math.ceil(len(x) * (1 - validation_split) / batch_size))
    state["model"], state["model_origin"] = network, "trained here"
    state["run"] = {
        "events": events, "network": network, "dataset": dataset, "x": x, "y": y,
        "x_test": x_test, "y_test": y_test, "epochs_done": 0, "last_boundary": 0.0,
        "batch_stride": max(1, (epochs * batches_per_epoch) // MAX_BATCH_POINTS),
        "batch_count": 0, "started": time.time(), "done": False,
    }
    return {"samples": len(x), "epochs": epochs, "summary": summary(network),
            "test_samples": 0 if x_test is None else len(x_test)}


def train_step(seconds):
    """Pull events for about `seconds`: epoch events in full, batch losses thinned."""
    run = state["run"]
    if run is None:
        raise Refusal("no training run is in progress")
    try:
        return _pull_events(run, seconds)
    except Exception:
        # a run that failed is over: the next step must not report it "done"
        run["events"].close()
        state["run"] = None
        raise


def _pull_events(run, seconds):
    deadline = time.time() + float(seconds)
    epochs, batches, notices = [], [], []
    while time.time() < deadline and not run["done"]:
        try:
            event = next(run["events"])
        except StopIteration:
            event = {"type": "done"}
        kind = event["type"]
        if kind == "batch":
            run["batch_count"] += 1
            if run["batch_count"] % run["batch_stride"] == 0 or event["batch"] == event["batches"]:
                step = event["epoch"] - 1 + event["batch"] / float(event["batches"])
                batches.append([step, _finite(event["loss"])])
        elif kind == "epoch":
            run["epochs_done"] = event["epoch"]
            epochs.append({key: (_finite(value) if key in FLOAT_KEYS else value)
                           for key, value in event.items()})
        elif kind == "diverged":
            notices.append(event.get("message") or "the loss became infinite; training stopped")
        elif kind == "done":
            run["done"] = True
    chunk = {"epochs": epochs, "batches": batches, "notices": notices, "done": run["done"]}
    now = time.time()
    due = run["done"] or now - run["last_boundary"] > BOUNDARY_EVERY_SECONDS
    if run["dataset"] == "xor" and due:
        run["last_boundary"] = now
        chunk["boundary"] = boundary(run["network"])
    return chunk


FLOAT_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "seconds")


def boundary(network):
    """The XOR network's output over [-0.5, 1.5]^2 as three flat lists x1, x2, output.

    Columns, not rows: 3 lists of floats encode far faster than 1,681 dicts under Pyodide;
    the page zips them into the chart's {"x1", "x2", "output"} rows.
    """
    xs, ys, outputs = nncore.metrics.decision_grid(network, resolution=BOUNDARY_RESOLUTION)
    return {"x1": np.round(xs, 4).tolist(), "x2": np.round(ys, 4).tolist(),
            "output": np.round(outputs, 5).tolist()}


def train_finish():
    """After the last epoch: the test accuracy and confusion matrix for MNIST."""
    run = state["run"]
    state["run"] = None
    result = {"stopped": False, "epochs_done": run["epochs_done"],
              "seconds": time.time() - run["started"]}
    result.update(evaluation(run))
    return result


def train_stop():
    """Stop the run between two batches; the network keeps the weights it has."""
    run = state["run"]
    if run is None:
        return {"stopped": False, "epochs_done": 0}
    state["run"] = None
    run["events"].close()
    return {"stopped": True, "epochs_done": run["epochs_done"],
            "seconds": time.time() - run["started"]}


def evaluation(run):
    if run["x_test"] is None:
        return {}
    network = run["network"]
    predictions = np.argmax(network.predict(run["x_test"]).reshape(len(run["x_test"]), -1), axis=1)
    labels = run["y_test"]
    matrix = nncore.metrics.confusion_matrix(labels, predictions, num_classes=10)
    rows = [{"actual": a, "predicted": p, "count": int(matrix[a, p])}
            for a in range(10) for p in range(10)]
    return {"test_accuracy": float(nncore.metrics.accuracy(labels, predictions)),
            "test_samples": len(labels), "confusion": rows}


# ---------------------------------------------------------------- drawing


def predict(path, preview, width, height, model):
    """RGBA canvas pixels (a file) -> digit, probabilities; the 28x28 image goes to `preview`."""
    network = choose_model(model)
    pixels = np.frombuffer(open(path, "rb").read(), dtype=np.uint8)
    image = pixels.reshape(int(height), int(width), 4)
    try:
        digit_image = nncore.preprocess.canvas_to_mnist(image)
    except ValueError as error:
        if "empty" in str(error):
            return {"digit": None, "message": "Draw a digit in the box"}
        raise
    nncore.tasks.check_fits(network.input_shape, network.output_shape, "mnist")
    start = time.time()
    probabilities = nncore.tasks.probabilities(network, digit_image[np.newaxis])[0]  # (10,)
    with open(preview, "wb") as handle:
        handle.write(digit_image.astype(np.float32).tobytes())
    digit = int(np.argmax(probabilities))
    return {"digit": digit, "confidence": float(probabilities[digit]),
            "probabilities": [float(p) for p in probabilities],
            "predict_seconds": time.time() - start}


def choose_model(model):
    if model == "trained":
        if state["model"] is None:
            raise Refusal("no trained model yet: train an MNIST network, import a model, "
                          "or pick a pretrained one")
        return state["model"]
    if model in state["pretrained"]:
        return state["pretrained"][model]
    raise Refusal(f"the pretrained model {model!r} is not in this build")


# ---------------------------------------------------------------- files


def export_model(path):
    network = state["model"]
    if network is None:
        raise Refusal("nothing to export yet: train a model (or import one) first")
    data = nncore.io.to_bytes(network)
    with open(path, "wb") as handle:
        handle.write(data)
    return {"size": len(data), "origin": state["model_origin"]}


def import_model(path, name):
    with open(path, "rb") as handle:
        data = handle.read()
    network = nncore.io.from_bytes(data)
    state["model"], state["model_origin"] = network, f"imported from {name}"
    return {"spec": network.to_spec(), "summary": summary(network), "name": name}


def model_info():
    network = state["model"]
    if network is None:
        return {"model": None}
    return {"model": {"origin": state["model_origin"], "summary": summary(network),
                      "spec": network.to_spec()}}


COMMANDS = {
    "setup": setup,
    "load_data": load_data,
    "validate": validate,
    "train_start": train_start,
    "train_step": train_step,
    "train_finish": train_finish,
    "train_stop": train_stop,
    "predict": predict,
    "export_model": export_model,
    "import_model": import_model,
    "model_info": model_info,
}
