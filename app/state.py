"""Everything one browser session owns, kept in st.session_state.

Two people never share a model or a run: the layer stack, the trained network, the training
history and the evaluation all live here. Shared read-only things (data, pretrained weights)
live in app.resources instead.
"""

from __future__ import annotations

import copy
import itertools

import streamlit as st

from app import history
from nncore import spec as spec_module

# Training settings for each preset (what a person would try first), shared with the web page
PRESET_TRAINING = spec_module.TRAINING
PRESET_LABELS = {
    "xor": "XOR: 2-3-1 tanh (the articles' net)",
    "mnist-mlp": "MNIST MLP: 784-100-50-10 (the articles' net)",
    "mnist-cnn": "MNIST CNN: conv-pool-dense",
}
DEFAULT_PRESET = "xor"
TRAINING_DEFAULTS = spec_module.TRAINING_DEFAULTS

_layer_ids = itertools.count(1)


def with_ids(layers):
    """Give each layer a unique `uid`, so its widgets keep their identity when layers move."""
    return [dict(layer, uid=next(_layer_ids)) for layer in layers]


def current_spec() -> dict:
    """The stack being edited in Build, as a plain spec (no widget ids)."""
    layers = [{k: v for k, v in layer.items() if k != "uid"} for layer in st.session_state.layers]
    return {"input_shape": list(st.session_state.input_shape), "layers": layers}


def load_spec(spec: dict) -> None:
    """Replace the stack being edited (a preset or an uploaded model's spec)."""
    st.session_state.input_shape = [int(size) for size in spec["input_shape"]]
    st.session_state.layers = with_ids(copy.deepcopy(spec["layers"]))
    st.session_state.input_shape_text = ", ".join(str(s) for s in st.session_state.input_shape)


def load_preset(name: str) -> None:
    """A preset sets the stack and the training settings that suit it."""
    load_spec(spec_module.PRESETS[name])
    st.session_state.preset = name
    for key, value in PRESET_TRAINING[name].items():
        st.session_state[key] = value


def set_model(network, origin: str) -> None:
    """The session's current model (trained here or uploaded) and what was measured on it."""
    st.session_state.network = network
    st.session_state.network_origin = origin
    st.session_state.evaluation = None
    st.session_state.model_version += 1


def initialise() -> None:
    """Defaults for a new session; an existing session keeps its values."""
    state = st.session_state
    if "layers" not in state:
        load_preset(DEFAULT_PRESET)
    for key, value in TRAINING_DEFAULTS.items():
        state.setdefault(key, value)
    for key, value in PRESET_TRAINING[state.get("preset", DEFAULT_PRESET)].items():
        state.setdefault(key, value)
    state.setdefault("network", None)
    state.setdefault("network_origin", None)
    state.setdefault("evaluation", None)
    state.setdefault("model_version", 0)
    state.setdefault("run", None)
    state.setdefault("history", history.new())
    state.setdefault("train_requested", False)
    state.setdefault("canvas_generation", 0)
    state.setdefault("upload_message", None)
