"""An experiment: a layer stack plus everything that decides how it trains, as one plain dict.

    {"preset": "xor", "spec": {...}, "dataset": "xor", "train_size": 2000,
     "validation_split": 0.1, "points": 200, "noise": 0.1, "test_split": 0.5,
     "loss": "mse", "optimizer": "sgd", "options": {},
     "lr": 0.1, "batch_size": 1, "epochs": 1000, "seed": 0}

train_size and validation_split matter for MNIST only; points, noise and test_split for the
2-D point clouds only (circle, spiral, gaussians, moons, xor-cloud: tasks.plane_split); the
seed draws the digits or the points and the first weights.

Both hosts keep exactly this dict as their state (TensorFlow Playground's one State object):
every control reads and writes it, `check` validates it with a message naming the field, and
`encode` / `decode` turn it into the short URL-safe text that the app keeps in its query
parameters and the web page in its #hash, so an address is a share link.
"""
from __future__ import annotations

import base64
import binascii
import copy
import json
import zlib

from .. import losses, optimizers, tasks
from .. import spec as spec_module
from ..errors import SpecError

# What a person would try first with each preset. XOR: the articles' own recipe, SGD lr 0.1
# one sample at a time for 1000 epochs; MNIST learns in seconds with Adam.
PRESETS = {
    "xor": {"dataset": "xor", "loss": "mse", "optimizer": "sgd", "lr": 0.1,
            "batch_size": 1, "epochs": 1000},
    "mnist-mlp": {"dataset": "mnist", "loss": "cross_entropy", "optimizer": "adam", "lr": 0.001,
                  "batch_size": 32, "epochs": 5},
    "mnist-cnn": {"dataset": "mnist", "loss": "cross_entropy", "optimizer": "adam", "lr": 0.001,
                  "batch_size": 32, "epochs": 3},
    # the 2-D point clouds, TensorFlow Playground style: small tanh nets, Adam, batches of 10
    "circle": {"dataset": "circle", "loss": "binary_cross_entropy", "optimizer": "adam",
               "lr": 0.03, "batch_size": 10, "epochs": 100},
    "spiral": {"dataset": "spiral", "loss": "binary_cross_entropy", "optimizer": "adam",
               "lr": 0.03, "batch_size": 10, "epochs": 300, "points": 500},
}
PRESET_LABELS = {
    "xor": "XOR: 2-3-1 tanh (the articles' net)",
    "mnist-mlp": "MNIST MLP: 784-100-50-10 (the articles' net)",
    "mnist-cnn": "MNIST CNN: conv-pool-dense",
    "circle": "Circle: 2-4-1 tanh, sigmoid out",
    "spiral": "Two spirals: 2-8-8-1 tanh, sigmoid out",
}
DEFAULT_PRESET = "xor"
# Settings every preset shares: MNIST training digits, seed, held-out fraction; a 2-D
# problem's number of points, their noise and the fraction of them kept for testing.
SHARED = {"train_size": 2000, "seed": 0, "validation_split": 0.1,
          "points": 200, "noise": 0.1, "test_split": 0.5}
DATASETS = {"xor": "XOR (4 points)", "circle": "Circle", "spiral": "Two spirals",
            "gaussians": "Two gaussians", "moons": "Moons", "xor-cloud": "XOR (point cloud)",
            "mnist": "MNIST digits"}
# The data sets drawn from datasets.plane: they use points, noise and test_split.
PLANE_DATASETS = tuple(name for name in DATASETS if name in tasks.PLANE_NAMES)

LIMITS = {  # (smallest, largest) accepted value of each number
    "train_size": (tasks.SMALLEST_SUBSET, 10_000),
    "validation_split": (0.0, 0.5),
    "points": (50, 1_000),
    "noise": (0.0, 0.5),
    "test_split": (0.1, 0.9),
    "batch_size": (1, 10_000),
    "epochs": (1, 100_000),
    "seed": (0, 2**31 - 1),
}
ENCODED_LIMIT = 8_000  # characters of an encoded experiment we agree to read
DECODED_LIMIT = 64_000  # bytes of JSON it may inflate to
VERSION = "1"  # first field of the encoded text


