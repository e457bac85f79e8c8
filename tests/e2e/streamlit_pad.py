"""Drawing on the Streamlit app's pad (pad/pad.js, a components-v2 component in the page
itself, no iframe), shared by the Streamlit browser tests."""
from __future__ import annotations

import time


def draw_vertical_stroke(page) -> float:
    """Press, drag down the middle of the Draw tab's pad, release; returns the pen-up time."""
    canvas = page.get_by_role("tabpanel", name="Draw").locator("canvas.nncore-pad")
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    middle = box["x"] + box["width"] / 2
    page.mouse.move(middle, box["y"] + 0.2 * box["height"])
    page.mouse.down()
    page.mouse.move(middle, box["y"] + 0.8 * box["height"], steps=12)
    page.mouse.up()
    return time.perf_counter()
