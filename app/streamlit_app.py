"""nncore in a web page: build a network, train it, watch it learn, draw digits for it.

Run with `streamlit run app` (Streamlit opens app/streamlit_app.py in a directory).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts app/ itself on sys.path; the repository root holds nncore and app.
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

from app import chart_view, state  # noqa: E402
from app.panels import build, draw, inside, model, train  # noqa: E402

st.set_page_config(page_title="nncore: a neural network from scratch", page_icon="🧠",
                   layout="wide")
state.initialise()

st.title("nncore")
st.caption("A neural network written from scratch in NumPy. Build a stack of layers, train it on "
           "XOR or MNIST and watch the error fall, then draw a digit for it to read.")

if st.session_state.link_notice:
    st.warning(st.session_state.link_notice, icon=":material/link_off:")

# The tabs track which one is open (a switch reruns the page), so the live view can skip
# redrawing charts nobody sees.
build_tab, train_tab, draw_tab, inside_tab, model_tab = st.tabs(
    ["Build", "Train", "Draw", "Inside", "Model"], key="tab", on_change="rerun")
with build_tab:
    build.render()
with train_tab:
    train.render()
with draw_tab:
    draw.render()
with inside_tab:
    inside.render()
with model_tab:
    model.render()

# Last, so every tab is on the page before a slice of training runs: the live view is a
# fragment that steps the session on a timer while a run is active.
with train_tab:
    train.live_view(train_tab.open)

state.keep_in_address_bar()

# Once per process, after the page is drawn: build the chart specs (about half a second of
# Altair work), so the first live chart of a training run does not wait for it.
chart_view.warm_up()