class ExperimentError(ValueError):
    """A setting that cannot be used; `field` names it (e.g. "lr", "spec")."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def default_lr(optimizer: str) -> float:
    """The optimizer's own textbook learning rate (nncore.optimizers.DEFAULT_LR)."""
    table = getattr(optimizers, "DEFAULT_LR", {})
    return float(table.get(optimizer, 0.01))


def default(preset: str = DEFAULT_PRESET) -> dict:
    """A preset's stack and the training settings that suit it."""
    if preset not in PRESETS:
        raise ExperimentError("preset", "unknown preset %r; choose one of %s"
                              % (preset, ", ".join(PRESETS)))
    settings = dict(SHARED, **PRESETS[preset])
    settings["options"] = dict(optimizers.OPTIONS[settings["optimizer"]])
    settings["spec"] = copy.deepcopy(spec_module.PRESETS[preset])
    settings["preset"] = preset
    return settings


def _number(experiment, field, integer):
    value = experiment.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExperimentError(field, "%s must be a number, got %r" % (field, value))
    if integer and value != int(value):
        raise ExperimentError(field, "%s must be a whole number, got %r" % (field, value))
    low, high = LIMITS[field]
    if not low <= value <= high:
        raise ExperimentError(field, "%s must lie between %s and %s, got %r"
                              % (field, low, high, value))
    return int(value) if integer else float(value)


def check(experiment: dict) -> dict:
    """A validated, complete copy of `experiment`; missing settings come from its preset.

    Raises ExperimentError naming the first field that is wrong. The stack is checked
    layer by layer (a SpecError's message, 1-based layer numbers) and against the dataset,
    all without allocating a weight.
    """
    if not isinstance(experiment, dict):
        raise ExperimentError("experiment", "an experiment is an object of settings")
    preset = experiment.get("preset", DEFAULT_PRESET)
    if preset not in PRESETS:
        preset = DEFAULT_PRESET
    result = default(preset)
    unknown = sorted(set(experiment) - set(result))
    if unknown:
        raise ExperimentError(unknown[0], "unknown setting %s" % ", ".join(map(repr, unknown)))
    result.update(copy.deepcopy(experiment))
    if result["dataset"] not in DATASETS:
        raise ExperimentError("dataset", "unknown data set %r; choose one of %s"
                              % (result["dataset"], ", ".join(DATASETS)))
    if result["loss"] not in losses.LOSSES:
        raise ExperimentError("loss", "unknown loss %r; choose one of %s"
                              % (result["loss"], ", ".join(losses.LOSSES)))
    if result["optimizer"] not in optimizers.OPTIONS:
        raise ExperimentError("optimizer", "unknown optimizer %r; choose one of %s"
                              % (result["optimizer"], ", ".join(optimizers.OPTIONS)))
    for field in ("train_size", "batch_size", "epochs", "seed", "points"):
        result[field] = _number(result, field, integer=True)
    for field in ("validation_split", "noise", "test_split"):
        result[field] = _number(result, field, integer=False)
    lr = result.get("lr")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < 1e9:
        raise ExperimentError("lr", "the learning rate must be a positive number, got %r" % (lr,))
    result["lr"] = float(lr)
    result["options"] = _options(result["optimizer"], result.get("options"))
    _check_stack(result["spec"], result["dataset"])
    return result


def _options(optimizer, options):
    """The optimizer's options, defaults filled in; other optimizers' leftovers dropped."""
    allowed = optimizers.OPTIONS[optimizer]
    given = options if isinstance(options, dict) else {}
    result = {}
    for name, fallback in allowed.items():
        value = given.get(name, fallback)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExperimentError("options", "%s must be a number, got %r" % (name, value))
        result[name] = float(value)
    try:  # the optimizer's own checks (0 <= beta < 1, epsilon > 0, ...)
        optimizers.get(optimizer, lr=1.0, **result)
    except ValueError as error:
        raise ExperimentError("options", str(error)) from None
    return result


