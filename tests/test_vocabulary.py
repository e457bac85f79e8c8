"""One layer vocabulary, derived from the layer classes.

`nncore.lab.vocabulary.describe()` is what both builders are drawn from. These tests check
that it says what the classes say, that every default it offers builds, and the point of it
all: one new ActivationLayer class plus `register(...)` reaches spec validation, the
Streamlit builder and the web build's export with no other edit (tests/e2e/test_web.py
also opens a site built with it registered and finds it in the page's builder).
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
from new_activation import Softsign

import nncore
from nncore import layers, spec
from nncore.lab import vocabulary

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app" / "streamlit_app.py")

BUILT_IN = ["dense", "conv2d", "maxpool2d", "flatten", "dropout",
            "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
BUILT_IN_ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
# what the builders showed before the vocabulary existed, written out once more here
HELP = {
    "dense": "fully connected: y = x W + b",
    "conv2d": "2-D convolution over (height, width, channels)",
    "maxpool2d": "largest value in each pool",
    "flatten": "(h, w, c) -> (h·w·c)",
    "dropout": "zeroes inputs at random while training",
    "relu": "max(x, 0)",
    "leaky_relu": "x if x > 0 else αx",
    "sigmoid": "1 / (1 + e^-x)",
    "tanh": "tanh(x)",
    "softmax": "probabilities that sum to 1",
}
DEFAULTS = {
    "dense": {"units": 10, "activation": None},
    "conv2d": {"filters": 8, "kernel_size": 3, "stride": 1, "padding": "valid",
               "activation": None},
    "maxpool2d": {"pool_size": 2},
    "flatten": {},
    "dropout": {"rate": 0.5},
    "relu": {},
    "leaky_relu": {"alpha": 0.01},
    "sigmoid": {},
    "tanh": {},
    "softmax": {},
}
# an input each layer type accepts, to build it alone from its defaults
INPUT_SHAPES = {"dense": [4], "flatten": [6, 6, 2]}


def options_of(description, layer_type):
    entry = next(layer for layer in description["layers"] if layer["type"] == layer_type)
    return {option["name"]: option for option in entry["options"]}


# ----------------------------------------------------------------------------- the classes


def test_describe_lists_the_registered_types_in_display_order():
    description = vocabulary.describe()
    assert [layer["type"] for layer in description["layers"]] == BUILT_IN
    assert description["activations"] == BUILT_IN_ACTIVATIONS
    assert list(layers.activation_names()) == BUILT_IN_ACTIVATIONS
    assert json.loads(json.dumps(description)) == description  # JSON-able as it is


def test_describe_matches_the_classes():
    for entry in vocabulary.describe()["layers"]:
        cls = layers.LAYER_CLASSES[entry["type"]]
        assert entry["help"] == HELP[entry["type"]] == cls.help_text()
        assert [option["name"] for option in entry["options"]] == list(cls.OPTIONS)
        assert {option["name"]: option["default"] for option in entry["options"]} == (
            DEFAULTS[entry["type"]]) == vocabulary.defaults(entry["type"])
        for option in entry["options"]:
            assert option["required"] == (option["name"] in cls.REQUIRED)


def test_option_kinds_labels_and_choices():
    description = vocabulary.describe()
    dense, conv = options_of(description, "dense"), options_of(description, "conv2d")
    assert dense["units"] == {"name": "units", "label": "units", "default": 10,
                              "kind": "integer", "required": True}
    assert dense["activation"] == {"name": "activation", "label": "activation",
                                   "default": None, "kind": "choice", "required": False,
                                   "choices": [None] + BUILT_IN_ACTIVATIONS}
    assert conv["activation"]["choices"] == [None] + BUILT_IN_ACTIVATIONS
    assert conv["kernel_size"]["kind"] == "size" and conv["kernel_size"]["label"] == "kernel"
    assert conv["padding"]["kind"] == "choice"
    assert conv["padding"]["choices"] == ["valid", "same"]
    assert conv["filters"]["required"] and conv["stride"]["kind"] == "integer"
    assert options_of(description, "maxpool2d")["pool_size"]["label"] == "pool"
    assert options_of(description, "dropout")["rate"]["kind"] == "number"
    assert options_of(description, "leaky_relu")["alpha"]["kind"] == "number"


def test_spec_tables_are_derived_from_the_classes():
    assert spec.LAYER_OPTIONS == DEFAULTS
    assert list(spec.LAYER_OPTIONS) == BUILT_IN
    assert spec.REQUIRED_OPTIONS == {"dense": ("units",), "conv2d": ("filters",)}


@pytest.mark.parametrize("layer_type", BUILT_IN)
def test_a_default_that_is_not_required_is_the_constructors_default(layer_type):
    cls = layers.LAYER_CLASSES[layer_type]
    parameters = inspect.signature(cls).parameters
    for name, default in cls.OPTIONS.items():
        assert name in parameters, (layer_type, name)
        if name not in cls.REQUIRED:
            assert parameters[name].default == default, (layer_type, name)


@pytest.mark.parametrize("layer_type", BUILT_IN)
def test_every_vocabulary_default_builds_a_valid_layer(layer_type):
    entry = {"type": layer_type, **vocabulary.defaults(layer_type)}
    network = nncore.Network.from_spec(
        {"input_shape": INPUT_SHAPES.get(layer_type, [6, 6, 2]), "layers": [entry]})
    assert network.to_spec()["layers"] == [entry]


def test_every_choice_is_accepted_by_the_spec():
    for layer in vocabulary.describe()["layers"]:
        for option in layer["options"]:
            for choice in option.get("choices", ()):
                entry = {"type": layer["type"], **vocabulary.defaults(layer["type"]),
                         option["name"]: choice}
                nncore.Network.from_spec(
                    {"input_shape": INPUT_SHAPES.get(layer["type"], [6, 6, 2]),
                     "layers": [entry]})


def test_defaults_is_a_fresh_copy():
    options = vocabulary.defaults("dense")
    options["units"] = 99
    assert vocabulary.defaults("dense")["units"] == 10
    assert layers.Dense.OPTIONS["units"] == 10
    with pytest.raises(KeyError):
        vocabulary.defaults("no-such-layer")


def test_register_refuses_what_is_not_a_layer_class():
    with pytest.raises(TypeError):
        layers.register(object)
    with pytest.raises(ValueError):  # a type already taken by another class
        layers.register(type("OtherReLU", (layers.ActivationLayer,), {"type": "relu"}))
    with pytest.raises(ValueError):  # no type of its own
        layers.register(type("Untyped", (layers.ReLU,), {}))
    assert list(layers.LAYER_CLASSES) == BUILT_IN


# ----------------------------------------------------------------------------- one edit


@pytest.fixture
def softsign():
    """The one edit: a new ActivationLayer class, registered. Unregistered afterwards."""
    layers.register(Softsign)
    try:
        yield Softsign
    finally:
        layers.unregister("softsign")
    assert list(layers.LAYER_CLASSES) == BUILT_IN


def test_a_registered_activation_is_a_layer_and_an_activation_option_of_the_spec(softsign):
    network = nncore.Network.from_spec({
        "input_shape": [3],
        "layers": [{"type": "dense", "units": 4, "activation": "softsign"},
                   {"type": "softsign"},
                   {"type": "dense", "units": 2}],
    })
    assert isinstance(network.layers[1], Softsign)
    assert isinstance(network.layers[0].activation_layer, Softsign)
    x = np.linspace(-2, 2, 6).reshape(2, 3)
    assert np.all(np.abs(network.predict(x)) < 10)
    conv = nncore.Network.from_spec({"input_shape": [5, 5, 1], "layers": [
        {"type": "conv2d", "filters": 2, "activation": "softsign"}]})
    assert conv.to_spec()["layers"][0]["activation"] == "softsign"
    assert isinstance(layers.Activation("softsign"), Softsign)
    # what is derived follows the registry
    assert "softsign" in spec.LAYER_OPTIONS and spec.LAYER_OPTIONS["softsign"] == {}
    assert layers.ACTIVATIONS[-1] == "softsign"
    with pytest.raises(nncore.SpecError, match="softsign"):  # the error lists it too
        nncore.Network.from_spec({"input_shape": [3], "layers": [
            {"type": "dense", "units": 1, "activation": "swish"}]})


def test_a_registered_activation_trains(softsign):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3))
    network = nncore.Network.from_spec({"input_shape": [3], "layers": [
        {"type": "dense", "units": 5, "activation": "softsign"},
        {"type": "dense", "units": 1}]})
    # the backward pass of the new class against a central difference
    layer = Softsign()
    layer.forward(x)
    grad = rng.normal(size=x.shape)
    h = 1e-6
    numeric = (layer.function(x + h) - layer.function(x - h)) / (2 * h) * grad
    np.testing.assert_allclose(layer.backward(grad), numeric, rtol=1e-5, atol=1e-8)
    network.compile(loss="mse", optimizer="sgd", lr=0.05)
    network.fit(x, x[:, :1], epochs=2, batch_size=4, verbose=False)


def test_a_registered_activation_is_in_the_vocabulary(softsign):
    description = vocabulary.describe()
    assert [layer["type"] for layer in description["layers"]] == BUILT_IN + ["softsign"]
    assert description["activations"] == BUILT_IN_ACTIVATIONS + ["softsign"]
    entry = description["layers"][-1]
    assert entry == {"type": "softsign", "options": [],
                     "help": "x / (1 + |x|): a tanh-like curve with polynomial tails."}
    for layer_type in ("dense", "conv2d"):
        assert "softsign" in options_of(description, layer_type)["activation"]["choices"]
    assert vocabulary.defaults("softsign") == {}


def test_a_registered_activation_is_in_the_web_export(softsign):
    from web import build

    config = build.site_config("pyodide/")
    # what web/build.py writes into config.json, read back as the page reads it
    exported = json.loads(json.dumps(config, sort_keys=True, default=build._plain))
    assert "vocabulary" in exported, sorted(exported)  # the page's builder reads it
    described = exported["vocabulary"]
    assert described == vocabulary.describe()
    assert [layer["type"] for layer in described["layers"]] == BUILT_IN + ["softsign"]
    assert described["activations"] == BUILT_IN_ACTIVATIONS + ["softsign"]
    for layer_type in ("dense", "conv2d"):
        assert options_of(described, layer_type)["activation"]["choices"] == (
            [None] + BUILT_IN_ACTIVATIONS + ["softsign"])


def test_a_registered_activation_is_in_the_streamlit_builder(softsign):
    from dependencies import require

    require("streamlit")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, [e.value for e in app.exception]
    new_layer = app.selectbox(key="new_layer_type")
    assert new_layer.options == BUILT_IN + ["softsign"]
    # the preset's first layer is a dense one: its activation offers the new class
    first = app.session_state.layers[0]
    assert first["type"] == "dense"
    activation = app.selectbox(key=f"layer-{first['uid']}-activation")
    assert activation.options == ["none"] + BUILT_IN_ACTIVATIONS + ["softsign"]
    # choosing it sets the spec's activation, and the stack is valid
    activation.select("softsign").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state.layers[0]["activation"] == "softsign"
    assert not app.error, [e.value for e in app.error]
    # a new softsign layer, added from "New layer"
    app.selectbox(key="new_layer_type").select("softsign").run()
    app.button(key="add_layer").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state.layers[-1]["type"] == "softsign"
    assert not app.error, [e.value for e in app.error]
