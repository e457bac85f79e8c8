"""Build tab: the layer stack. Presets, add / remove / reorder, options, live validation.

The stack is a spec (plain dict) in st.session_state; every edit rebuilds it and
`Network.from_spec` validates it. A SpecError names a layer: its message is shown inside
that layer's box, the rest of the stack stays editable.

The layer types, their options (widget by kind, choices, labels, defaults) and help text come
from `nncore.lab.vocabulary.describe()`, read on every run: nothing about a layer is written
here, so a newly registered layer class appears in this builder as it is.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app import state
from nncore import Network, SpecError
from nncore.lab import vocabulary
from nncore.tasks import describe_shape

NO_CHOICE = "none"  # how a choice of None (no activation) is shown


def layer_vocabulary() -> dict:
    """type -> its vocabulary entry ({"type", "help", "options": [...]}), in display order."""
    return {entry["type"]: entry for entry in vocabulary.describe()["layers"]}


def _shown(value) -> str:
    return NO_CHOICE if value is None else value


def validate(spec: dict):
    """(network, None) for a valid spec, (None, SpecError) otherwise; cached per spec text."""
    text = json.dumps(spec, sort_keys=True)
    cached = st.session_state.get("validated")
    if cached is not None and cached[0] == text:
        return cached[1], cached[2]
    try:
        network, error = Network.from_spec(spec), None
    except SpecError as caught:
        network, error = None, caught
    except (TypeError, ValueError) as caught:  # a value no widget should produce; say it plainly
        network, error = None, SpecError(str(caught))
    st.session_state.validated = (text, network, error)
    return network, error


# ----------------------------------------------------------------------------- callbacks


def _choose_preset() -> None:
    state.load_preset(st.session_state.preset_choice)


def _set_option(uid: int, option: dict, key: str) -> None:
    value = st.session_state[key]
    if option["kind"] == "choice":
        # the value whose label was picked: "none" is None
        value = next((choice for choice in option["choices"] if _shown(choice) == value), value)
    if option["kind"] == "size" and isinstance(value, str):
        value = _parse_sizes(value, fallback=value)
        value = value[0] if isinstance(value, list) and len(value) == 1 else value
    for layer in st.session_state.layers:
        if layer["uid"] == uid:
            layer[option["name"]] = value


def _move(position: int, step: int) -> None:
    layers = st.session_state.layers
    target = position + step
    if 0 <= target < len(layers):
        layers[position], layers[target] = layers[target], layers[position]


def _remove(position: int) -> None:
    del st.session_state.layers[position]


def _add_layer() -> None:
    layer_type = st.session_state.new_layer_type
    entry = {"type": layer_type, **vocabulary.defaults(layer_type)}
    st.session_state.layers.extend(state.with_ids([entry]))


def _set_input_shape() -> None:
    sizes = _parse_sizes(st.session_state.input_shape_text, fallback=None)
    st.session_state.input_shape_error = None
    if sizes is None:
        st.session_state.input_shape_error = (
            "The input shape is a list of positive whole numbers: 2, 784 or 28, 28, 1."
        )
    else:
        st.session_state.input_shape = sizes


def _parse_sizes(text: str, fallback):
    """'28, 28, 1' -> [28, 28, 1]; anything else -> fallback."""
    try:
        sizes = [int(part) for part in text.replace("×", ",").replace("x", ",").split(",")
                 if part.strip()]
    except ValueError:
        return fallback
    return sizes if sizes and all(size > 0 for size in sizes) else fallback


# ----------------------------------------------------------------------------- widgets


OPTION_WIDTH = 150  # px: a number input keeps its -/+ buttons above 120 px


def _option_widget(layer: dict, option: dict) -> None:
    """One option's widget, chosen by its kind: integer, number, choice or size."""
    uid, name, kind = layer["uid"], option["name"], option["kind"]
    key = f"layer-{uid}-{name}"
    value = layer.get(name, option["default"])
    label = option["label"]
    arguments = {"key": key, "on_change": _set_option, "args": (uid, option, key),
                 "width": OPTION_WIDTH}
    if kind == "choice":
        choices = [_shown(choice) for choice in option["choices"]]
        shown = _shown(value)
        index = choices.index(shown) if shown in choices else 0
        st.selectbox(label, choices, index=index, **arguments)
    elif kind == "size":
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        st.text_input(label, value=text, help="k for k × k, or h, w", **arguments)
    elif kind == "number":
        st.number_input(label, value=float(value), min_value=0.0, step=0.05,
                        format="%g", **arguments)
    else:
        st.number_input(label, value=int(value), min_value=1, step=1, **arguments)