def _check_stack(spec, dataset):
    try:
        input_shape, layers = spec_module.parse(spec)
        shapes, _ = spec_module.infer_shapes(layers, input_shape)
    except SpecError as error:
        raise ExperimentError("spec", str(error)) from None
    try:
        tasks.check_fits(input_shape, shapes[-1], dataset)
    except tasks.DataMismatch as error:
        raise ExperimentError("spec", str(error)) from None


# ------------------------------------------------------------------ the URL form


def encode(experiment: dict) -> str:
    """A compact URL-safe text: "1." + base64url(zlib(JSON)) without padding."""
    text = json.dumps(experiment, separators=(",", ":"), sort_keys=True)
    packed = base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9))
    return VERSION + "." + packed.decode("ascii").rstrip("=")


def decode(text: str) -> dict:
    """The experiment a link carries, checked; ExperimentError("link", ...) when unreadable.

    Reading is bounded: at most ENCODED_LIMIT characters are read, and they may inflate to
    at most DECODED_LIMIT bytes of JSON, so a hostile link cannot exhaust memory.
    """
    if not isinstance(text, str) or len(text) > ENCODED_LIMIT:
        raise ExperimentError("link", "the link's experiment is too long to be one")
    version, _, body = text.strip().partition(".")
    if version != VERSION or not body:
        raise ExperimentError("link", "the link does not hold an nncore experiment")
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, DECODED_LIMIT)
        if inflater.unconsumed_tail:
            raise ExperimentError("link", "the link's experiment is too large")
        experiment = json.loads(raw.decode("utf-8"))
    except ExperimentError:
        raise
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError):
        raise ExperimentError(
            "link", "the link's experiment is damaged or incomplete") from None
    return check(experiment)


def _closest_preset(spec, dataset, current):
    """The preset a model's stack is closest to, so a host's preset choice names it: among
    the presets of its data set, one with the same layer types in the same order, else one
    that is convolutional when the stack is (or not), else the first; `current` when no
    preset uses that data set."""
    kinds = [layer.get("type") for layer in spec["layers"]]

    def likeness(name):
        preset_kinds = [layer.get("type") for layer in spec_module.PRESETS[name]["layers"]]
        return (preset_kinds == kinds, ("conv2d" in preset_kinds) == ("conv2d" in kinds))

    same_data = [name for name in PRESETS if PRESETS[name]["dataset"] == dataset]
    return max(same_data, key=likeness) if same_data else current  # max: the first best


def for_model(experiment: dict, network) -> dict:
    """`experiment` made to follow a model (an imported file, a pretrained net): its stack,
    the data set it fits, and the loss, optimizer and learning rate it was trained with.

    Returns the checked experiment; when the result cannot be trained as it stands (say the
    file's optimizer options are out of range), the stack is taken and the rest kept, and
    the experiment is returned unchecked, so that the host shows why.
    """
    result = copy.deepcopy(experiment)
    result["spec"] = network.to_spec()
    # the data set chosen so far when the model fits it (a 2-input net stays on the spiral)
    chosen = [experiment.get("dataset")] if experiment.get("dataset") in DATASETS else []
    for dataset in chosen + list(DATASETS):
        try:
            tasks.check_fits(network.input_shape, network.output_shape, dataset)
        except tasks.DataMismatch:
            continue
        result["dataset"] = dataset
        break
    result["preset"] = _closest_preset(result["spec"], result["dataset"], result.get("preset"))
    config = network.training_config or {}
    for key in ("loss", "optimizer", "lr", "options"):
        if config.get(key) is not None:
            result[key] = copy.deepcopy(config[key])
    try:
        return check(result)
    except ExperimentError:
        return result
