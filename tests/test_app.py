"""The Streamlit app, driven in-process with streamlit.testing.v1.AppTest.

Each test plays a person using the page: choose a preset, press Train, upload a file, and
checks what the page then shows (messages, tables, the session's model).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from dependencies import require
from lab_helpers import SAME_EVERYWHERE, assert_same_curve, cpython_run, same_everywhere

require("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import nncore  # noqa: E402
from nncore import io, spec  # noqa: E402
from nncore.lab import experiment  # noqa: E402

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


def train_to_end(app: AppTest, button: str = "train_button", limit: int = 400) -> AppTest:
    """Click a control, then rerun the page until the session's run is over.

    Each rerun is what the live fragment's timer does in a browser: one slice of training.
    """
    app.selectbox(key="speed").select("full speed").run()
    app.button(key=button).click().run()
    no_traceback(app)
    for _ in range(limit):
        if app.session_state.session.status not in ("running", "evaluating"):
            break
        app.session_state["last_step"] = 0.0  # the timer is due
        app.run()
        no_traceback(app)
    assert app.session_state.session.status not in ("running", "evaluating")
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
    app = train_to_end(start())
    session = app.session_state.session
    assert session.outcome == "done"
    assert session.curves.last["loss"] < 0.01
    answers = next(frame.value for frame in app.dataframe if "answer" in frame.value)
    assert list(answers["answer"]) == list(answers["target"]) == [0, 1, 1, 0]
    assert "Learned: 4 of 4 points right after 1000 epochs" in texts(app.success)
    assert session.curves.epoch_count == 1000


@pytest.mark.parametrize("preset", ["mnist-mlp", "mnist-cnn"])
def test_mnist_training_reports_test_accuracy_and_mistakes(preset):
    app = choose_preset(start(), preset)
    app.slider(key="train_size").set_value(500).run()
    app.number_input(key="epochs").set_value(1).run()
    app = train_to_end(app)
    session = app.session_state.session
    assert session.outcome == "done"
    evaluation = session.evaluation
    assert evaluation["confusion"].sum() == 10_000
    assert 0.3 < evaluation["accuracy"] <= 1.0  # one epoch on 500 digits: well above chance (0.1)
    assert [metric.label for metric in app.metric] == ["Test accuracy"]
    assert app.metric[0].value == f"{evaluation['accuracy']:.2%}"
    assert "Misread digits" in texts(app.markdown)
    assert "What the first layer looks for" in texts(app.markdown)
    # after training a digit network, Draw offers it first
    assert app.session_state.draw_model == "trained"


def test_draw_offers_a_stopped_digit_network_and_an_uploaded_one():
    app = choose_preset(start(), "mnist-mlp")
    app.slider(key="train_size").set_value(5000).run()
    app.number_input(key="epochs").set_value(500).run()  # minutes: Stop ends it
    app.selectbox(key="speed").select("full speed").run()
    app.button(key="train_button").click().run()
    app.session_state["last_step"] = 0.0
    app.run()  # one slice of training
    assert app.session_state.session.status == "running"
    app.radio(key="draw_model").set_value("mnist-cnn").run()
    app.button(key="stop_button").click().run()  # Stop's own rerun sees the run end
    no_traceback(app)
    assert app.session_state.session.outcome == "stopped"
    assert app.session_state.draw_model == "trained"
    # offered once: a person who picks another model keeps it
    app.radio(key="draw_model").set_value("mnist-cnn").run()
    app.run()
    assert app.session_state.draw_model == "mnist-cnn"
    upload(app, "cnn.npz", io.to_bytes(nncore.pretrained.load("mnist-cnn")))
    assert app.session_state.draw_model == "trained"


def test_invalid_stack_names_the_layer_and_blocks_training():
    app = start()
    app.selectbox(key="new_layer_type").select("conv2d").run()
    app.button(key="add_layer").click().run()
    no_traceback(app)
    message = texts(app.error)
    assert "layer 5 (conv2d)" in message
    assert "This stack cannot be built" in message
    assert app.button(key="train_button").disabled


def test_diverging_run_says_so_and_keeps_finite_weights():
    app = start()
    # without the output tanh, the XOR net's output is linear: lr 1e6 blows it up at once
    app.button(key=f"remove-{app.session_state.layers[3]['uid']}").click().run()
    app.number_input(key="lr").set_value(1e6).run()
    app = train_to_end(app)
    session = app.session_state.session
    assert session.outcome == "diverged"
    message = texts(app.warning)
    assert "Training diverged" in message and "too large for sgd" in message
    assert not app.success
    assert all(np.isfinite(parameter).all() for parameter in session.network.parameters())


def test_a_run_that_did_not_learn_is_a_warning_not_a_success():
    app = start()
    app.number_input(key="lr").set_value(10.0).run()
    app = train_to_end(app)
    assert app.session_state.session.verdict["kind"] == "did_not_learn"
    message = texts(app.warning)
    assert "Did not learn" in message and "The learning rate 10 is too large for sgd: try 0.1" \
        in message
    assert not app.success


def test_pause_step_resume_and_continue_move_the_epoch_counter():
    app = start()
    app.number_input(key="epochs").set_value(20).run()
    app.selectbox(key="speed").select("full speed").run()
    app.button(key="step_button").click().run()  # no model yet: a fresh run, one epoch
    session = app.session_state.session
    for _ in range(20):
        if session.status == "paused":
            break
        app.session_state["last_step"] = 0.0
        app.run()
    assert session.status == "paused" and session.curves.epoch_count == 1
    app.session_state["last_step"] = 0.0
    app.run()
    assert session.curves.epoch_count == 1  # paused: reruns do not train
    time.sleep(0.35)  # a second Step within 0.3 s is taken for a replayed click
    app.button(key="step_button").click().run()
    for _ in range(20):
        if session.status == "paused":
            break
        app.session_state["last_step"] = 0.0
        app.run()
    assert session.curves.epoch_count == 2
    assert app.button(key="pause_button").label == "Resume"
    app.button(key="pause_button").click().run()
    # resumed, not paused any more (at full speed the rerun that resumes it may train the
    # last 18 XOR epochs at once); the reruns below train it to the end
    assert session.status in ("running", "finished")
    for _ in range(50):
        if session.status == "finished":
            break
        app.session_state["last_step"] = 0.0
        app.run()
    assert session.curves.epoch_count == 20
    app = train_to_end(app, "continue_button")
    assert session.curves.epoch_count == 40  # Continue goes on counting
    no_traceback(app)


def test_a_build_edit_during_a_run_does_not_end_it():
    app = start()
    app.selectbox(key="speed").select("10 epochs/s").run()
    app.button(key="train_button").click().run()
    session = app.session_state.session
    assert session.status == "running"
    app.selectbox(key="new_layer_type").select("dense").run()
    app.button(key="add_layer").click().run()
    no_traceback(app)
    assert session.status == "running"
    assert len(session.network.layers) == 4  # the run trains the stack it started with


def test_the_address_bar_holds_the_experiment_and_a_link_restores_it():
    app = choose_preset(start(), "mnist-cnn")
    app.number_input(key="lr").set_value(0.005).run()
    app.number_input(key="epochs").set_value(7).run()
    app.run()
    link = app.query_params["e"]
    link = link[0] if isinstance(link, list) else link
    fresh = AppTest.from_file(APP, default_timeout=120)
    fresh.query_params["e"] = link
    fresh.run()
    no_traceback(fresh)
    assert fresh.session_state.lr == 0.005 and fresh.session_state.epochs == 7
    assert fresh.session_state.layers[0]["type"] == "conv2d"
    assert fresh.session_state.dataset == "mnist"


def test_a_damaged_link_says_so_and_shows_the_xor_preset():
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["e"] = "1.not-really-an-experiment"
    app.run()
    no_traceback(app)
    assert "damaged or incomplete" in texts(app.warning)
    assert app.session_state.preset == "xor"


def test_upload_round_trip_keeps_weights_and_spec_and_continue_trains_it():
    original = nncore.Network.from_spec(spec.PRESETS["xor"], seed=7)
    original.compile(loss="mse", optimizer="sgd", lr=0.1)
    x, y = nncore.datasets.xor()
    original.fit(x, y, 50, batch_size=1, seed=0)  # a fixed shuffle: the same model every run
    app = upload(start(), "mine.npz", io.to_bytes(original))
    assert "Loaded mine.npz" in texts(app.success)
    uploaded = app.session_state.session.network
    np.testing.assert_array_equal(uploaded.predict(x), original.predict(x))
    assert uploaded.to_spec() == original.to_spec()
    # the Build tab now edits the uploaded stack
    assert app.session_state.layers[0]["units"] == 3
    # and the download button serves the same model back
    downloaded = io.from_bytes(app.session_state.model_bytes[1])
    np.testing.assert_array_equal(downloaded.predict(x), original.predict(x))
    assert '"input_shape": [2]' in app.code[0].value
    # Continue trains the uploaded weights on: its first epoch starts where they were
    before = float(np.mean((original.predict(x) - y) ** 2))
    app.number_input(key="epochs").set_value(5).run()
    app = train_to_end(app, "continue_button")
    session = app.session_state.session
    assert session.network is uploaded
    assert session.curves.first_loss < before * 1.5


def test_corrupt_upload_gets_a_message_and_changes_nothing():
    app = upload(start(), "junk.npz", b"this is not a model file at all")
    message = texts(app.error)
    assert "junk.npz is not a model this app can open" in message
    assert app.session_state.session.network is None


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
    assert app.session_state.lr == nncore.optimizers.DEFAULT_LR["adam"]  # its own default lr
    app.number_input(key="option-adam-beta_1").set_value(1.0).run()
    no_traceback(app)
    assert "beta_1 must lie in [0, 1)" in texts(app.error)
    assert app.button(key="train_button").disabled


def test_cross_entropy_on_xor_is_refused_with_a_reason():
    app = start()
    app.selectbox(key="loss").set_value("cross_entropy").run()
    app.button(key="train_button").click().run()
    no_traceback(app)
    assert "at least 2 outputs" in texts(app.error)


def test_the_app_trains_exactly_what_nncore_trains_in_a_script():
    """One session engine: the page's run of the experiment every host is held to
    (lab_helpers.SAME_EVERYWHERE; the web page's test runs it too) and nncore's in CPython."""
    app = choose_preset(start(), SAME_EVERYWHERE["preset"])
    app.slider(key="train_size").set_value(SAME_EVERYWHERE["train_size"]).run()
    app.number_input(key="epochs").set_value(SAME_EVERYWHERE["epochs"]).run()
    app = train_to_end(app)
    page = app.session_state.session
    assert {key: value for key, value in page.experiment.items() if key != "preset"} == {
        key: value for key, value in same_everywhere().items() if key != "preset"}
    reference, accuracy = cpython_run()
    assert_same_curve(page.rows()["loss"], reference)
    assert page.evaluation["samples"] == 10_000
    assert page.evaluation["accuracy"] == accuracy


def chart_titles(app: AppTest) -> list:
    """The titles of the Vega-Lite charts on the page (AppTest has no accessor for them)."""
    return [json.loads(chart.proto.spec).get("title") for chart in app.get("vega_lite_chart")]


def test_a_plane_problem_trains_and_shows_its_test_points_and_hidden_units():
    app = choose_preset(start(), "circle")
    assert app.session_state.dataset == "circle"
    app.radio(key="dataset").set_value("moons").run()
    no_traceback(app)
    # the point-cloud settings appear with a plane data set, the digit ones do not
    assert not [s for s in app.slider if s.key == "train_size"]
    app.number_input(key="points").set_value(300).run()
    app.slider(key="noise").set_value(0.2).run()
    app.slider(key="test_split").set_value(0.4).run()
    app = train_to_end(app)
    session = app.session_state.session
    assert session.outcome == "done"
    assert (session.experiment["dataset"], session.experiment["points"]) == ("moons", 300)
    assert session.experiment["noise"] == pytest.approx(0.2)
    assert session.evaluation["samples"] == 120  # 40% of 300 held out
    assert [metric.label for metric in app.metric] == ["Train accuracy", "Test accuracy"]
    assert app.metric[1].value == f"{session.evaluation['accuracy']:.1%}"
    assert "Learned:" in texts(app.success) and "test accuracy" in texts(app.success)
    titles = chart_titles(app)
    assert "Decision boundary" in titles and "Hidden units over the input square" in titles
    assert "What each hidden unit computes" in texts(app.markdown)
    # the link keeps the new settings
    link = app.query_params["e"]
    link = experiment.decode(link[0] if isinstance(link, list) else link)
    assert (link["dataset"], link["points"], link["test_split"]) == ("moons", 300, 0.4)


def test_xor_shows_its_hidden_units_too():
    app = train_to_end(start())
    assert "Hidden units over the input square" in chart_titles(app)


def test_an_uploaded_cnn_moves_the_build_preset_choice_to_the_cnn_preset():
    model = nncore.pretrained.load("mnist-cnn")
    app = upload(start(), "cnn.npz", io.to_bytes(model))  # from the XOR preset
    assert "Loaded cnn.npz" in texts(app.success)
    assert app.selectbox(key="preset_choice").value == "mnist-cnn"
    assert app.session_state.dataset == "mnist"


def test_both_hosts_have_the_same_training_controls_with_the_same_labels():
    """Train, Continue, Pause, Step, Stop and Speed (its choices included), in the app's
    Train tab and in the web page's training group (web/index.html, the speeds from the
    build's config: nncore.lab.SPEEDS, as the app's)."""
    import html.parser

    from nncore.lab import SPEEDS

    class Controls(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.depth, self.tag, self.labels = False, 0, None, []

        def handle_starttag(self, tag, attributes):
            attributes = dict(attributes)
            if tag == "div" and attributes.get("aria-label") == "Training":
                self.inside, self.depth = True, 0
            if self.inside:
                self.depth += tag == "div"
                self.tag = tag

        def handle_endtag(self, tag):
            if self.inside and tag == "div":
                self.depth -= 1
                self.inside = self.depth > 0

        def handle_data(self, data):
            if self.inside and self.tag in ("button", "span") and data.strip():
                self.labels.append(data.strip())

    page = Controls()
    page.feed((Path(__file__).resolve().parent.parent / "web" / "index.html").read_text())
    app = start()
    keys = ("train_button", "continue_button", "pause_button", "step_button", "stop_button")
    app_labels = [app.button(key=key).label for key in keys] + [app.selectbox(key="speed").label]
    assert page.labels == app_labels == ["Train", "Continue", "Pause", "Step", "Stop", "Speed"]
    assert app.selectbox(key="speed").options == list(SPEEDS)
