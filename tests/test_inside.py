"""Inside the network: the layer outputs of a drawn digit (nncore.lab.inside) and the
backpropagation walk with its gradient check (nncore.lab.backprop)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import nncore
from nncore import datasets, layers, pretrained
from nncore.lab import backprop, experiment, inside


@pytest.fixture(scope="module")
def digits():
    return datasets.load_mnist()


@pytest.fixture(scope="module", params=["mnist-cnn", "mnist-mlp"])
def shipped(request):
    return pretrained.load(request.param)


def xor_network():
    settings = experiment.default("xor")
    network = nncore.Network.from_spec(settings["spec"], seed=3)
    network.compile(settings["loss"], settings["optimizer"], lr=settings["lr"])
    return network


def valid_picture(picture):
    assert picture["width"] > 0 and picture["height"] > 0
    assert len(picture["pixels"]) == picture["width"] * picture["height"]
    assert all(isinstance(level, int) and 0 <= level <= 255 for level in picture["pixels"])


# ------------------------------------------------------------------ activations


def test_activations_give_one_titled_view_per_layer(shipped, digits):
    image = digits[2][0]
    views = inside.activations(shipped, image)
    assert len(views) == len(shipped.layers)
    for number, (view, layer) in enumerate(zip(views, shipped.layers), start=1):
        assert view["layer"] == number and view["type"] == layer.type
        assert view["title"] == "%d · %s" % (number, layer.type)
        assert view["shape"] == list(layer.output_shape)
        if view["kind"] == "maps":
            channels = layer.output_shape[-1]
            assert len(view["maps"]) == min(channels, inside.MAPS) == view["shown"]
            assert view["total"] == channels
            assert ("of %d channels" % channels in view["note"]) == (channels > inside.MAPS)
            height, width = layer.output_shape[:2]
            for picture in view["maps"]:
                valid_picture(picture)
                assert (picture["height"], picture["width"]) == (height, width)
        elif view["kind"] == "strip":
            assert len(view["values"]) == min(layer.output_shape[0], inside.UNITS)
    assert views[-1]["kind"] == "probabilities"
    probabilities = np.array(views[-1]["values"])
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    expected = shipped.predict(image.reshape((1,) + shipped.input_shape))[0]
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6, atol=1e-7)
    json.dumps(views, allow_nan=False)


def test_the_cnn_views_are_maps_then_strips(digits):
    views = inside.activations(pretrained.load("mnist-cnn"), digits[2][1])
    assert [view["title"] for view in views[:3]] == ["1 · conv2d", "2 · relu", "3 · maxpool2d"]
    assert [view["kind"] for view in views] == ["maps"] * 6 + ["strip"] * 6 + ["probabilities"]
    # relu maps are never negative: black is 0 on their scale
    assert views[1]["low"] == 0.0 and views[1]["high"] > 0
    rows = inside.strip_rows(views)
    assert {row["title"] for row in rows} == {view["title"] for view in views[6:12]}
    assert all(-1.0 <= row["level"] <= 1.0 for row in rows)
    assert views[-1]["note"] == "the probabilities shown above"


def test_activations_of_a_uint8_digit_match_the_float_digit(digits):
    network = pretrained.load("mnist-mlp")
    as_bytes = np.round(digits[2][2] * 255).astype(np.uint8)
    a = inside.activations(network, as_bytes)[-1]["values"]
    b = inside.activations(network, as_bytes.astype(np.float32) / 255)[-1]["values"]
    np.testing.assert_allclose(a, b, atol=1e-6)


# ------------------------------------------------------------------ the walk


def networks_and_samples(digits):
    yield "xor", xor_network(), "xor", 1
    yield "mlp", pretrained.load("mnist-mlp"), "mnist", 0
    yield "cnn", pretrained.load("mnist-cnn"), "mnist", 1


@pytest.mark.parametrize("which", ["xor", "mlp", "cnn"])
def test_the_walk_goes_forward_then_back_to_the_first_layer(which, digits):
    name, network, dataset, index = [item for item in networks_and_samples(digits)
                                     if item[0] == which][0]
    x, y, words = backprop.sample(network, dataset, index, mnist=digits)
    walked = backprop.walk(network, x, y)
    json.dumps(walked, allow_nan=False)
    steps = walked["steps"]
    directions = [step["direction"] for step in steps]
    forward = directions.count("forward")
    assert directions == ["forward"] * forward + ["loss"] + ["backward"] * forward
    assert [step["layer"] for step in steps[:forward]] == list(range(1, forward + 1))
    assert [step["layer"] for step in steps[forward + 1:]] == list(range(forward, 0, -1))
    assert steps[-1]["layer"] == 1 and steps[-1]["title"].startswith("1 · ")
    first_dx = [t for t in steps[-1]["tensors"] if t["name"] == "dE/dX"][0]
    assert first_dx["values"] is None and "nothing comes before layer 1" in first_dx["note"]
    for step in steps:
        assert step["formula"]
        for item in step["tensors"]:
            if item["values"] is not None:
                assert np.size(item["values"]) <= backprop.SMALL
            if item["picture"] is not None:
                valid_picture(item["picture"])
                assert max(item["picture"]["width"], item["picture"]["height"]) \
                    <= backprop.PICTURE
    assert walked["check"]["passed"] is True, walked["check"]
    assert walked["check"]["max_relative_error"] <= backprop.TOLERANCE


def test_each_layer_type_prints_its_own_formula():
    network = xor_network()
    x, y, _ = backprop.sample(network, "xor", 2)
    steps = backprop.walk(network, x, y)["steps"]
    assert steps[0]["formula"] == "Y = X · W + B"
    assert steps[1]["formula"] == "Y = tanh(X)"
    assert steps[4]["formula"].startswith("E = mean((Y − T)²)")  # mse, not fused
    assert "dE/dW = Xᵀ · dE/dY" in steps[-1]["formula"]
    assert "dE/dX = dE/dY ⊙ (1 − Y²)" in steps[-2]["formula"]
    cnn = backprop.walk(pretrained.load("mnist-cnn"), np.zeros((28, 28, 1)), 3)["steps"]
    by_title = {(step["direction"], step["title"]): step["formula"] for step in cnn}
    assert by_title[("forward", "3 · maxpool2d")] == layers.MaxPool2D.FORMULAS["forward"][0]
    assert "dE/dW[a, b, c, f]" in by_title[("backward", "1 · conv2d")]
    assert "softmax" in by_title[("loss", "loss · 13 · softmax + cross_entropy")]
    assert "(P − T) / N" in by_title[("loss", "loss · 13 · softmax + cross_entropy")]


def test_a_dense_layer_with_its_own_activation_shows_z_and_f():
    network = nncore.Network.from_spec({"input_shape": [2], "layers": [
        {"type": "dense", "units": 3, "activation": "sigmoid"},
        {"type": "dense", "units": 2, "activation": "softmax"}]})
    walked = backprop.walk(network, np.array([1.0, 0.0]), 1, loss="cross_entropy")
    first = walked["steps"][0]
    assert first["formula"] == "Z = X · W + B\nY = 1 / (1 + e^(−Z))"
    assert [t["name"] for t in first["tensors"]] == ["X", "W", "B", "Z", "Y"]
    last_forward = walked["steps"][1]
    assert [t["name"] for t in last_forward["tensors"]][-1] == "Z"  # softmax left to the loss
    assert walked["fused"] == "softmax"
    backward_first = walked["steps"][-1]
    assert backward_first["formula"].splitlines()[0] == "dE/dZ = dE/dY ⊙ Y ⊙ (1 − Y)"
    assert walked["check"]["passed"] is True


@pytest.mark.parametrize("which", ["xor", "mlp", "cnn"])
def test_recorded_outputs_and_gradients_are_the_networks_own(which, digits):
    name, network, dataset, index = [item for item in networks_and_samples(digits)
                                     if item[0] == which][0]
    x, y, _ = backprop.sample(network, dataset, index, mnist=digits)
    traced = backprop.trace(network, x, y)
    batch = x[None].astype(network.dtype)
    outputs = inside.outputs(network, batch)
    for entry, output in zip(traced["layers"], outputs):
        if entry["forward_called"]:  # the fused softmax is the loss's, not called
            np.testing.assert_array_equal(entry["Y"], output)
    target = np.array([y]) if isinstance(y, int) else np.array([[y]], dtype=network.dtype)
    loss, gradients = network.loss_and_grads(batch, target)
    assert traced["value"] == loss
    recorded = [g for entry in traced["layers"] for g in entry["grads"]]
    assert len(recorded) == len(gradients)
    for ours, theirs in zip(recorded, gradients):
        np.testing.assert_array_equal(ours, theirs)
    # the printed dE/dW is those gradients, rounded
    walked = backprop.walk(network, x, y, entries=2)
    weights = [t for s in walked["steps"] if s["direction"] == "backward"
               for t in s["tensors"] if t["name"] == "dE/dB"][0]  # the last layer's bias
    if weights["values"] is not None:
        np.testing.assert_allclose(weights["values"], gradients[-1], rtol=1e-3, atol=1e-12)


def test_the_walk_leaves_the_network_alone(digits):
    network = pretrained.load("mnist-cnn")
    before = [p.copy() for p in network.parameters()]
    optimizer = network.optimizer
    x, y, _ = backprop.sample(network, "mnist", 5, mnist=digits)
    backprop.walk(network, x, y, loss="mse")
    assert network.loss.name == "cross_entropy" and network.optimizer is optimizer
    for p, q in zip(before, network.parameters()):
        np.testing.assert_array_equal(p, q)
    assert "forward" not in vars(network.layers[0])  # no recording wrapper left behind


def scaled(method, factor):
    """A backward that scales the weight gradients it writes: a deliberately broken layer."""
    def broken(self, grad, need_input_grad=True):
        result = method(self, grad, need_input_grad)
        for gradient in self.grads:
            gradient *= factor
        return result
    return broken


@pytest.mark.parametrize("which,cls", [("xor", layers.Dense), ("mlp", layers.Dense),
                                       ("cnn", layers.Conv2D)])
def test_the_check_fails_when_a_backward_is_broken(which, cls, digits, monkeypatch):
    name, network, dataset, index = [item for item in networks_and_samples(digits)
                                     if item[0] == which][0]
    x, y, _ = backprop.sample(network, dataset, index, mnist=digits)
    monkeypatch.setattr(cls, "backward", scaled(cls.backward, 1.05))
    check = backprop.walk(network, x, y)["check"]
    assert check["passed"] is False
    assert check["max_relative_error"] > backprop.TOLERANCE
    assert check["text"].startswith("FAILED")


def test_the_check_fails_when_an_activation_backward_is_wrong(monkeypatch):
    network = xor_network()
    x, y, _ = backprop.sample(network, "xor", 3)
    # tanh' taken as 1 - y instead of 1 - y^2: the dense layers' dE/dW are wrong
    monkeypatch.setattr(layers.Tanh, "gradient", lambda self, grad: grad * (1.0 - self.y))
    assert backprop.walk(network, x, y)["check"]["passed"] is False


def test_a_fresh_cnn_with_zero_biases_passes_despite_relu_kinks(digits):
    settings = experiment.default("mnist-cnn")
    network = nncore.Network.from_spec(settings["spec"])
    x, y, _ = backprop.sample(network, "mnist", 4, mnist=digits)
    check = backprop.walk(network, x, y)["check"]
    assert check["passed"] is True, check
    assert any(entry["kink"] for entry in check["entries"])  # blank background: z = 0


def test_the_walk_takes_mse_against_a_one_hot_label(digits):
    network = pretrained.load("mnist-mlp")
    x, y, _ = backprop.sample(network, "mnist", 0, mnist=digits)
    walked = backprop.walk(network, x, y, loss="mse")
    loss_step = [s for s in walked["steps"] if s["direction"] == "loss"][0]
    target = [t for t in loss_step["tensors"] if t["name"] == "T"][0]
    assert target["values"][0][y] == 1.0 and sum(target["values"][0]) == 1.0
    assert walked["check"]["passed"] is True


def test_your_model_of_a_2d_problem_walks_that_problems_test_points():
    from nncore.lab import Session
    from nncore.lab import experiment as experiment_module

    session = Session()
    session.speed = None
    session.train(experiment_module.check(dict(experiment_module.default("circle"), epochs=20)))
    while session.status != "finished":
        session.step(0.05)
    network, words = backprop.yours(session, experiment_module.default("circle"))
    assert network is session.network and words == "your model, as trained"
    assert backprop.dataset_for(network, session.plane) == "plane"
    assert backprop.dataset_for(network) == "xor"  # a 2-input net without its problem
    chooser = backprop.chooser("plane", session.plane)
    assert chooser == {"label": "Test point number", "count": len(session.plane["x_test"])}
    x, y, words = backprop.sample(network, "plane", 3, plane=session.plane)
    np.testing.assert_array_equal(x, session.plane["x_test"][3])
    assert y == float(session.plane["y_test"][3, 0])
    assert words.startswith("Circle test point #3 (")
    # an index past the end takes the last point (the problem shrank since it was chosen)
    _, _, last = backprop.sample(network, "plane", 10_000, plane=session.plane)
    assert last.startswith("Circle test point #%d " % (chooser["count"] - 1))
    walked = backprop.walk(network, x, y)
    assert walked["check"]["passed"]
    assert walked["steps"][-1]["layer"] == 1


def test_the_digit_chooser_counts_the_test_digits_and_a_number_past_them_takes_the_last(digits):
    network = pretrained.load("mnist-mlp")
    assert backprop.chooser("mnist", mnist=digits) == {"label": "Test digit number",
                                                       "count": len(digits[2])}
    _, y, words = backprop.sample(network, "mnist", 10 ** 6, mnist=digits)
    last = len(digits[2]) - 1
    assert words == "test digit #%d, a %d" % (last, int(digits[3][last])) and y == digits[3][last]
