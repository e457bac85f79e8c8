"""The experiment as code: the current experiment as a script to copy into a terminal.

Both texts come from nncore.lab.code (the web page shows the same ones through its worker):
the nncore script reproduces Train's run exactly; the PyTorch one is an approximation.
"""

from __future__ import annotations

import streamlit as st

from nncore.lab import ExperimentError, code


def _show(write, experiment: dict) -> None:
    try:
        text = write(experiment)
    except ExperimentError as error:
        st.info(f"This experiment cannot be written out yet: {error}")
        return
    st.code(text, language="python")


def render(experiment: dict, session) -> None:
    with st.expander("The experiment as code"):
        st.caption("The stack and settings in Build and Train, as a script (copy it with the "
                   "button at the code's top right). The nncore script gives the same loss, "
                   "epoch by epoch, as Train; the PyTorch one is an approximation.")
        python_tab, pytorch_tab = st.tabs(["nncore (Python)", "PyTorch (approximation)"])
        with python_tab:
            _show(code.as_python, experiment)
            note = code.run_note(session, experiment)
            if note:  # the last run's final loss, when this script reproduces that run
                st.caption(note)
        with pytorch_tab:
            _show(code.as_pytorch, experiment)
