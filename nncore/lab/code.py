"""The experiment as code: a short script that reruns it in a terminal.

    as_python(experiment)   nncore's public API with the Session's seed, data and settings:
                            the same loss, epoch by epoch, as Train gives in either host
    as_pytorch(experiment)  the same stack in PyTorch, an approximation (its own initial
                            weights, channels-first images, torch.optim's update rules)
    run_note(session, experiment)
                            the session's final loss in full precision, when its last run
                            is what as_python reproduces: the number the script prints

Pure string building: the hosts show the text with a copy button. A stack or a setting that
cannot be written out raises ExperimentError naming the field, as `experiment.check` does.
"""
from __future__ import annotations

import json
import textwrap

from .. import spec as spec_module
from .. import tasks
from . import experiment as experiment_module
from .experiment import ExperimentError

WIDTH = 88  # the generated scripts' comment width


def _literal(value, indent=0):
    """A Python literal of a JSON-able value, strings in double quotes as in the spec."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (_literal(key), _literal(item))
                               for key, item in value.items()) + "}"
    raise ExperimentError("spec", "%r cannot be written as a Python literal" % (value,))


def _tuple(shape):
    """(2,) -> '(2,)', (28, 28, 1) -> '(28, 28, 1)'."""
    return "(%s,)" % shape[0] if len(shape) == 1 else repr(tuple(int(size) for size in shape))


def spec_literal(spec):
    """The spec as a Python dict literal, one layer per line."""
    layers = "".join("        %s,\n" % _literal(layer) for layer in spec["layers"])
    return ('{\n    "input_shape": %s,\n    "layers": [\n%s    ],\n}'
            % (_literal(spec["input_shape"]), layers))


def _plane(dataset):
    """A 2-D point cloud (circle, spiral, ...): drawn from points, noise, test_split, seed."""
    return dataset in getattr(tasks, "PLANE_NAMES", ())


def data_settings(experiment):
    """What the Session trains on: (tasks.training_data keyword arguments, validation split).

    Mirrors Session._training_data and Session._start: XOR is its four points; a 2-D point
    cloud its training points (`points` drawn with the seed and `noise`, the last
    `test_split` of them kept for testing); MNIST, and any other data set, `train_size`
    samples drawn with the seed. Only MNIST holds out the last `validation_split` of them
    (before shuffling) to validate on.
    """
    dataset = experiment["dataset"]
    if dataset == "xor":
        arguments = {}
    elif _plane(dataset):
        arguments = {key: experiment[key] for key in ("points", "noise", "test_split", "seed")}
    else:
        arguments = {"size": experiment["train_size"], "seed": experiment["seed"]}
    split = experiment["validation_split"] if dataset == "mnist" else 0.0
    return arguments, split


def _data_line(experiment, input_shape):
    arguments, _ = data_settings(experiment)
    parts = [json.dumps(experiment["dataset"]), input_shape]
    parts += ["%s=%r" % item for item in arguments.items()]
    return _call("x, y = tasks.training_data", parts)


def _data_comment(experiment, split):
    dataset = experiment["dataset"]
    name = experiment_module.DATASETS.get(dataset, dataset)
    if dataset == "xor":
        text = "# the four XOR points"
    elif _plane(dataset):
        text = ("# %s: %d points drawn with seed %d and noise %g; the last %g%% are the test\n"
                "# points, never trained on" % (name, experiment["points"], experiment["seed"],
                                                experiment["noise"],
                                                100 * experiment["test_split"]))
    else:
        text = ("# %d samples of %s drawn with seed %d (the bundled data, as the app's)"
                % (experiment["train_size"], name, experiment["seed"]))
    if split:
        text += ("\n# validation_split: the last %g%% of them held out, before any shuffling"
                 % (100 * split))
    return text


def _settings_lines(experiment):
    return ["Settings: %s loss, %s optimizer with lr %r,"
            % (experiment["loss"], experiment["optimizer"], experiment["lr"]),
            "batch size %d, %d epochs, seed %d."
            % (experiment["batch_size"], experiment["epochs"], experiment["seed"])]


def _call(prefix, arguments):
    """`prefix(a, b, ...)`, wrapped under its opening parenthesis past WIDTH characters."""
    lines, line = [], prefix + "("
    for number, argument in enumerate(arguments):
        piece = argument + (")" if number == len(arguments) - 1 else ",")
        if lines or line != prefix + "(":
            if len(line) + 1 + len(piece) > WIDTH:
                lines.append(line)
                line = " " * (len(prefix) + 1) + piece
                continue
            line += " "
        line += piece
    return "\n".join(lines + [line if arguments else prefix + "()"])


def _header(first_line, experiment, paragraphs):
    """The script's docstring: a first line, what it started from, then wrapped paragraphs."""
    label = experiment_module.PRESET_LABELS.get(experiment.get("preset"))
    lines = [first_line, ""]
    if label:
        lines.append("Started from the preset %s." % label)
    lines += _settings_lines(experiment)
    for paragraph in paragraphs:
        lines.append("")
        lines += paragraph if isinstance(paragraph, list) else textwrap.wrap(paragraph, WIDTH)
    return ['"""' + lines[0]] + lines[1:] + ['"""']


