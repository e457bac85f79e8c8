"""What every session shares, loaded once per process: the MNIST subset and pretrained models."""

from __future__ import annotations

import numpy as np
import streamlit as st

from nncore import datasets, pretrained

PRETRAINED_LABELS = pretrained.LABELS


@st.cache_resource(show_spinner="Loading the MNIST digits…")
def mnist():
    """(x_train (10000, 28, 28) float32 in [0, 1], y_train, x_test, y_test)."""
    return datasets.load_mnist()


@st.cache_resource(show_spinner="Loading the MNIST digits…")
def mnist_uint8():
    """The digits as stored, (x_train, y_train, x_test, y_test) with uint8 pixels: what
    every training session shares (nncore.lab scales each batch it takes)."""
    return datasets.load_mnist_uint8()


@st.cache_resource(show_spinner=False)
def xor():
    """The four XOR points: x (4, 2), y (4, 1)."""
    x, y = datasets.xor()
    return np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)


@st.cache_resource(show_spinner="Loading the pretrained model…")
def pretrained_model(name: str):
    """A shipped network. Shared across sessions, so it is only ever used for predict()."""
    return pretrained.load(name)
