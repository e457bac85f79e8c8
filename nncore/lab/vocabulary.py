"""The layer vocabulary both builders are generated from: every registered layer type, its
options (default, kind, choices, label) and a line of help, as JSON-able data.

Nothing here is written twice: it is read from the layer classes (nncore.layers: OPTIONS,
REQUIRED, CHOICES, SIZES, help) each time it is asked, so a class registered at run time
shows up at once. The Streamlit app draws its builder from `describe()`; the web build
exports the same dict as JSON for the page.

An option's kind says which widget edits it:
    integer  a positive whole number (units, filters, stride, pool_size)
    number   a number (rate, alpha)
    choice   one of "choices"; null means none (activation, padding)
    size     an integer k (k x k) or a pair [h, w] (kernel_size)
"""
from __future__ import annotations

import copy

from ..layers import LAYER_CLASSES, activation_names


def label(option):
    """The short name a builder shows: kernel_size -> kernel, pool_size -> pool."""
    return option[: -len("_size")] if option.endswith("_size") else option


def kind(cls, option):
    """integer, number, choice or size (see the module docstring)."""
    if cls.choices(option) is not None:
        return "choice"
    if option in cls.SIZES:
        return "size"
    return "number" if isinstance(cls.OPTIONS[option], float) else "integer"


def describe_option(cls, option):
    entry = {
        "name": option,
        "label": label(option),
        "default": copy.deepcopy(cls.OPTIONS[option]),
        "kind": kind(cls, option),
        "required": option in cls.REQUIRED,
    }
    choices = cls.choices(option)
    if choices is not None:
        entry["choices"] = list(choices)
    return entry


def describe_layer(cls):
    return {
        "type": cls.type,
        "help": cls.help_text(),
        "options": [describe_option(cls, option) for option in cls.OPTIONS],
    }


def describe():
    """{"layers": [{"type", "help", "options": [{"name", "label", "default", "kind",
    "required", ("choices")}, ...]}, ...], "activations": [...]}, in display order."""
    return {
        "layers": [describe_layer(cls) for cls in LAYER_CLASSES.values()],
        "activations": list(activation_names()),
    }


def layer_types():
    """The registered layer types, in display order."""
    return list(LAYER_CLASSES)


def defaults(layer_type):
    """The options a new layer of this type starts with: {option: default}, a fresh copy."""
    if layer_type not in LAYER_CLASSES:
        raise KeyError("unknown layer type %r; choose one of %s"
                       % (layer_type, ", ".join(LAYER_CLASSES)))
    return copy.deepcopy(dict(LAYER_CLASSES[layer_type].OPTIONS))
