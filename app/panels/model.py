"""Model tab: download the session's model as an nncore .npz, upload one, see its spec, and
the experiment as code (app.panels.code).

The file format is the library's (nncore.io): a model trained on the static web site opens
here and back. An upload becomes the session's model and its stack is loaded into Build.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app import state
from app.panels import code
from nncore import ModelFileError, io
from nncore.lab import ExperimentError
from nncore.lab import experiment as experiment_module
from nncore.tasks import DATASET_NAMES, DataMismatch, check_fits, describe_shape


def read_upload(name: str, data: bytes) -> None:
    """Open an uploaded file; on success it becomes the model, else a message says why not."""
    try:
        network = io.from_bytes(data)
    except ModelFileError as error:
        st.session_state.upload_message = ("error", f"{name} is not a model this app can "
                                                    f"open: {error}")
        return
    except Exception as error:  # anything else a foreign file provokes: a message, no traceback
        st.session_state.upload_message = ("error", f"{name} is not an nncore model file "
                                                    f"({type(error).__name__}: {error}).")
        return
    state.session().use_model(network, f"imported from {name}")
    _take_settings(network)
    st.session_state.upload_message = ("success", f"Loaded {name}: it is now your model, its "
                                                  f"stack is in the Build tab, and Continue in "
                                                  f"the Train tab trains it on.")


def _take_settings(network) -> None:
    """Build and Train follow the imported model: its stack, its dataset, its training setup."""
    settings = experiment_module.for_model(state.experiment(), network)
    try:
        settings = experiment_module.check(settings)
    except ExperimentError:
        state.load_spec(settings["spec"])  # the stack at least; the message shows in Train
        return
    state.apply_experiment(settings)


def spec_text(spec: dict) -> str:
    """The spec as JSON with one layer per line: short enough to read at a glance."""
    layers = ",\n".join("    " + json.dumps(layer) for layer in spec["layers"])
    return ('{\n  "input_shape": %s,\n  "layers": [\n%s\n  ]\n}'
            % (json.dumps(spec["input_shape"]), layers))


def _handle_upload() -> None:
    uploaded = st.session_state.get("model_upload")
    if uploaded is not None:
        read_upload(uploaded.name, uploaded.getvalue())


def _model_bytes(network) -> bytes:
    """The .npz bytes of the session's model, made once per model version."""
    cached = st.session_state.get("model_bytes")
    version = (id(network), state.session().version)
    if cached is None or cached[0] != version:
        cached = (version, io.to_bytes(network))
        st.session_state.model_bytes = cached
    return cached[1]


def _fit_message(network) -> None:
    dataset = st.session_state.dataset
    try:
        check_fits(network.input_shape, network.output_shape, dataset)
    except DataMismatch as mismatch:
        st.error(f"This model does not fit the {DATASET_NAMES[dataset]} dataset chosen in the "
                 f"Train tab. {mismatch}", icon=":material/warning:")


def render() -> None:
    st.subheader("Your model")
    st.file_uploader("Upload a model (.npz saved by nncore, this app or the web demo)",
                     type=["npz"], key="model_upload", on_change=_handle_upload)
    message = st.session_state.upload_message
    if message is not None:
        kind, text = message
        (st.error if kind == "error" else st.success)(text)

    session = state.session()
    if session.network is None:
        st.info("No model yet: train one in the Train tab or upload one above.")
    else:
        _show_model(session, session.network)
    code.render(state.experiment(), state.session())


def _show_model(session, network) -> None:
    origin = session.origin or ""
    st.markdown(f"Input {describe_shape(network.input_shape)} → output "
                f"{describe_shape(network.output_shape)}, "
                f"{network.count_parameters():,} parameters, {origin}.")
    _fit_message(network)
    st.download_button("Download the model (.npz)", data=_model_bytes(network),
                       file_name="nncore-model.npz", mime="application/octet-stream",
                       key="download_model")
    rows = network.summary_rows()
    st.dataframe(pd.DataFrame([{"layer": f"{row['index'] + 1}. {row['type']}",
                                "output shape": describe_shape(row["output_shape"]),
                                "parameters": row["parameters"]} for row in rows]),
                 hide_index=True, width="content")
    st.markdown("#### Spec")
    st.code(spec_text(network.to_spec()), language="json")
