"""The 2-D problems (nncore.datasets.plane) and the plane's views (nncore.lab.plane): seeded
point clouds with a train / test split, trained through a lab Session, scored on the test
points, and every hidden unit's output over the input square."""
from __future__ import annotations

import time

import numpy as np
import pytest
from lab_helpers import run_out, strict_json

import nncore
from nncore import datasets, metrics, tasks
from nncore.lab import ExperimentError, Session, experiment, plane, views

PROBLEMS = sorted(datasets.PLANE_PROBLEMS)


# ------------------------------------------------------------------ the generators


@pytest.mark.parametrize("name", PROBLEMS)
def test_each_problem_is_seeded_balanced_and_inside_its_square(name):
    x, y = datasets.plane(name, points=201, noise=0.1, seed=3)
    assert x.shape == (201, 2) and y.shape == (201, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, 1.0}
    assert int(y.sum()) == 100  # half (rounded down) have label 1
    low, high = datasets.extent(name)
    assert (low, high) == datasets.PLANE_EXTENT
    assert x.min() >= low and x.max() <= high
    again_x, again_y = datasets.plane(name, points=201, noise=0.1, seed=3)
    assert np.array_equal(x, again_x) and np.array_equal(y, again_y)
    other, _ = datasets.plane(name, points=201, noise=0.1, seed=4)
    assert not np.array_equal(x, other)
    # shuffled: the labels are not sorted (a train / test split takes both classes)
    assert 0 < y[:100].sum() < 100


@pytest.mark.parametrize("name", PROBLEMS)
def test_noise_moves_the_points(name):
    calm, labels = datasets.plane(name, points=100, noise=0.0, seed=0)
    noisy, noisy_labels = datasets.plane(name, points=100, noise=0.3, seed=0)
    assert np.array_equal(labels, noisy_labels)
    moved = np.abs(noisy - calm).mean()
    assert 0.05 < moved < 0.5


def test_shapes_of_the_problems():
    circle, labels = datasets.plane("circle", points=400, noise=0.0)
    radius = np.hypot(circle[:, 0], circle[:, 1])
    assert radius[labels[:, 0] == 1].max() <= 0.5 + 1e-6
    assert radius[labels[:, 0] == 0].min() >= 0.8 - 1e-6
    cloud, labels = datasets.plane("xor-cloud", points=400, noise=0.0)
    # label 1 where the signs differ, as (0, 1) and (1, 0) in the four-point XOR
    assert np.array_equal(labels[:, 0] == 1, cloud[:, 0] * cloud[:, 1] < 0)
    gaussians, labels = datasets.plane("gaussians", points=400, noise=0.0)
    assert gaussians[labels[:, 0] == 1].mean() > 0.4 > -0.4 > gaussians[labels[:, 0] == 0].mean()


@pytest.mark.parametrize("arguments, words", [
    ({"name": "donut"}, "unknown 2-D problem"),
    ({"name": "circle", "points": 5}, "between"),
    ({"name": "circle", "noise": 2.0}, "noise"),
])
def test_bad_generator_arguments_are_refused(arguments, words):
    with pytest.raises(ValueError, match=words):
        datasets.plane(**arguments)


def test_the_split_keeps_test_points_apart():
    x_train, y_train, x_test, y_test = tasks.plane_split("moons", points=200, noise=0.1,
                                                         test_split=0.3, seed=1)
    assert len(x_train) == 140 and len(x_test) == 60
    assert len(y_train) == 140 and len(y_test) == 60
    x, y = datasets.plane("moons", points=200, noise=0.1, seed=1)
    assert np.array_equal(np.concatenate([x_train, x_test]), x)
    trained, labels = tasks.training_data("moons", (2,), points=200, noise=0.1, test_split=0.3,
                                          seed=1)
    assert np.array_equal(trained, x_train) and np.array_equal(labels, y_train)
    # a network taking (1, 2) reads the same points reshaped
    shaped, _ = tasks.training_data("moons", (1, 2), points=200, noise=0.1, test_split=0.3,
                                    seed=1)
    assert shaped.shape == (140, 1, 2)


def test_check_fits_wants_two_inputs_and_one_output():
    tasks.check_fits((2,), (1,), "spiral")
    with pytest.raises(tasks.DataMismatch, match="two spirals.*input shape 2"):
        tasks.check_fits((3,), (1,), "spiral")
    with pytest.raises(tasks.DataMismatch, match="1 output"):
        tasks.check_fits((2,), (2,), "circle")


