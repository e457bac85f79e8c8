"""The Streamlit app's Inside tab (the backprop walk) and the Draw tab's layer outputs,
driven in-process with streamlit.testing.v1.AppTest (as tests/test_app.py does)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from dependencies import require

require("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


def start() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    no_traceback(app)
    return app


def no_traceback(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def step_heading(app: AppTest) -> str:
    return [text for text in (str(m.value) for m in app.markdown) if text.startswith("**Step ")][0]


def test_next_and_back_walk_the_xor_network_to_its_first_layer():
    app = start()
    assert "Step 1 of 9 · Forward · 1 · dense" in step_heading(app)
    assert "Gradient check passed" in texts(app.markdown)
    assert "```text\nY = X · W + B\n```" in texts(app.markdown)
    app.button(key="inside_next").click().run()
    no_traceback(app)
    assert "Step 2 of 9 · Forward · 2 · tanh" in step_heading(app)
    app.button(key="inside_back").click().run()
    assert "Step 1 of 9" in step_heading(app)
    for _ in range(8):
        app.button(key="inside_next").click().run()
        no_traceback(app)
    assert "Step 9 of 9 · Backward · 1 · dense" in step_heading(app)
    assert app.button(key="inside_next").disabled
    assert "nothing comes before layer 1" in texts(app.markdown)
    app.selectbox(key="inside_point").set_value(3).run()  # another sample starts over
    assert "Step 1 of 9" in step_heading(app)
    assert "XOR point (1, 1)" in texts(app.markdown)


def test_the_walk_of_the_pretrained_cnn_reaches_its_first_conv_layer():
    app = start()
    app.radio(key="inside_model").set_value("mnist-cnn").run()
    no_traceback(app)
    assert "Step 1 of 25 · Forward · 1 · conv2d" in step_heading(app)
    assert "test digit #0, a 7" in texts(app.markdown)
    assert "Gradient check passed" in texts(app.markdown)
    for _ in range(24):
        app.button(key="inside_next").click().run()
    no_traceback(app)
    assert "Step 25 of 25 · Backward · 1 · conv2d" in step_heading(app)


def drawn_one() -> np.ndarray:
    """A 280 x 280 RGBA canvas with a thick vertical white stroke: a 1."""
    image = np.zeros((280, 280, 4), dtype=np.uint8)
    image[..., 3] = 255
    image[50:230, 130:150, :3] = 255
    return image


def test_the_draw_tab_shows_every_layer_of_the_pretrained_cnn(monkeypatch):
    app = start()
    draw = sys.modules["app.panels.draw"]  # the module the app's script imported
    monkeypatch.setattr(draw, "drawing_pad", lambda **_: drawn_one())  # the pad's drawing
    app.radio(key="draw_model").set_value("mnist-cnn").run()
    no_traceback(app)
    page = texts(app.markdown)
    assert "It reads **1**" in page
    assert "Inside the network" in page
    for title in ("1 · conv2d", "2 · relu", "3 · maxpool2d", "6 · maxpool2d", "13 · softmax"):
        assert f"**{title}**" in page
    assert "the first 16 of 24 channels" in page and "the first 16 of 48 channels" in page
    assert "7 · flatten: the first 128 of 1200 units" in texts(app.caption)


def test_feature_maps_of_every_size_share_one_tile_grid_with_a_gap():
    from app.images import framed
    from app.panels.inside import TILE_BOX, TILE_PIXELS, crisp

    tiles = []
    for size in (26, 13, 11, 5):  # the pretrained CNN's map sizes
        picture = {"width": size, "height": size, "pixels": [200] * (size * size)}
        tiles.append(framed(crisp(picture, TILE_PIXELS), TILE_BOX))
    for tile in tiles:
        assert tile.shape == (TILE_BOX, TILE_BOX, 4)
        opaque = np.argwhere(tile[..., 3] == 255)
        assert opaque.min() >= 2 and opaque.max() <= TILE_BOX - 3  # a clear edge all round
        assert (tile[..., 3] == 255).sum() >= 50 * 50  # and the map nearly fills it
        assert set(np.unique(tile[tile[..., 3] == 255][:, 0])) == {200}


def test_a_model_trained_on_a_2d_problem_walks_one_of_its_test_points():
    app = start()
    app.selectbox(key="preset_choice").select("circle").run()
    app.number_input(key="epochs").set_value(20).run()
    app.selectbox(key="speed").select("full speed").run()
    app.button(key="train_button").click().run()
    for _ in range(100):
        if app.session_state.session.status == "finished":
            break
        app.session_state["last_step"] = 0.0  # the live fragment's timer is due
        app.run()
    no_traceback(app)
    session = app.session_state.session
    assert session.status == "finished" and session.plane is not None
    field = app.number_input(key="inside_plane_point")
    assert field.label == "Test point number" and field.max == len(session.plane["x_test"]) - 1
    field.set_value(5).run()
    no_traceback(app)
    assert "Your model, as trained · Circle test point #5 (" in texts(app.markdown)
    assert "Gradient check passed" in texts(app.markdown)
