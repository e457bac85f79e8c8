"""The Streamlit app, driven in-process with streamlit.testing.v1.AppTest.

Each test plays a person using the page: choose a preset, press Train, upload a file, and
checks what the page then shows (messages, tables, the session's model).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import nncore  # noqa: E402
from nncore import io, spec  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


def start() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def no_traceback(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]


def choose_preset(app: AppTest, name: str) -> AppTest:
    app.selectbox(key="preset_choice").select(name).run()
    no_traceback(app)
    return app


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    app.file_uploader(key="model_upload").upload(name, data, "application/octet-stream").run()
    no_traceback(app)
    return app


@pytest.mark.parametrize("preset", ["xor", "mnist-mlp", "mnist-cnn"])
def test_each_preset_builds_with_its_summary(preset):
    app = choose_preset(start(), preset)
    assert not app.error, texts(app.error)
    expected = nncore.Network.from_spec(spec.PRESETS[preset])
    summary = app.dataframe[0].value
    assert list(summary["parameters"]) == [row["parameters"] for row in expected.summary_rows()]
    assert f"Total: {expected.count_parameters():,} trainable parameters" in texts(app.markdown)
    assert app.session_state.dataset == ("xor" if preset == "xor" else "mnist")
    assert not app.button(key="train_button").disabled


def test_xor_trains_below_the_target_error_and_answers_right():
    app = start()
    app.button(key="train_button").click().run()
    no_traceback(app)
    run = app.session_state.run
    assert run["status"] == "done"
    assert run["loss"] < 0.01
    predictions = next(frame.value for frame in app.dataframe if "prediction" in frame.value)
    assert list(predictions["prediction"]) == list(predictions["target"]) == [0, 1, 1, 0]
    assert "the network has learned XOR" in texts(app.success)
    # the history the charts draw: one train point per epoch
    epochs = [row for row in app.session_state.history["epochs"] if row["series"] == "train"]
    assert len(epochs) == 1000


@pytest.mark.parametrize("preset", ["mnist-mlp", "mnist-cnn"])
def test_mnist_training_reports_test_accuracy_and_mistakes(preset):
    app = choose_preset(start(), preset)
    app.slider(key="train_size").set_value(500).run()
    app.number_input(key="epochs").set_value(1).run()
    app.button(key="train_button").click().run()
    no_traceback(app)
    assert app.session_state.run["status"] == "done"
    evaluation = app.session_state.evaluation
    assert evaluation["confusion"].sum() == 10_000
    assert 0.3 < evaluation["accuracy"] <= 1.0  # one epoch on 500 digits: well above chance (0.1)
    assert [metric.label for metric in app.metric] == ["Test accuracy"]
    assert app.metric[0].value == f"{evaluation['accuracy']:.2%}"
    assert "Misread digits" in texts(app.markdown)
    assert "What the first layer looks for" in texts(app.markdown)


def test_invalid_stack_names_the_layer_and_blocks_training():
    app = start()
    app.selectbox(key="new_layer_type").select("conv2d").run()
    app.button(key="add_layer").click().run()
    no_traceback(app)
    message = texts(app.error)
    assert "layer 5 (conv2d)" in message
    assert "This stack cannot be built" in message
    assert app.button(key="train_button").disabled


def test_diverging_run_stops_says_so_and_keeps_finite_weights():
    app = start()
    # without the output tanh, the XOR net's output is linear: lr 1e6 blows it up at once
    app.button(key=f"remove-{app.session_state.layers[3]['uid']}").click().run()
    app.number_input(key="lr").set_value(1e6).run()
    app.button(key="train_button").click().run()
    no_traceback(app)
    run = app.session_state.run
    assert run["status"] == "diverged"
    message = texts(app.error)
    assert "Training diverged" in message and "smaller learning rate" in message
    network = app.session_state.network
    assert all(np.isfinite(parameter).all() for parameter in network.parameters())


def test_upload_round_trip_keeps_weights_and_spec():
    original = nncore.Network.from_spec(spec.PRESETS["xor"], seed=7)
    original.compile(loss="mse", optimizer="sgd", lr=0.1)
    x, y = nncore.datasets.xor()
    original.fit(x, y, 50, batch_size=1)
    app = upload(start(), "mine.npz", io.to_bytes(original))
    assert "Loaded mine.npz" in texts(app.success)
    uploaded = app.session_state.network
    np.testing.assert_array_equal(uploaded.predict(x), original.predict(x))
    assert uploaded.to_spec() == original.to_spec()
    # the Build tab now edits the uploaded stack
    assert app.session_state.layers[0]["units"] == 3
    # and the download button serves the same model back
    downloaded = io.from_bytes(app.session_state.model_bytes[1])
    np.testing.assert_array_equal(downloaded.predict(x), original.predict(x))
    assert '"input_shape": [2]' in app.code[0].value


def test_corrupt_upload_gets_a_message_and_changes_nothing():
    app = upload(start(), "junk.npz", b"this is not a model file at all")
    message = texts(app.error)
    assert "junk.npz is not a model this app can open" in message
    assert app.session_state.network is None


def test_model_that_does_not_fit_the_dataset_is_explained():
    mnist_model = nncore.Network.from_spec(spec.PRESETS["mnist-mlp"])
    app = upload(start(), "digits.npz", io.to_bytes(mnist_model))
    app.radio(key="dataset").set_value("xor").run()
    no_traceback(app)
    message = texts(app.error)
    assert "does not fit the XOR dataset" in message
    assert "takes inputs of shape 784" in message
    assert app.button(key="train_button").disabled


def test_draw_tab_prompts_on_an_empty_canvas_and_refuses_a_model_that_cannot_read_digits():
    app = start()
    assert "Draw a digit from 0 to 9" in texts(app.info)
    app.radio(key="draw_model").set_value("trained").run()
    assert "There is no model of yours yet" in texts(app.warning)
    app.button(key="train_button").click().run()  # an XOR model: 2 inputs, 1 output
    no_traceback(app)
    assert "Your model cannot read digits" in texts(app.warning)


def test_an_impossible_optimizer_setting_is_a_message_not_a_traceback():
    app = start()
    app.selectbox(key="optimizer").set_value("adam").run()
    app.number_input(key="option-adam-beta_1").set_value(1.0).run()
    app.button(key="train_button").click().run()
    no_traceback(app)
    assert "beta_1 must lie in [0, 1)" in texts(app.error)


def test_cross_entropy_on_xor_is_refused_with_a_reason():
    app = start()
    app.selectbox(key="loss").set_value("cross_entropy").run()
    app.button(key="train_button").click().run()
    no_traceback(app)
    assert "at least 2 outputs" in texts(app.error)
