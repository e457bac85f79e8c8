"""The drawing pad in Streamlit: pad/pad.js (the web page's pad, the same file) mounted as a
components-v2 custom component, with no iframe. At pen-up the page sends the drawing as a PNG
data URL (a few kB) and the Draw fragment reruns at once; Undo and Clear live on the pad."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

PAD_JS = Path(__file__).resolve().parent.parent / "pad" / "pad.js"
CSS = """
.nncore-pad-box { display: inline-flex; flex-direction: column; gap: 0.5rem; }
.nncore-pad { width: 280px; height: 280px; border: 1px solid var(--st-border-color, #ccc);
  border-radius: 0.5rem; cursor: crosshair; touch-action: none; background: #fff; }
.nncore-pad-actions { display: flex; gap: 0.5rem; }
.nncore-pad-actions button { font: inherit; padding: 0.25rem 0.75rem; cursor: pointer;
  border-radius: 0.5rem; border: 1px solid var(--st-border-color, #ccc);
  background: var(--st-secondary-background-color, #f0f2f6); color: var(--st-text-color, #000); }
"""
_component = st.components.v2.component("nncore_pad", js=PAD_JS.read_text(encoding="utf-8"),
                                        css=CSS)


def _ignore() -> None:
    """A state needs an on_<name>_change callback; the fragment's rerun does the work."""


def drawing_pad(key: str = "pad") -> np.ndarray | None:
    """Show the pad; the drawing as an (H, W, 4) uint8 RGBA array, or None before any ink."""
    try:  # the last drawing, so a pad mounted again (the tab rebuilt) shows it
        drawn = st.session_state[key]["drawing"]
    except (KeyError, TypeError):
        drawn = ""
    result = _component(key=key, data={"drawing": drawn or ""}, default={"drawing": ""},
                        on_drawing_change=_ignore, width="content")
    return decode(result.drawing)


def decode(data_url) -> np.ndarray | None:
    """A "data:image/png;base64,..." URL -> (H, W, 4) uint8 RGBA; None for "" or None."""
    if not data_url:
        return None
    encoded = data_url.split(",", 1)[1] if data_url.startswith("data:") else data_url
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as picture:
        return np.asarray(picture.convert("RGBA"))