def test_decision_grid_takes_the_data_set_square():
    network = nncore.Network.from_spec(experiment.default("spiral")["spec"])
    xs, ys, _ = metrics.decision_grid(network, resolution=5, extent=datasets.extent("spiral"))
    assert xs.min() == -1.5 and xs.max() == 1.5 and ys.min() == -1.5
    xs, _, _ = metrics.decision_grid(network, resolution=5)
    assert xs.min() == -0.5 and xs.max() == 1.5  # XOR's square stays the default
    assert datasets.extent("xor") == datasets.XOR_EXTENT == (-0.5, 1.5)


# ------------------------------------------------------------------ the experiment


def test_new_settings_have_defaults_and_round_trip():
    settings = experiment.default("xor")
    assert settings["dataset"] == "xor"  # the articles' four points stay the default
    assert (settings["points"], settings["noise"], settings["test_split"]) == (200, 0.1, 0.5)
    for name in experiment.PLANE_DATASETS:
        assert name in experiment.DATASETS
    changed = dict(experiment.default("spiral"), points=300, noise=0.25, test_split=0.2,
                   dataset="moons")
    back = experiment.decode(experiment.encode(changed))
    assert back == experiment.check(changed)
    assert (back["dataset"], back["points"], back["noise"], back["test_split"]) == \
        ("moons", 300, 0.25, 0.2)
    # an older link without the new fields still reads, with the defaults filled in
    old = {key: value for key, value in experiment.default("xor").items()
           if key not in ("points", "noise", "test_split")}
    assert experiment.decode(experiment.encode(old))["points"] == 200


@pytest.mark.parametrize("change, field", [
    ({"points": 10}, "points"),
    ({"points": 5000}, "points"),
    ({"points": 100.5}, "points"),
    ({"points": "many"}, "points"),
    ({"noise": -0.1}, "noise"),
    ({"noise": 0.9}, "noise"),
    ({"noise": True}, "noise"),
    ({"test_split": 0.0}, "test_split"),
    ({"test_split": 0.95}, "test_split"),
    ({"dataset": "donut"}, "dataset"),
])
def test_bad_plane_settings_name_their_field(change, field):
    with pytest.raises(ExperimentError) as caught:
        experiment.check(dict(experiment.default("spiral"), **change))
    assert caught.value.field == field
    assert field in str(caught.value) or "data set" in str(caught.value)


def test_a_digit_stack_cannot_train_on_a_plane_problem():
    with pytest.raises(ExperimentError) as caught:
        experiment.check(dict(experiment.default("mnist-mlp"), dataset="circle"))
    assert caught.value.field == "spec" and "input shape 2" in str(caught.value)


def test_for_model_keeps_the_chosen_plane_problem():
    network = nncore.Network.from_spec(experiment.default("spiral")["spec"])
    followed = experiment.for_model(experiment.default("spiral"), network)
    assert followed["dataset"] == "spiral"


# ------------------------------------------------------------------ training in a session


def train(settings):
    session = Session()
    session.speed = None  # full speed
    started = time.perf_counter()
    session.train(settings)
    run_out(session, seconds=0.5)
    return session, time.perf_counter() - started


@pytest.mark.parametrize("name, preset", [
    ("circle", "circle"), ("gaussians", "circle"), ("moons", "circle"),
    ("xor-cloud", "circle"), ("spiral", "spiral"),
])
def test_each_problem_learns_well_above_chance(name, preset):
    session, seconds = train(dict(experiment.default(preset), dataset=name))
    assert session.outcome == "done" and seconds < 20
    evaluation = session.evaluation
    assert evaluation["dataset"] == name
    assert evaluation["accuracy"] > 0.85, evaluation  # chance is 0.5
    assert evaluation["train_accuracy"] > 0.85
    assert evaluation["samples"] + evaluation["train_samples"] == session.experiment["points"]
    assert session.verdict["kind"] == "learned"
    assert "test accuracy" in session.verdict["title"]
    report = session.report()
    assert report["test_accuracy"] == evaluation["accuracy"]
    assert report["test_size"] == evaluation["samples"]
    assert "test accuracy" in report["text"]


def test_rows_of_a_plane_problem():
    session, _ = train(dict(experiment.default("circle"), epochs=20))
    rows = session.rows()
    strict_json(rows)
    assert rows["answers"] == [] and rows["test"] is None and rows["confusion"] == []
    points = rows["points"]
    assert len(points) == 200
    assert set(points[0]) == {"x1", "x2", "label", "split"}
    assert [point["split"] for point in points].count("test") == 100
    assert {point["label"] for point in points} == {0, 1}
    grid = rows["grid"]
    assert min(cell["x1"] for cell in grid) == -1.5 and max(cell["x2"] for cell in grid) == 1.5
    scores = rows["plane"]
    assert scores["test_accuracy"] == session.evaluation["accuracy"]
    assert scores["train_samples"] == scores["test_samples"] == 100
    # the 2-4-1 net: four tanh units (layer 2), 15 x 15 each
    hidden = rows["hidden"]
    assert len(hidden) == 4 * plane.HIDDEN_RESOLUTION ** 2
    assert hidden[0] == {"layer": 2, "title": "2 · tanh", "unit": 1, "x1": -1.5, "x2": -1.5,
                         "value": hidden[0]["value"]}
    assert sorted({row["unit"] for row in hidden}) == [1, 2, 3, 4]
    assert all(-1 <= row["value"] <= 1 for row in hidden)