def as_python(experiment):
    """A runnable script on nncore's public API that reproduces the Session's run exactly:
    the same stack and seed, the same data and validation split, the same settings. It
    prints one line per epoch and then the final loss in full precision."""
    experiment = experiment_module.check(experiment)
    arguments, split = data_settings(experiment)
    compile_arguments = ["loss=%s" % json.dumps(experiment["loss"]),
                         "optimizer=%s" % json.dumps(experiment["optimizer"]),
                         "lr=%r" % experiment["lr"]]
    compile_arguments += ["%s=%r" % item for item in experiment["options"].items()]
    fit = ["x", "y", "epochs=%d" % experiment["epochs"],
           "batch_size=%d" % experiment["batch_size"]]
    if split:
        fit.append("validation_split=%r" % split)
    fit += ["seed=%d" % experiment["seed"], "verbose=True"]
    dataset = experiment_module.DATASETS.get(experiment["dataset"], experiment["dataset"])
    lines = _header("The experiment as an nncore script: %s." % dataset, experiment, [
        "The same run as Train in the app or the web page: the same stack, seed, data and "
        "settings give the same loss, epoch by epoch.",
        "Needs nncore (pip install -e <the repository>, or PYTHONPATH=<the repository>).",
    ]) + [
        "from nncore import Network, tasks",
        "",
        "spec = %s" % spec_literal(experiment["spec"]),
        "",
        "network = Network.from_spec(spec, seed=%d)" % experiment["seed"],
        _call("network.compile", compile_arguments),
        "print(network.summary())",
        "",
        _data_comment(experiment, split),
        _data_line(experiment, "network.input_shape"),
        _call("history = network.fit", fit),
        'print("final loss: %r" % history.history["loss"][-1])',
    ]
    if split:
        lines.append('print("final validation loss: %r" % history.history["val_loss"][-1])')
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ PyTorch

TORCH_ACTIVATIONS = {
    "relu": lambda layer: "nn.ReLU()",
    "leaky_relu": lambda layer: "nn.LeakyReLU(%r)" % layer.alpha,
    "sigmoid": lambda layer: "nn.Sigmoid()",
    "tanh": lambda layer: "nn.Tanh()",
    "softmax": lambda layer: "nn.Softmax(dim=1)",  # the class axis: (N, C) or (N, C, H, W)
}
TORCH_LOSSES = {
    "mse": "nn.MSELoss()",
    "cross_entropy": "nn.CrossEntropyLoss()",  # takes logits and class indices
    "binary_cross_entropy": "nn.BCEWithLogitsLoss()",  # takes logits
}
# nncore optimizer -> (torch.optim class, {nncore option: torch keyword}, fixed arguments)
TORCH_OPTIMIZERS = {
    "sgd": ("SGD", {}, []),
    "momentum": ("SGD", {"momentum": "momentum"}, []),
    "nesterov": ("SGD", {"momentum": "momentum"}, ["nesterov=True"]),
    "rmsprop": ("RMSprop", {"rho": "alpha", "epsilon": "eps"}, []),
    "adagrad": ("Adagrad", {"epsilon": "eps"}, []),
    "adadelta": ("Adadelta", {"rho": "rho", "epsilon": "eps"}, []),
    "adam": ("Adam", {"epsilon": "eps"}, []),
    "adamax": ("Adamax", {"epsilon": "eps"}, []),
}
TORCH_LAYERS = ("dense", "conv2d", "maxpool2d", "flatten", "dropout") + tuple(TORCH_ACTIVATIONS)


