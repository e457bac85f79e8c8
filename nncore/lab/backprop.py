"""Backpropagation, step by step, for one sample and the current network.

    yours(session, experiment) -> (network, words): what "Your model" walks
    dataset_for(network, plane=None) -> "xor" | "plane" | "mnist" | None (unwalkable: why)
    chooser(dataset, plane=None) -> {"label", "count"}: how a host asks for the sample
    walk(network, x, y, loss=None) -> {
      "loss": "mse", "value": E, "fused": "softmax" | None,
      "steps": [{"direction": "forward" | "loss" | "backward", "layer": 3 (from 1; the loss
                 step: the fused layer's number, or None), "type", "title", "formula": "...",
                 "tensors": [{"name": "X", "shape": [...], "values": nested list | None,
                              "picture": picture | None, "stats": {...} | None,
                              "note": ""}]}],
      "check": {"passed", "max_relative_error", "tolerance", "entries": [...], "dtype",
                "text", "sentence": the line both hosts show, ...}}
    headline(words, walked, sample_words) -> "Your model, as trained · XOR point ... · loss"

The steps are the forward pass layer by layer (X, the weights, Y), then the loss (E and
dE/dY, or dE/dZ when the loss fuses the last activation), then the backward pass from the
last layer to the first (dE/dY, dE/dW, dE/dB, dE/dX). Every number comes from one call of
`Network.loss_and_grads` on a private copy of the network: each layer's own `forward` and
`backward` are wrapped to record what goes in and out, nothing is computed a second way.
The formulas are the layer classes' FORMULAS.

Then `check` compares dE/dW with central differences of the loss,
(E(w + h) - E(w - h)) / 2h, on a float64 copy (float32 cannot resolve them): every weight
when there are few, else a few random entries of each weight array. A backward that is
wrong shows as a large relative error, |analytic - numeric| / max(|analytic|, |numeric|).

Tensors with at most SMALL values are printed as nested lists (4 significant digits);
larger ones as a picture (views.picture's format: channels side by side, at most PICTURE
pixels a side) with min / max / mean / norm.
"""
from __future__ import annotations

import copy

import numpy as np

from .. import datasets, losses, tasks
from ..losses import one_hot
from ..network import Network
from .inside import clean, grey_range, rounded, title
from .views import picture

SMALL = 64  # a tensor with at most this many values is printed in full
PICTURE = 128  # a tensor's picture has at most this many pixels a side
TILES = 8  # channels tiled into one picture at most (kernels: 8 input channels x 16 filters)
CHECK_ENTRIES = 24  # weight entries compared with finite differences (all when fewer)
# h of the central differences, in float64: a large h crosses the kinks of relu and max
# (a conv bias moves every position), a small one drowns tiny gradients in rounding; the
# check tries the next h only where the first is not clearly right (within GOOD)
STEPS = (1e-5, 1e-4, 1e-6)
GOOD = 1e-5  # a relative error this small needs no other h
KINK = 1e-2  # one-sided slopes this far apart: a kink lies within h (reported)
TOLERANCE = 1e-3  # largest relative error that passes (a kink of relu or max nearby adds some)
# what the loss does, in the walk's symbols: Y the network's output, Z the scores a fused
# activation would turn into Y = P, T the target, N the batch size (1 here)
LOSS_FORMULAS = {
    "mse": ["E = mean((Y − T)²)", "dE/dY = 2 (Y − T) / size(Y)"],
    "cross_entropy": ["P = softmax(Z)", "E = −Σ T · log P / N", "dE/dZ = (P − T) / N"],
    "binary_cross_entropy": ["P = σ(Z)", "E = mean(−T log P − (1 − T) log(1 − P))",
                             "dE/dZ = (P − T) / size(Z)"],
}


# ------------------------------------------------------------------ the sample


def default_loss(network):
    """The network's own loss when compiled, else cross_entropy for a softmax end, else mse."""
    if network.loss is not None:
        return network.loss.name
    return "cross_entropy" if tasks.ends_in_softmax(network) else "mse"


