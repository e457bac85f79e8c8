"""A network as plain data: {"input_shape": [...], "layers": [{"type": ..., options}, ...]}.

The spec is what the layer panels edit, what a model file stores and what a URL can carry.
`parse` walks it shape by shape *before* anything is allocated, so a bad stack (or a
50-million-parameter one) is refused with a SpecError naming the layer, never a MemoryError.
Shapes and counts are Python ints (exact, even where NumPy's default int is 32 bits).
"""
from __future__ import annotations

import numpy as np

from .errors import SpecError
from .layers import LAYER_CLASSES, LAYER_OPTIONS, REQUIRED_OPTIONS  # noqa: F401

# LAYER_OPTIONS, type -> {option: default} (the options a layer of that type accepts, in
# display order), and REQUIRED_OPTIONS, type -> the options a spec must give, are here for
# importers: derived from the layer classes' OPTIONS and REQUIRED, and kept in step by
# layers.register(). Validation below reads the classes themselves.

MAX_PARAMETERS = 50_000_000

PRESETS = {
    # the articles' XOR network: 2-3-1 with tanh everywhere
    "xor": {
        "input_shape": [2],
        "layers": [
            {"type": "dense", "units": 3, "activation": None},
            {"type": "tanh"},
            {"type": "dense", "units": 1, "activation": None},
            {"type": "tanh"},
        ],
    },
    # the articles' MNIST network: 784-100-50-10 with tanh, softmax on top
    "mnist-mlp": {
        "input_shape": [784],
        "layers": [
            {"type": "dense", "units": 100, "activation": None},
            {"type": "tanh"},
            {"type": "dense", "units": 50, "activation": None},
            {"type": "tanh"},
            {"type": "dense", "units": 10, "activation": None},
            {"type": "softmax"},
        ],
    },
    # a small convolutional network that trains in seconds even in a browser
    "mnist-cnn": {
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
    # the 2-D circle: one hidden layer of 4 tanh units bends a line into a closed curve
    "circle": {
        "input_shape": [2],
        "layers": [
            {"type": "dense", "units": 4, "activation": None},
            {"type": "tanh"},
            {"type": "dense", "units": 1, "activation": None},
            {"type": "sigmoid"},
        ],
    },
    # two spirals: two hidden layers of 8 tanh units (TensorFlow Playground's hardest problem)
    "spiral": {
        "input_shape": [2],
        "layers": [
            {"type": "dense", "units": 8, "activation": None},
            {"type": "tanh"},
            {"type": "dense", "units": 8, "activation": None},
            {"type": "tanh"},
            {"type": "dense", "units": 1, "activation": None},
            {"type": "sigmoid"},
        ],
    },
}


def layer_from_dict(entry, index):
    """{"type": "dense", "units": 3} -> Dense(units=3); errors name the layer."""
    if not isinstance(entry, dict):
        raise SpecError("must be an object with a 'type', got %r" % (entry,), index)
    layer_type = entry.get("type")
    if not isinstance(layer_type, str) or layer_type not in LAYER_CLASSES:
        raise SpecError(
            "unknown layer type %r; choose one of %s" % (layer_type, ", ".join(LAYER_CLASSES)),
            index,
        )
    cls = LAYER_CLASSES[layer_type]
    options = {key: value for key, value in entry.items() if key != "type"}
    allowed = cls.OPTIONS
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise SpecError(
            "unknown option %s; its options are: %s"
            % (", ".join(repr(u) for u in unknown), ", ".join(allowed) or "none"),
            index,
            layer_type,
        )
    for name in cls.REQUIRED:
        if options.get(name) is None:
            raise SpecError("option '%s' is missing" % name, index, layer_type)
    try:
        return cls(**options)
    except SpecError as error:
        raise SpecError(error.message, index, layer_type) from None


def layer_to_dict(layer):
    entry = {"type": layer.type}
    entry.update(layer.options())
    return entry


def check_input_shape(input_shape):
    if (
        not isinstance(input_shape, (list, tuple))
        or len(input_shape) not in (1, 3)
        or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
                   for d in input_shape)
    ):
        raise SpecError(
            "'input_shape' must be [features] or [height, width, channels] of positive "
            "integers, got %r" % (input_shape,)
        )
    return tuple(int(d) for d in input_shape)


def infer_shapes(layers, input_shape, max_parameters=MAX_PARAMETERS):
    """Output shape of each layer and the total parameter count, or a SpecError."""
    shapes, total, shape = [], 0, input_shape
    for index, layer in enumerate(layers):
        try:
            # the output shape first: it checks the input's rank, which the count relies on
            output_shape = layer.compute_output_shape(shape)
            count = layer.count_parameters(shape)
            shape = output_shape
        except SpecError as error:
            raise SpecError(error.message, index, layer.type) from None
        if min(shape) < 1:
            raise SpecError("its output would be empty: shape %s" % (shape,), index, layer.type)
        total += count
        if total > max_parameters:
            raise SpecError(
                "the stack reaches %s parameters here, over the limit of %s"
                % (format(total, ","), format(max_parameters, ",")),
                index,
                layer.type,
            )
        shapes.append(shape)
    return shapes, total


def parameter_shapes(layers, input_shape):
    """The shapes of `Network.parameters()` for this stack, with nothing allocated (the
    stack must have passed `infer_shapes`)."""
    shapes, shape = [], tuple(input_shape)
    for layer in layers:
        shapes.extend(layer.parameter_shapes(shape))
        shape = layer.compute_output_shape(shape)
    return shapes


def parse(spec, max_parameters=MAX_PARAMETERS):
    """Validate a spec; returns (input_shape, layers) with nothing allocated yet."""
    if not isinstance(spec, dict):
        raise SpecError("a spec is an object with 'input_shape' and 'layers'")
    unknown = sorted(set(spec) - {"input_shape", "layers"})
    if unknown:
        raise SpecError("unknown key %s" % ", ".join(repr(u) for u in unknown))
    if "input_shape" not in spec:
        raise SpecError("'input_shape' is missing")
    input_shape = check_input_shape(spec["input_shape"])
    entries = spec.get("layers")
    if not isinstance(entries, (list, tuple)) or not entries:
        raise SpecError("'layers' must be a non-empty list")
    layers = [layer_from_dict(entry, index) for index, entry in enumerate(entries)]
    infer_shapes(layers, input_shape, max_parameters)
    return input_shape, layers