def _same_padding(size, kernel, stride):
    """'same' zero padding (before, after) of one axis: out = ceil(size / stride)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _torch_layer(layer, input_shape, skip_activation):
    """The nn modules of one nncore layer, as source text."""
    kind = layer.type
    if kind in TORCH_ACTIVATIONS:
        return [] if skip_activation else [TORCH_ACTIVATIONS[kind](layer)]
    if kind == "dense":
        modules = ["nn.Linear(%d, %d)" % (input_shape[0], layer.units)]
    elif kind == "conv2d":
        height, width, channels = input_shape
        (kh, kw), stride = layer.kernel_size, layer.stride
        kernel = "%d" % kh if kh == kw else "(%d, %d)" % (kh, kw)
        modules, padding = [], ""
        if layer.padding == "same" and stride == 1 and kh % 2 and kw % 2:
            padding = ', padding="same"'  # symmetric: PyTorch's own 'same'
        elif layer.padding == "same":
            top, bottom = _same_padding(height, kh, stride)
            left, right = _same_padding(width, kw, stride)
            if top or bottom or left or right:
                modules.append("nn.ZeroPad2d((%d, %d, %d, %d))" % (left, right, top, bottom))
        modules.append("nn.Conv2d(%d, %d, kernel_size=%s%s%s)"
                       % (channels, layer.filters, kernel,
                          ", stride=%d" % stride if stride != 1 else "", padding))
    elif kind == "maxpool2d":
        return ["nn.MaxPool2d(%d)" % layer.pool_size]
    elif kind == "flatten":
        return ["nn.Flatten()"]
    elif kind == "dropout":
        return ["nn.Dropout(p=%r)" % layer.rate]
    else:
        raise ExperimentError(
            "spec", "a %s layer has no PyTorch translation here; the PyTorch script knows "
            "%s" % (kind, ", ".join(TORCH_LAYERS)))
    if layer.activation and not skip_activation:
        if layer.activation not in TORCH_ACTIVATIONS:
            raise ExperimentError(
                "spec", "the %s activation has no PyTorch translation here; the PyTorch "
                "script knows %s" % (layer.activation, ", ".join(TORCH_ACTIVATIONS)))
        modules.append(TORCH_ACTIVATIONS[layer.activation](layer.activation_layer))
    return modules


def _describe(layer):
    options = ", ".join("%s=%s" % (key, _literal(value))
                        for key, value in layer.options().items() if value is not None)
    return "%s(%s)" % (layer.type, options) if options else layer.type


def _torch_model(experiment):
    """The nn.Sequential lines, one nncore layer per line, and a note on a fused tail."""
    input_shape, layers = spec_module.parse(experiment["spec"])
    shapes, _ = spec_module.infer_shapes(layers, input_shape)
    inputs = [tuple(input_shape)] + [tuple(shape) for shape in shapes[:-1]]
    # PyTorch's logit losses apply the softmax / sigmoid themselves, as nncore's fused ones do
    fused = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(
        experiment["loss"])
    last = layers[-1]
    tail = fused is not None and (last.type == fused or getattr(last, "activation", None)
                                  == fused)
    lines = []
    for number, (layer, shape) in enumerate(zip(layers, inputs), start=1):
        skip = tail and number == len(layers)
        modules = _torch_layer(layer, shape, skip)
        comment = "# %d. %s" % (number, _describe(layer))
        if skip:
            comment += " (the %s is inside %s)" % (fused, TORCH_LOSSES[experiment["loss"]])
        code = "".join(module + ", " for module in modules)
        lines.append("    " + (code + " " + comment if code else comment))
    return lines, len(input_shape) == 3


def as_pytorch(experiment):
    """The experiment's stack and training loop in PyTorch: an approximation, not the same
    run (see the script's header). Raises ExperimentError for a layer, loss or optimizer
    that has no translation."""
    experiment = experiment_module.check(experiment)
    if experiment["loss"] not in TORCH_LOSSES:
        raise ExperimentError("loss", "the %s loss has no PyTorch translation here"
                              % experiment["loss"])
    if experiment["optimizer"] not in TORCH_OPTIMIZERS:
        raise ExperimentError("optimizer", "the %s optimizer has no PyTorch translation here"
                              % experiment["optimizer"])
    model, images = _torch_model(experiment)
    arguments, split = data_settings(experiment)
    input_shape = tuple(experiment["spec"]["input_shape"])
    name, keywords, fixed = TORCH_OPTIMIZERS[experiment["optimizer"]]
    options = experiment["options"]
    optimizer = ["model.parameters()", "lr=%r" % experiment["lr"]]
    if "beta_1" in options:
        optimizer.append("betas=(%r, %r)" % (options["beta_1"], options["beta_2"]))
    optimizer += ["%s=%r" % (keywords[key], value)
                  for key, value in options.items() if key in keywords]
    optimizer += fixed
    dataset = experiment_module.DATASETS.get(experiment["dataset"], experiment["dataset"])
    differences = [
        "- initialisation: PyTorch draws its own initial weights (its default init, seeded",
        "  by torch.manual_seed), not nncore's seeded Glorot / He weights;",
        "- optimizer: torch.optim's update rule, with PyTorch's own defaults for everything",
        "  not set below; batches are shuffled by torch's generator.",
    ]
    if images:
        differences[2:2] = [
            "- layout: images are channels-first (N, C, H, W) where nncore is channels-last,",
            "  so a flatten after a convolution orders its values differently;",
        ]
    lines = _header("The experiment in PyTorch: %s. An APPROXIMATION, not the same run."
                    % dataset, experiment, [
                        ["What differs from nncore's run, so its loss curve will too:"]
                        + differences,
                        "The data comes from nncore (the same samples). Needs nncore and "
                        "torch (pip install torch).",
                    ]) + [
        "import torch",
        "from torch import nn",
        "",
        "from nncore import tasks",
        "",
        "torch.manual_seed(%d)" % experiment["seed"],
        "model = nn.Sequential(",
    ] + model + [
        ")",
        "loss_function = %s" % TORCH_LOSSES[experiment["loss"]],
        _call("optimizer = torch.optim.%s" % name, optimizer),
        "",
        _data_comment(experiment, split),
        _data_line(experiment, _tuple(input_shape)),
        "x = torch.from_numpy(x)" + (".permute(0, 3, 1, 2).contiguous()  # channels first"
                                     if images else ""),
        "y = torch.from_numpy(y)" + (".argmax(dim=1)  # class indices"
                                     if experiment["loss"] == "cross_entropy" else ""),
    ]
    if split:
        lines += [
            "split = int(len(x) * (1 - %r))" % split,
            "x, x_val, y, y_val = x[:split], x[split:], y[:split], y[split:]",
        ]
    lines += [
        "",
        "epochs, batch_size = %d, %d" % (experiment["epochs"], experiment["batch_size"]),
        "for epoch in range(1, epochs + 1):",
        "    model.train()",
        "    order, total = torch.randperm(len(x)), 0.0",
        "    for start in range(0, len(x), batch_size):",
        "        chosen = order[start:start + batch_size]",
        "        optimizer.zero_grad()",
        "        loss = loss_function(model(x[chosen]), y[chosen])",
        "        loss.backward()",
        "        optimizer.step()",
        "        total += loss.item() * len(chosen)",
        '    line = "epoch %d/%d  loss=%.6f" % (epoch, epochs, total / len(x))',
    ]
    if split:
        lines += [
            "    model.eval()",
            "    with torch.no_grad():",
            "        val_loss = loss_function(model(x_val), y_val).item()",
            '    line += "  val_loss=%.4f" % val_loss',
        ]
    lines += [
        "    print(line)",
        'print("final loss: %r" % (total / len(x)))',
    ]
    if split:
        lines.append('print("final validation loss: %r" % val_loss)')
    return "\n".join(lines) + "\n"


def run_note(session, experiment):
    """"Your last run: final loss 0.01234567891 after epoch 50. ..." when the session's last
    run is a whole, fresh run of `experiment` (Session.final_loss_of), else None. The loss
    has ten significant digits: enough to compare with the script's output to 1e-9."""
    final = session.final_loss_of(experiment)
    if final is None:
        return None
    return ("Your last run: final loss %.10g after epoch %d. The nncore script prints the "
            "same final loss." % final)