def yours(session, experiment):
    """(network, words) of "Your model": the session's model as trained, else the Build
    stack of `experiment` with fresh weights from its seed (SpecError when it is invalid)."""
    if session.network is not None:
        return session.network, "your model, as trained"
    network = Network.from_spec(experiment["spec"], seed=int(experiment["seed"]))
    return network, "the Build tab's stack with fresh weights (not trained yet)"


def dataset_for(network, plane=None):
    """Where a walk's sample comes from: for 2 inputs the test points of the 2-D problem it
    was trained on ("plane", when `plane` gives them: Session.plane) or else "xor" (the four
    points); "mnist" (test digits) for 784 inputs; None for any other input."""
    inputs = tasks._values(network.input_shape)
    if inputs == 2:
        return "plane" if plane is not None else "xor"
    return {784: "mnist"}.get(inputs)


def chooser(dataset, plane=None, mnist=None):
    """How a host asks for the sample: its field's label and how many samples there are
    (`plane`: Session.plane; `mnist`: the digits sample() reads, else the bundled ones)."""
    if dataset == "xor":
        return {"label": "XOR point", "count": 4}
    if dataset == "plane":
        return {"label": "Test point number", "count": int(len(plane["x_test"]))}
    data = mnist if mnist is not None else datasets.load_mnist()
    return {"label": "Test digit number", "count": int(len(data[2]))}


def unwalkable(network):
    """Why the walk has no sample for this network (dataset_for gave None)."""
    return ("This model takes inputs of shape %s: the walk needs an XOR point (2 inputs) or "
            "a digit (784 values)." % (tasks.describe_shape(network.input_shape),))


def headline(words, walked, sample_words):
    """The walk's first line: whose network, which sample, the loss and its value."""
    return "%s · %s · loss %s = %.6g" % (words[:1].upper() + words[1:], sample_words,
                                         walked["loss"], walked["value"])


def sample(network, dataset, index, mnist=None, plane=None):
    """(x, y, words) of one sample: XOR point `index` (0..3), test point `index` of the 2-D
    problem (`plane`: Session.plane) or MNIST test digit `index`.
    x has the network's input shape; y is the target (a label for digits)."""
    if dataset == "xor":
        points, targets = datasets.xor()
        x = tasks.shape_inputs(points[index : index + 1], network.input_shape)[0]
        return x, float(targets[index, 0]), "XOR point %s, target %g" % (
            tuple(int(v) for v in points[index]), targets[index, 0])
    if dataset == "plane":
        points, targets = plane["x_test"], plane["y_test"]
        index = min(max(int(index), 0), len(points) - 1)
        x = tasks.shape_inputs(np.asarray(points[index : index + 1]), network.input_shape)[0]
        name = tasks.PLANE_NAMES[plane["dataset"]]
        return x, float(targets[index, 0]), "%s test point #%d (%.3g, %.3g), target %g" % (
            name[:1].upper() + name[1:], index, points[index, 0], points[index, 1],
            targets[index, 0])
    data = mnist if mnist is not None else datasets.load_mnist()
    x_test, y_test = data[2], data[3]
    index = min(max(int(index), 0), len(x_test) - 1)  # a number past the end: the last digit
    x = tasks.shape_inputs(np.asarray(x_test[index : index + 1]), network.input_shape)[0]
    return x, int(y_test[index]), "test digit #%d, a %d" % (index, int(y_test[index]))


def _targets(network, loss, y):
    """One sample's target as a batch of one: a label for cross_entropy, else values (a label
    against several outputs becomes one-hot)."""
    y = np.asarray(y)
    outputs = tasks._values(network.output_shape)
    if y.ndim == 0 and np.issubdtype(y.dtype, np.integer) and outputs > 1:
        if loss == "cross_entropy":
            return y.reshape(1)
        return one_hot(y.reshape(1), outputs).astype(network.dtype)
    return y.astype(network.dtype).reshape((1,) + tuple(network.output_shape))


# ------------------------------------------------------------------ recording one pass


def _private(network, dtype=None):
    """A copy to work on (the optimizer is left out: its state is not needed); dtype casts."""
    memo = {} if network.optimizer is None else {id(network.optimizer): None}
    worker = copy.deepcopy(network, memo)
    if dtype is not None and np.dtype(dtype) != worker.dtype:
        worker.dtype = np.dtype(dtype)
        for layer in worker.layers:
            layer.params = [p.astype(dtype) for p in layer.params]
            layer.grads = [g.astype(dtype) for g in layer.grads]
    return worker


