"""Inside tab: backpropagation step by step for one sample (nncore.lab.backprop), and the
layer-by-layer outputs the Draw tab shows under its answer (nncore.lab.inside).

Both only draw what nncore.lab computed: pictures, rows for the "strip" chart, formulas.
"""

from __future__ import annotations

import textwrap

import numpy as np
import streamlit as st

from app import chart_view, resources, state
from app.images import enlarge, framed
from nncore.lab import backprop, inside

YOURS = "yours"
MODEL_LABELS = {YOURS: "Your model", **resources.PRETRAINED_LABELS}
TILE_PIXELS = 56  # a feature map is drawn about this wide (a whole multiple of its size)
TILE_BOX = 62  # ... centred in a square this wide: every layer's tiles on one grid, apart
PICTURE_PIXELS = 320  # a walk tensor's picture at most this wide
DIRECTION_WORDS = {"forward": "Forward", "loss": "Loss", "backward": "Backward"}
# a tensor's values wrap at this many characters, by the number of columns side by side, so
# a list of numbers fits its column at 1024 px (a phone stacks the columns, 40 fit there;
# a 30-character line overflows a third of the page by a few pixels)
VALUES_WIDTH = {1: 80, 2: 48, 3: 28}


def picture_array(picture: dict) -> np.ndarray:
    """A lab picture {width, height, pixels 0..255} as a (height, width) uint8 image."""
    return np.asarray(picture["pixels"], dtype=np.uint8).reshape(picture["height"],
                                                                 picture["width"])