def _layer_row(position: int, layer: dict, count: int, error, output_shape,
               layers: dict) -> None:
    """A layer's box: its number, type and output shape with the move / remove buttons on
    the right, then its options in a row of fixed-width widgets that wraps on a narrow
    screen (a grid of columns would squeeze them, and the buttons, to nothing)."""
    with st.container(border=True):
        entry = layers.get(layer["type"], {"help": "", "options": []})
        uid = layer["uid"]
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            shape = f" → {describe_shape(output_shape)}" if output_shape else ""
            st.markdown(f"**{position + 1}. {layer['type']}**{shape}",
                        help=entry["help"] or None, width="stretch")
            st.button("", icon=":material/arrow_upward:", key=f"up-{uid}", on_click=_move,
                      args=(position, -1), disabled=position == 0, help="Move up",
                      type="tertiary")
            st.button("", icon=":material/arrow_downward:", key=f"down-{uid}", on_click=_move,
                      args=(position, 1), disabled=position == count - 1, help="Move down",
                      type="tertiary")
            st.button("", icon=":material/close:", key=f"remove-{uid}", on_click=_remove,
                      args=(position,), help="Remove this layer", type="tertiary")
        if entry["options"]:
            with st.container(horizontal=True, gap="small"):
                for option in entry["options"]:
                    _option_widget(layer, option)
        if error is not None and error.index == position:
            st.error(error.message, icon=":material/warning:")


def diagram(spec: dict, rows, error) -> str:
    """The stack as a Graphviz DOT chain: input -> layer -> ... with each output shape."""
    lines = ['digraph stack {', 'rankdir=LR; node [shape=box, style="rounded,filled", '
             'fillcolor="#eef3fb", fontname="Helvetica", fontsize=11]; edge [color="#888"];',
             f'input [label="input\\n{describe_shape(spec["input_shape"])}", fillcolor="#dde7f5"];']
    previous = "input"
    for index, layer in enumerate(spec["layers"]):
        details = [f"{k}={v}" for k, v in layer.items() if k != "type" and v is not None]
        label = layer["type"] + ("\\n" + ", ".join(details) if details else "")
        if rows is not None:
            label += f"\\n→ {describe_shape(rows[index]['output_shape'])}"
        color = ', fillcolor="#fbe0dc", color="#d33"' if (
            error is not None and error.index == index) else ""
        lines.append(f'layer{index} [label="{label}"{color}];')
        lines.append(f"{previous} -> layer{index};")
        previous = f"layer{index}"
    lines.append("}")
    return "\n".join(lines)


def render() -> None:
    st.subheader("Build the network")
    presets = list(state.PRESET_LABELS)
    top = st.columns([2, 1])
    top[0].selectbox(
        "Start from a preset", presets,
        format_func=state.PRESET_LABELS.get, key="preset_choice", on_change=_choose_preset,
        help="Loading a preset replaces the stack and sets the Train tab to suit it.",
    )
    top[1].text_input("Input shape", key="input_shape_text", on_change=_set_input_shape,
                      help="2 for XOR; 784 (flattened) or 28, 28, 1 (an image) for MNIST")
    if st.session_state.get("input_shape_error"):
        st.error(st.session_state.input_shape_error)

    spec = state.current_spec()
    network, error = validate(spec)
    rows = network.summary_rows() if network is not None else None
    if error is not None:
        where = f"layer {error.index + 1} ({spec['layers'][error.index]['type']})" if (
            error.index is not None and error.index < len(spec["layers"])) else "the stack"
        st.error(f"This stack cannot be built: {where}: {error.message}", icon=":material/warning:")

    described = layer_vocabulary()
    layers = st.session_state.layers
    for position, layer in enumerate(layers):
        output_shape = rows[position]["output_shape"] if rows else None
        _layer_row(position, layer, len(layers), error, output_shape, described)

    add = st.columns([2, 1, 3], vertical_alignment="bottom")
    add[0].selectbox(
        "New layer", list(described), key="new_layer_type",
        help="\n".join(f"- **{t}**: {entry['help']}" for t, entry in described.items()),
    )
    add[1].button("Add layer", on_click=_add_layer, key="add_layer")

    if rows is not None:
        st.markdown("#### Summary")
        table = pd.DataFrame(
            [{"layer": f"{row['index'] + 1}. {row['type']}",
              "output shape": describe_shape(row["output_shape"]),
              "parameters": row["parameters"]} for row in rows]
        )
        st.dataframe(table, hide_index=True, width="content")
        total = sum(row["parameters"] for row in rows)
        st.markdown(f"**Total: {total:,} trainable parameters**")
    st.markdown("#### Diagram")
    st.graphviz_chart(diagram(spec, rows, error))