def _record(target, name, records):
    """Wrap target.forward or .backward (an instance attribute over the class's method) so
    each call appends (what went in, what came out) to records."""
    original = getattr(target, name)

    def recorded(value, *args, **kwargs):
        result = original(value, *args, **kwargs)
        records.append((np.array(value), None if result is None else np.array(result)))
        return result

    setattr(target, name, recorded)


def trace(network, x, y, loss=None):
    """The raw arrays of one pass of loss_and_grads on a private copy of `network`:
    {"loss", "value", "fused", "tail", "layers": [{"index", "layer", "X", "Y", "Z", "dY", "dZ",
    "dX", "grads", "forward_called"}], "P", "T", "x", "y"}. x is one sample (the network's
    input shape), y its target."""
    loss = loss or default_loss(network)
    worker = _private(network)
    worker.loss = losses.get(loss)
    batch = np.asarray(x, dtype=worker.dtype).reshape((1,) + tuple(network.input_shape))
    target = _targets(worker, loss, y)
    records = {}
    for index, layer in enumerate(worker.layers):
        records[index] = {"forward": [], "backward": [], "act_forward": [], "act_backward": []}
        _record(layer, "forward", records[index]["forward"])
        _record(layer, "backward", records[index]["backward"])
        inner = getattr(layer, "activation_layer", None)
        if inner is not None:
            _record(inner, "forward", records[index]["act_forward"])
            _record(inner, "backward", records[index]["act_backward"])
    value, gradients = worker.loss_and_grads(batch, target)
    tail = worker._fused_tail()
    layers, position = [], 0
    for index, layer in enumerate(worker.layers):
        got = records[index]
        count = len(layer.params)
        entry = {"index": index, "layer": layer, "forward_called": bool(got["forward"]),
                 "grads": [np.array(g) for g in gradients[position : position + count]],
                 "X": None, "Y": None, "Z": None, "dY": None, "dZ": None, "dX": None}
        position += count
        if got["forward"]:
            entry["X"], entry["Y"] = got["forward"][0]
        if got["act_forward"]:
            entry["Z"] = got["act_forward"][0][0]
        if got["backward"]:
            entry["dY"], entry["dX"] = got["backward"][0]
        if got["act_backward"]:
            entry["dZ"] = got["act_backward"][0][1]
        layers.append(entry)
    for layer in worker.layers:  # the copy is plain again (it is checked or dropped next)
        for target_object in (layer, getattr(layer, "activation_layer", None)):
            if target_object is not None:
                target_object.__dict__.pop("forward", None)
                target_object.__dict__.pop("backward", None)
    called = [entry for entry in layers if entry["forward_called"]]
    scores = called[-1]["Y"]
    fused = worker.loss.fused_activation if tail else None
    probabilities = None
    if tail == "skip":  # the trailing softmax / sigmoid layer, its own forward on the scores
        probabilities = worker.layers[-1].forward(scores)
    elif tail == "linear":
        probabilities = worker.layers[-1].activation_layer.forward(scores)
    return {"loss": loss, "value": float(value), "fused": fused, "tail": tail,
            "layers": layers, "P": probabilities, "T": np.array(target), "x": batch,
            "y": target, "network": worker}


# ------------------------------------------------------------------ printing a tensor


def _grid(tiles, columns):
    """A list of equal 2-D tiles -> one 2-D array, `columns` a row, one blank (NaN) line
    between them (drawn as the scale's low end)."""
    height, width = tiles[0].shape
    rows = -(-len(tiles) // columns)
    canvas = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), np.nan)
    for position, tile in enumerate(tiles):
        row, column = divmod(position, columns)
        top, left = row * (height + 1), column * (width + 1)
        canvas[top : top + height, left : left + width] = tile
    return canvas