def crisp(picture: dict, pixels: int) -> np.ndarray:
    """The picture enlarged (nearest neighbour) to about `pixels` wide, never shrunk."""
    image = picture_array(picture)
    return enlarge(image, max(1, pixels // max(image.shape[1], 1)))


# ------------------------------------------------------------------ the Draw tab's views


def render_activations(views, strip_rows) -> None:
    """Every layer's output for the drawn digit (inside.activations) and the rows of its
    strip chart (reading.read_drawing), under the answer."""
    st.markdown("#### Inside the network")
    st.caption("What each layer outputs for this digit. Feature maps: black 0, white the "
               "layer's largest value (grey 0 when it has negative values). At most "
               f"{inside.MAPS} maps and {inside.UNITS} units are shown per layer.")
    strips_drawn = False
    for view in views:
        shape = " × ".join(str(size) for size in view["shape"])
        note = f" · {view['note']}" if view["note"] else ""
        if view["kind"] == "maps":
            st.markdown(f"**{view['title']}** · {shape}{note}")
            st.image([framed(crisp(picture, TILE_PIXELS), TILE_BOX) for picture in view["maps"]])
        elif view["kind"] == "strip" and not strips_drawn:
            strips_drawn = True  # one chart holds every flat layer, in layer order
            chart_view.show(st, "strip", strip=strip_rows)
        elif view["kind"] == "probabilities":
            st.markdown(f"**{view['title']}** · {shape}{note}")
    notes = [f"{view['title']}: {view['note']}" for view in views
             if view["kind"] == "strip" and view["note"]]
    if notes:
        st.caption("Strips: " + "; ".join(notes) + ".")


# ------------------------------------------------------------------ the walk


def _network():
    """(network, words, identity) of the chosen model, or (None, reason, None); identity
    changes when the model does."""
    choice = st.session_state.inside_model
    if choice != YOURS:
        return resources.pretrained_model(choice), MODEL_LABELS[choice], choice
    session, experiment = state.session(), state.experiment()
    identity = (id(session.network) if session.network is not None
                else repr((experiment["spec"], experiment["seed"])))
    try:
        network, words = backprop.yours(session, experiment)
    except Exception as error:  # an invalid stack: the Build tab says which layer
        return None, f"The stack in the Build tab is not valid yet: {error}", None
    return network, words, identity


def _fingerprint(network) -> tuple:
    """Changes when the weights do: a walk is recomputed for a trained step."""
    return tuple(float(np.abs(p).sum()) for p in network.parameters())


def _sample_choice(dataset: str, chooser: dict):
    """The sample the walk takes: one of XOR's points, or a test point's or digit's number."""
    if dataset == "xor":
        st.selectbox(chooser["label"], [0, 1, 2, 3], key="inside_point", width=240,
                     format_func=lambda i: "%d: %s" % (i + 1, ("(0, 0)", "(0, 1)", "(1, 0)",
                                                               "(1, 1)")[i]))
        return st.session_state.inside_point
    key = "inside_digit" if dataset == "mnist" else "inside_plane_point"
    st.session_state.setdefault(key, 0)
    if st.session_state[key] > chooser["count"] - 1:  # a smaller problem since
        st.session_state[key] = chooser["count"] - 1
    st.number_input(chooser["label"], min_value=0, max_value=chooser["count"] - 1, step=1,
                    key=key, width=240)
    return int(st.session_state[key])


def _block(text: str) -> str:
    """Monospaced text as a markdown code block (st.code blocks are the Model tab's spec)."""
    return "```text\n" + text + "\n```"


def _move(delta: int, count: int) -> None:
    st.session_state.inside_step = min(max(st.session_state.inside_step + delta, 0), count - 1)


def _show_tensor(column, item: dict, width: int) -> None:
    if item["shape"] is None:
        column.markdown(f"**{item['name']}** — {item['note']}")
        return
    shape = " × ".join(str(size) for size in item["shape"]) or "scalar"
    column.markdown(f"**{item['name']}** · {shape}")
    if item["values"] is not None:
        column.markdown(_block(textwrap.fill(repr(item["values"]), width)))
    if item["picture"] is not None:
        column.image(crisp(item["picture"], PICTURE_PIXELS),
                     caption=f"black {item['picture']['low']:.3g}, white "
                             f"{item['picture']['high']:.3g}")
    stats = item["stats"]
    if stats is not None:
        column.caption(f"min {stats['min']:.4g} · max {stats['max']:.4g} · mean "
                       f"{stats['mean']:.4g} · norm {stats['norm']:.4g}"
                       + (f" · {item['note']}" if item["note"] else ""))


@st.fragment
def render() -> None:
    st.subheader("Backpropagation, step by step")
    st.caption("One sample through the network: each layer's forward pass (X → Y), the loss, "
               "then the backward pass from the last layer to the first (dE/dY → dE/dX, and "
               "dE/dW, dE/dB for the weights), with the formula each layer uses and its "
               "numbers, all from one call of Network.loss_and_grads.")
    st.session_state.setdefault("inside_model", YOURS)
    st.session_state.setdefault("inside_point", 0)
    st.session_state.setdefault("inside_step", 0)
    st.radio("Model", list(MODEL_LABELS), format_func=MODEL_LABELS.get, key="inside_model",
             horizontal=True)
    network, words, identity = _network()
    if network is None:
        st.warning(words)
        return
    session = state.session()
    # your model, trained on a 2-D problem: walk one of that problem's test points
    plane = session.plane if network is session.network else None
    dataset = backprop.dataset_for(network, plane)
    if dataset is None:
        st.warning(backprop.unwalkable(network))
        return
    index = _sample_choice(dataset, backprop.chooser(dataset, plane, mnist=resources.mnist()))
    key = (identity, dataset, id(plane), index, _fingerprint(network))
    if st.session_state.get("inside_key") != key:
        try:
            x, y, sample_words = backprop.sample(network, dataset, index,
                                                 mnist=resources.mnist(), plane=plane)
            walked = backprop.walk(network, x, y)
        except Exception as error:  # e.g. a loss that does not fit this model's outputs
            st.error(f"The walk could not be made for this model: {error}")
            return
        st.session_state.inside_walk = dict(walked, sample=sample_words,
                                            headline=backprop.headline(words, walked,
                                                                       sample_words))
        st.session_state.inside_key = key
        st.session_state.inside_step = 0
    walked = st.session_state.inside_walk
    steps = walked["steps"]
    check = walked["check"]
    st.markdown(walked["headline"])
    if check["passed"]:
        # markdown, not st.success: the success box is the Train tab's verdict
        st.markdown(":green[:material/check_circle:] " + check["sentence"])
    elif check["passed"] is None:
        st.info(check["sentence"])
    else:
        st.error(check["sentence"], icon=":material/error:")
    position = st.session_state.inside_step
    back, label, forward = st.columns([1, 4, 1], vertical_alignment="center")
    back.button("Back", key="inside_back", on_click=_move, args=(-1, len(steps)),
                disabled=position == 0, width="stretch")
    forward.button("Next", key="inside_next", on_click=_move, args=(1, len(steps)),
                   disabled=position == len(steps) - 1, width="stretch")
    step = steps[position]
    label.markdown(f"**Step {position + 1} of {len(steps)} · "
                   f"{DIRECTION_WORDS[step['direction']]} · {step['title']}**",
                   text_alignment="center")
    st.markdown(_block(step["formula"]))
    columns = st.columns(min(len(step["tensors"]), 3))
    for number, item in enumerate(step["tensors"]):
        _show_tensor(columns[number % len(columns)], item, VALUES_WIDTH[len(columns)])
    with st.expander("The gradient check, entry by entry"):
        st.dataframe(check["entries"], width="stretch")