def test_rows_while_training_and_after_continuing():
    session = Session()
    session.speed = None
    session.train(experiment.default("spiral"))
    session.step(0.05)
    rows = session.rows()  # live, mid-run: the test points are scored already
    assert rows["plane"]["test_samples"] == 250 and rows["hidden"]
    assert session.evaluation is None
    run_out(session)
    session.continue_training(dict(session.experiment, epochs=2))
    run_out(session)
    assert session.curves.epoch_count == 302 and session.evaluation is not None


def test_stopping_scores_the_test_points_too():
    session = Session()
    session.speed = None
    session.train(experiment.default("spiral"))
    session.step(0.05)
    session.stop()
    assert session.status == "finished" and session.outcome == "stopped"
    assert 0 <= session.evaluation["accuracy"] <= 1


def test_xor_keeps_its_four_points_and_square():
    session, _ = train(experiment.default("xor"))
    rows = session.rows()
    assert rows["points"] == [{"x1": a, "x2": b, "label": int(a != b), "split": "train"}
                              for a, b in ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))]
    assert min(cell["x1"] for cell in rows["grid"]) == -0.5
    assert rows["plane"] is None and len(rows["answers"]) == 4
    hidden = rows["hidden"]
    assert len(hidden) == 3 * 15 * 15 and hidden[0]["title"] == "2 · tanh"
    assert hidden[0]["x1"] == -0.5 and hidden[-1]["x2"] == 1.5
    assert session.evaluation is None and session.verdict["kind"] == "learned"


# ------------------------------------------------------------------ hidden units


def network(layers, input_shape=(2,)):
    return nncore.Network.from_spec({"input_shape": list(input_shape), "layers": layers})


def test_which_outputs_are_hidden_units():
    # dense with its own activation: layer 1's output; dropout skipped; the output excluded
    net = network([{"type": "dense", "units": 5, "activation": "relu"},
                   {"type": "dropout", "rate": 0.5},
                   {"type": "dense", "units": 3}, {"type": "tanh"},
                   {"type": "dense", "units": 1}, {"type": "sigmoid"}])
    assert plane.hidden_layers(net) == [0, 3]
    rows = plane.hidden_rows(net, (-1.5, 1.5), resolution=4)
    titles = {row["title"] for row in rows}
    assert titles == {"1 · dense (relu)", "4 · tanh"}
    assert len(rows) == (5 + 3) * 16
    # the values are the layers' outputs: compare with a forward pass by hand
    points, _, _ = plane.grid((-1.5, 1.5), 4)
    weights, bias = net.layers[0].params
    first = np.maximum(points @ weights + bias, 0)
    mine = np.array([row["value"] for row in rows if row["layer"] == 1]).reshape(5, 16).T
    assert np.allclose(mine, first, atol=1e-3)


def test_hidden_units_are_capped_and_absent_without_a_hidden_layer():
    wide = network([{"type": "dense", "units": 30, "activation": "tanh"},
                    {"type": "dense", "units": 30, "activation": "tanh"},
                    {"type": "dense", "units": 1}])
    rows = plane.hidden_rows(wide, (-1.5, 1.5))
    units = {(row["layer"], row["unit"]) for row in rows}
    assert len(units) == plane.HIDDEN_LIMIT == 32
    assert len(rows) == 32 * plane.HIDDEN_RESOLUTION ** 2
    assert plane.hidden_rows(network([{"type": "dense", "units": 1}]), (0, 1)) == []
    digits = nncore.Network.from_spec(experiment.default("mnist-mlp")["spec"])
    assert plane.hidden_rows(digits, (0, 1)) == []


def test_a_two_input_model_without_a_run_is_drawn_over_the_xor_square():
    session = Session()
    session.use_model(nncore.Network.from_spec(experiment.default("spiral")["spec"], seed=0),
                      "imported from spiral.npz")
    rows = session.rows()
    strict_json(rows)
    assert len(rows["points"]) == 4 and rows["hidden"] and rows["plane"] is None
    assert views.has_plane(session.network)
