"""Draw tab: draw a digit, see the 28x28 image the network reads, and its answer.

The tab is a Streamlit fragment: a stroke on the canvas reruns only this function, not the
whole app, which keeps the time from pen-up to answer short.
"""

from __future__ import annotations

import streamlit as st

from app import chart_view, resources, state
from app.images import enlarge
from app.pad import drawing_pad
from app.panels import inside
from nncore.lab.reading import read_drawing
from nncore.tasks import DataMismatch, check_fits

TRAINED = "trained"
CHOICE_LABELS = {**resources.PRETRAINED_LABELS, TRAINED: "Your model"}


def _choose_model():
    """The model that answers, or (None, reason) when the chosen one cannot."""
    choices = list(CHOICE_LABELS)
    # a digit network just trained here (finished or stopped) or uploaded: offer it, once
    # (nncore.lab's rule, as in the web page), whichever script run first sees it
    offer = state.session().drawing_offer()
    if offer is not None and st.session_state.get("drawing_offer") != offer:
        st.session_state.drawing_offer = offer
        st.session_state.draw_model = TRAINED
    st.radio("Model", choices, format_func=CHOICE_LABELS.get, key="draw_model",
             horizontal=True, help="A pretrained model works right away; 'Your model' is the "
                                   "one trained in the Train tab or uploaded in the Model tab.")
    choice = st.session_state.draw_model
    if choice == TRAINED:
        network = state.session().network
        if network is None:
            return None, ("There is no model of yours yet: train one on MNIST in the Train tab "
                          "or upload one in the Model tab, or pick a pretrained model.")
        try:
            check_fits(network.input_shape, network.output_shape, "mnist")
        except DataMismatch as mismatch:
            return None, f"Your model cannot read digits. {mismatch}"
        return network, None
    try:
        return resources.pretrained_model(choice), None
    except Exception as error:  # a missing or damaged shipped file: say so, never a traceback
        return None, f"The {CHOICE_LABELS[choice]} could not be loaded: {error}"


@st.fragment
def render() -> None:
    st.subheader("Draw a digit")
    st.session_state.setdefault("draw_model", "mnist-mlp")
    network, problem = _choose_model()
    left, right = st.columns([1, 1.3])
    with left:
        st.caption("Draw with the mouse, a pen or a finger; the network reads the digit as "
                   "soon as you lift the pen.")
        image = drawing_pad(key="pad")
    with right:
        if problem is not None:
            st.warning(problem)
            return
        # the 28x28 image, the probabilities, the answer or "not sure" (too little ink, low
        # probability) and every layer's output: nncore.lab.reading, as in the web page
        drawing = None if image is None else read_drawing(network, image)
        if drawing is None:
            st.info("Draw a digit from 0 to 9 in the box: the network reads it as soon "
                    "as you lift the pen.", icon=":material/draw:")
            return
        said = drawing["reading"]
        picture, answer = st.columns([1, 2])
        picture.image(enlarge(drawing["digit_image"], 4), caption="What the network sees (28×28)",
                      clamp=True)
        if said["sure"]:
            answer.markdown(f"### It reads **{said['digit']}**")
            answer.markdown(f"with {said['confidence']:.0%} confidence")
        else:
            answer.markdown("### Not sure")
            answer.markdown(said["message"])
        chart_view.show(st, "probabilities", probabilities=drawing["rows"]["probabilities"])
        inside.render_activations(drawing["views"], drawing["rows"]["strip"])
