"""Everything one browser session owns, kept in st.session_state.

The experiment (nncore.lab.experiment: the layer stack plus the training settings) is this
session's one state: the Build and Train widgets edit it, `experiment()` reads it back from
them, and the address bar keeps it as `?e=<encoded>`, so a link restores it. The session's
training run is an nncore.lab.Session, stepped by the Train tab's live fragment when the
server's trainer pool (app.trainers, one per process) gives this session a slot.
Shared read-only things (data, pretrained weights) live in app.resources instead.
"""

from __future__ import annotations

import copy
import itertools
import uuid

import streamlit as st

from app import resources, trainers
from nncore import optimizers
from nncore.lab import DEFAULT_SPEED, SPEEDS, ExperimentError, Session
from nncore.lab import experiment as experiment_module

PRESET_LABELS = experiment_module.PRESET_LABELS
DEFAULT_PRESET = experiment_module.DEFAULT_PRESET
QUERY_KEY = "e"  # ?e=<the encoded experiment>
# the training settings: widget key == experiment field
SETTINGS = ("dataset", "train_size", "validation_split", "points", "noise", "test_split", "seed",
            "loss", "optimizer", "lr", "batch_size", "epochs")

_layer_ids = itertools.count(1)


def with_ids(layers):
    """Give each layer a unique `uid`, so its widgets keep their identity when layers move."""
    return [dict(layer, uid=next(_layer_ids)) for layer in layers]


def current_spec() -> dict:
    """The stack being edited in Build, as a plain spec (no widget ids)."""
    layers = [{k: v for k, v in layer.items() if k != "uid"} for layer in st.session_state.layers]
    return {"input_shape": list(st.session_state.input_shape), "layers": layers}


def load_spec(spec: dict) -> None:
    """Replace the stack being edited (a preset, a link or an uploaded model's spec)."""
    st.session_state.input_shape = [int(size) for size in spec["input_shape"]]
    st.session_state.layers = with_ids(copy.deepcopy(spec["layers"]))
    st.session_state.input_shape_text = ", ".join(str(s) for s in st.session_state.input_shape)


def option_key(optimizer: str, option: str) -> str:
    return f"option-{optimizer}-{option}"


def optimizer_options() -> dict:
    name = st.session_state.optimizer
    return {option: float(st.session_state.get(option_key(name, option), default))
            for option, default in optimizers.OPTIONS[name].items()}


def experiment() -> dict:
    """The experiment the widgets show (not yet validated: see experiment_module.check)."""
    state = st.session_state
    result = {key: state[key] for key in SETTINGS}
    result.update(preset=state.preset, spec=current_spec(), options=optimizer_options())
    return result


def apply_experiment(settings: dict) -> None:
    """Set every widget from an experiment (a preset's defaults or a link's)."""
    state = st.session_state
    load_spec(settings["spec"])
    state.preset = settings["preset"]
    state.preset_choice = settings["preset"]
    for key in SETTINGS:
        state[key] = settings[key]
    for option, value in settings["options"].items():
        state[option_key(settings["optimizer"], option)] = float(value)


def load_preset(name: str) -> None:
    """A preset sets the stack and the training settings that suit it."""
    apply_experiment(experiment_module.default(name))


def session() -> Session:
    return st.session_state.session


@st.cache_resource(show_spinner=False)
def trainer_pool() -> trainers.TrainerPool:
    """The one pool of trainer slots every session of this server shares (NNCORE_TRAINERS)."""
    return trainers.TrainerPool(trainers.configured_slots())


def trainer_id() -> str:
    """This browser session's name in the trainer pool."""
    return st.session_state.trainer_id


def initialise() -> None:
    """Defaults for a new session (from the link when it carries an experiment)."""
    state = st.session_state
    if "session" not in state:
        state.speed = DEFAULT_SPEED
        state.link_notice = None
        text = st.query_params.get(QUERY_KEY)
        settings = experiment_module.default(DEFAULT_PRESET)
        if text:
            try:
                settings = experiment_module.decode(text)
            except ExperimentError as error:
                state.link_notice = f"{error} Showing the XOR preset instead."
        apply_experiment(settings)
        # last: a run interrupted before this line starts the whole initialisation again
        state.session = Session(mnist=resources.mnist_uint8)
    state.session.speed = SPEEDS.get(state.speed)
    state.setdefault("trainer_id", uuid.uuid4().hex)
    state.setdefault("train_message", None)
    state.setdefault("upload_message", None)


def keep_in_address_bar() -> None:
    """Write the experiment into the URL, so the address bar is always a share link."""
    try:
        text = experiment_module.encode(experiment_module.check(experiment()))
    except ExperimentError:
        return  # an invalid stack stays out of the link until it is fixed
    if st.query_params.get(QUERY_KEY) != text:
        st.query_params[QUERY_KEY] = text