def _as_picture(values, note):
    """Any tensor -> picture: 1-D wrapped into a square, 3-D (h, w, c) the first TILES
    channels in rows of 4, 4-D kernels (kh, kw, c, f) one kh x kw tile per input channel c
    (rows) and filter f (columns; rows of 8 for one input channel); thinned to at most
    PICTURE pixels a side."""
    if values.ndim > 1 and values.shape[0] == 1:
        values = values[0]  # the batch of one
    if values.ndim == 4:
        channels, filters = min(values.shape[2], TILES), min(values.shape[3], 2 * TILES)
        if (channels, filters) != values.shape[2:]:
            note.append("input channels %d of %d, filters %d of %d"
                        % (channels, values.shape[2], filters, values.shape[3]))
        # one row per input channel; a single channel's filters wrap in rows of 8, so a
        # first conv layer's (3, 3, 1, 16) kernels read as a block of tiles, not one strip
        columns = filters if channels > 1 else min(filters, 8)
        plane = _grid([values[:, :, c, f] for c in range(channels) for f in range(filters)],
                      columns)
    elif values.ndim == 3:
        shown = min(values.shape[2], TILES)
        if shown < values.shape[2]:
            note.append("the first %d of %d channels" % (shown, values.shape[2]))
        plane = _grid([values[:, :, c] for c in range(shown)], min(shown, 4))
    elif values.ndim == 1:
        side = int(np.ceil(np.sqrt(values.size)))
        plane = np.full(side * side, np.nan)
        plane[: values.size] = values
        plane = plane.reshape(side, side)
        note.append("%d values in rows of %d" % (values.size, side))
    else:
        plane = values.reshape(values.shape[0], -1)
    step = max(-(-plane.shape[0] // PICTURE), -(-plane.shape[1] // PICTURE))
    if step > 1:
        plane = plane[::step, ::step]
        note.append("every %s row and column" % ("2nd" if step == 2 else "%dth" % step))
    low, high = grey_range(values)
    filled = np.where(np.isnan(plane), low, plane)
    result = picture(clean(filled), low, high)
    result.update(low=rounded(low), high=rounded(high))
    return result


def _nested(values):
    if values.ndim == 0:
        return rounded(values)
    return [_nested(part) for part in values]


def tensor(name, values, note=""):
    """One tensor as the walk prints it; values None: not computed (note says why)."""
    if values is None:
        return {"name": name, "shape": None, "values": None, "picture": None, "stats": None,
                "note": note}
    values = np.asarray(values, dtype=np.float64)
    notes = [note] if note else []
    finite = values[np.isfinite(values)]
    stats = None
    if finite.size:
        stats = {"min": rounded(finite.min()), "max": rounded(finite.max()),
                 "mean": rounded(finite.mean()), "norm": rounded(np.sqrt((finite ** 2).sum()))}
    small = values.size <= SMALL
    shown = _nested(values) if small else None
    image = None if small else _as_picture(values, notes)
    return {"name": name, "shape": [int(size) for size in values.shape], "values": shown,
            "picture": image, "stats": stats, "note": "; ".join(notes)}


# ------------------------------------------------------------------ formulas


def formulas(layer, activated):
    """(forward lines, backward lines) of a layer; a dense or conv2d layer that applies its
    activation shows both: Z = X·W + B, Y = f(Z), and backward dE/dZ first."""
    own = type(layer).FORMULAS
    forward, backward = list(own["forward"]), list(own["backward"])
    if activated:
        inner = type(layer.activation_layer).FORMULAS
        forward = ([line.replace("Y", "Z") for line in forward]
                   + [line.replace("X", "Z") for line in inner["forward"]])
        backward = ([line.replace("X", "Z") for line in inner["backward"]]
                    + [line.replace("Y", "Z") for line in backward])
    return forward, backward


PARAMETER_NAMES = ("W", "B")


def _parameter_name(position):
    return PARAMETER_NAMES[position] if position < len(PARAMETER_NAMES) else "P%d" % position


# ------------------------------------------------------------------ the walk


def walk(network, x, y, loss=None, entries=CHECK_ENTRIES, seed=0):
    """The steps of one forward and backward pass for sample (x, y), and the gradient check."""
    traced = trace(network, x, y, loss)
    steps = []
    called = [entry for entry in traced["layers"] if entry["forward_called"]]
    tail = traced["tail"]
    for position, entry in enumerate(called):
        layer = entry["layer"]
        fused_here = tail == "linear" and position == len(called) - 1
        activated = entry["Z"] is not None and not fused_here
        forward, _ = formulas(layer, activated)
        tensors = [tensor("X", entry["X"])]
        tensors += [tensor(_parameter_name(i), p) for i, p in enumerate(layer.params)]
        if activated:
            tensors.append(tensor("Z", entry["Z"]))
        note = ""
        name = "Y"
        if fused_here:
            name = "Z"
            note = "its %s is left to the loss (next step)" % layer.activation
            forward = [line.replace("Y", "Z") for line in forward]
        tensors.append(tensor(name, entry["Y"], note))
        steps.append(_step("forward", entry, forward, tensors))
    steps.append(_loss_step(traced, called))
    for position in range(len(called) - 1, -1, -1):
        entry = called[position]
        layer = entry["layer"]
        fused_here = tail == "linear" and position == len(called) - 1
        activated = entry["dZ"] is not None and not fused_here
        _, backward = formulas(layer, activated)
        if fused_here:
            backward = [line.replace("Y", "Z") for line in backward]
        tensors = [tensor("dE/dZ" if fused_here else "dE/dY", entry["dY"])]
        if activated:
            tensors.append(tensor("dE/dZ", entry["dZ"]))
        tensors += [tensor("dE/d" + _parameter_name(i), g) for i, g in enumerate(entry["grads"])]
        if entry["index"] == 0:
            tensors.append(tensor("dE/dX", None, "not computed: nothing comes before layer 1"))
        else:
            tensors.append(tensor("dE/dX", entry["dX"]))
        steps.append(_step("backward", entry, backward, tensors))
    return {"loss": traced["loss"], "value": rounded(traced["value"], 6),
            "fused": traced["fused"], "steps": steps,
            "check": check(traced, entries=entries, seed=seed)}


def _step(direction, entry, lines, tensors):
    layer = entry["layer"]
    return {"direction": direction, "layer": entry["index"] + 1, "type": layer.type,
            "title": title(entry["index"], layer), "formula": "\n".join(lines),
            "tensors": tensors}


def _loss_step(traced, called):
    loss, tail = traced["loss"], traced["tail"]
    last = called[-1]
    scores = last["Y"]
    tensors = []
    if tail:
        tensors.append(tensor("Z", scores))
        tensors.append(tensor("P", traced["P"]))
    else:
        tensors.append(tensor("Y", scores))
    target = traced["T"]
    if target.ndim == 1 and scores.ndim == 2 and scores.shape[1] > 1:  # a class label
        target = one_hot(target, scores.shape[1])
        note = "label %d, one-hot" % int(traced["T"][0])
    else:
        note = ""
    tensors.append(tensor("T", target, note))
    tensors.append(tensor("E", np.float64(traced["value"])))
    tensors.append(tensor("dE/dZ" if tail else "dE/dY", last["dY"]))
    lines = list(LOSS_FORMULAS.get(loss, ["E = loss(Y, T)", "dE/dY = loss'(Y, T)"]))
    if not tail and loss in ("cross_entropy", "binary_cross_entropy"):
        lines = [line.replace("Z", "Y") for line in lines]  # the loss applies it to Y itself
    if tail == "skip":
        fused_layer = len(traced["layers"])
        heading = "%d · %s + %s" % (fused_layer, traced["fused"], loss)
        lines.append("(layer %d's %s is fused into the loss: its backward is not called)"
                     % (fused_layer, traced["fused"]))
    elif tail == "linear":
        fused_layer = last["index"] + 1
        heading = "%s + %s" % (traced["fused"], loss)
        lines.append("(layer %d's %s activation is fused into the loss)"
                     % (fused_layer, traced["fused"]))
    else:
        fused_layer = None
        heading = loss
    return {"direction": "loss", "layer": fused_layer, "type": loss,
            "title": "loss · " + heading, "formula": "\n".join(lines), "tensors": tensors}


# ------------------------------------------------------------------ the gradient check


def _choose(gradient, count, rng):
    """Up to `count` flat indices of a gradient array: all when it is small enough, else
    random ones among the entries that are not negligible (|g| >= 1e-3 max |g|)."""
    size = gradient.size
    if size <= count:
        return list(range(size))
    magnitude = np.abs(gradient.reshape(-1))
    candidates = np.nonzero(magnitude >= 1e-3 * magnitude.max())[0] if magnitude.max() > 0 \
        else np.arange(size)
    if candidates.size <= count:
        return [int(i) for i in candidates]
    return sorted(int(i) for i in rng.choice(candidates, size=count, replace=False))


def _relative(a, b):
    """|a - b| / max(|a|, |b|), 0 when both are (nearly) 0."""
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 1e-12 else 0.0


def _compare(network, batch, target, parameter, where, analytic, centre, steps):
    """(numeric, relative error, kink?, h) for one weight entry: the central difference at
    each h of `steps` in turn until one agrees closely; else the best of them."""
    original = parameter[where]
    best = None
    for step in steps:
        parameter[where] = original + step
        plus = network.evaluate(batch, target)["loss"]
        parameter[where] = original - step
        minus = network.evaluate(batch, target)["loss"]
        parameter[where] = original
        numeric = (plus - minus) / (2 * step)
        # At a kink of relu or max within h (z = 0 exactly: a bias of 0 on a blank
        # background), E's slopes on the two sides differ, the central difference is their
        # mean and the analytic gradient is one of them: it may match either side.
        right, left = (plus - centre) / step, (centre - minus) / step
        kink = _relative(right, left) > KINK
        error = min(_relative(analytic, numeric), _relative(analytic, right),
                    _relative(analytic, left))
        if best is None or error < best[1]:
            best = (numeric, error, bool(kink), step)
        if error <= GOOD:
            break
    return best


def check(traced, entries=CHECK_ENTRIES, seed=0, steps=STEPS, tolerance=TOLERANCE):
    """dE/dW of loss_and_grads against central differences of the loss, in float64."""
    exact = _private(traced["network"], dtype="float64")
    batch = traced["x"].astype(np.float64)
    target = traced["y"] if traced["y"].dtype.kind in "iu" else traced["y"].astype(np.float64)
    centre, gradients = exact.loss_and_grads(batch, target)
    arrays = []  # (layer number, parameter name, live array, analytic gradient)
    position = 0
    for index, layer in enumerate(exact.layers):
        for i, parameter in enumerate(layer.params):
            arrays.append((index + 1, _parameter_name(i), parameter, gradients[position]))
            position += 1
    total = sum(parameter.size for _, _, parameter, _ in arrays)
    rng = np.random.default_rng(seed)
    per_array = total if total <= entries else max(1, -(-entries // max(len(arrays), 1)))
    results = []
    for number, name, parameter, gradient in arrays:
        for flat in _choose(gradient, per_array, rng):
            where = np.unravel_index(flat, parameter.shape)
            analytic = float(gradient[where])
            numeric, error, kink, used = _compare(exact, batch, target, parameter, where,
                                                 analytic, centre, steps)
            results.append({"layer": number, "parameter": name,
                            "index": [int(i) for i in where], "analytic": rounded(analytic, 6),
                            "numeric": rounded(numeric, 6), "relative_error": rounded(error, 3),
                            "kink": kink, "step": used})
    errors = [entry["relative_error"] for entry in results]
    if not results:
        return {"passed": None, "max_relative_error": None, "tolerance": tolerance,
                "entries": [], "checked": 0, "parameters": 0, "dtype": "float64",
                "text": "This network has no weights to check.",
                "sentence": "This network has no weights to check."}
    largest = None if None in errors else max(errors)
    passed = largest is not None and largest <= tolerance
    text = "%s: %d of %s weights, largest relative error %s (tolerance %g)" % (
        "passed" if passed else "FAILED", len(results), format(total, ","),
        "not finite" if largest is None else "%.2g" % largest, tolerance)
    sentence = "Gradient check %s%s" % (
        text, ", against central differences of the loss in float64." if passed
        else ": a backward pass is wrong.")
    return {"passed": passed, "max_relative_error": largest, "tolerance": tolerance,
            "entries": results, "checked": len(results), "parameters": int(total),
            "dtype": "float64", "steps": list(steps), "text": text, "sentence": sentence}
