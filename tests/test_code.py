"""The experiment as code (nncore.lab.code): the nncore script run in a fresh interpreter gives
the lab Session's loss curve; the PyTorch script compiles, names every layer and, where torch
is installed, runs.

torch is an optional benchmark dependency (pip install -e ".[bench]"); ./scripts/test does
not install it, so there the one PyTorch run below is skipped (the others still check the
PyTorch source).
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dependencies import require
from lab_helpers import mnist, run_out

from nncore import layers, tasks
from nncore.lab import ExperimentError, Session, code
from nncore.lab import experiment as experiment_module

ROOT = Path(__file__).resolve().parent.parent
FINAL = re.compile(r"^final loss: (\S+)$", re.MULTILINE)
FINAL_VALIDATION = re.compile(r"^final validation loss: (\S+)$", re.MULTILINE)
EPOCH = re.compile(r"^epoch (\d+)/\d+  loss=(\S+)", re.MULTILINE)


def run_script(source, tmp_path, python=sys.executable):
    """Run `source` as a file from a folder outside the repository: nncore via PYTHONPATH."""
    path = tmp_path / "experiment.py"
    path.write_text(source)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([python, str(path)], cwd=str(elsewhere), env=environment,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


def session_run(experiment):
    """The lab Session's run of `experiment` at full speed: {epoch: loss}, {epoch: val_loss}."""
    session = Session(mnist=mnist())
    session.speed = None
    session.train(experiment)
    run_out(session)
    assert session.outcome == "done", session.message
    rows = session.rows()["loss"]
    train = {row["step"]: row["loss"] for row in rows if row["series"] == "train"}
    validation = {row["step"]: row["loss"] for row in rows if row["series"] == "validation"}
    return train, validation


def mnist_experiment(preset="mnist-mlp", **changes):
    experiment = experiment_module.default(preset)
    experiment.update(train_size=200, epochs=2, batch_size=32, optimizer="adam", lr=0.001)
    experiment.update(changes)
    return experiment


def assert_same_run(experiment, tmp_path):
    output = run_script(code.as_python(experiment), tmp_path)
    train, validation = session_run(experiment)
    final = float(FINAL.search(output).group(1))
    last = max(train)
    assert math.isclose(final, train[last], rel_tol=1e-5), (final, train[last])
    # every epoch the session's curve kept (it thins long runs) matches the printed line
    printed = {float(epoch): float(loss) for epoch, loss in EPOCH.findall(output)}
    assert len(printed) == experiment_module.check(experiment)["epochs"]
    for epoch, loss in train.items():
        assert abs(printed[epoch] - loss) <= 5e-7 + 1e-5 * loss, (epoch, printed[epoch], loss)
    if validation:
        final_validation = float(FINAL_VALIDATION.search(output).group(1))
        assert math.isclose(final_validation, validation[last], rel_tol=1e-5)
    else:
        assert FINAL_VALIDATION.search(output) is None
    return output


# ----------------------------------------------------------------------------- nncore


def test_xor_script_gives_the_sessions_curve(tmp_path):
    experiment = experiment_module.default("xor")
    output = assert_same_run(experiment, tmp_path)
    assert "Total parameters: 13" in output  # the summary is printed first


def test_small_mnist_script_gives_the_sessions_curve_and_validation_loss(tmp_path):
    # the preset's validation_split (0.1): the last 20 of the 200 seeded digits held out
    assert_same_run(mnist_experiment(), tmp_path)


def test_a_larger_validation_split_and_a_cnn(tmp_path):
    experiment = mnist_experiment("mnist-cnn", validation_split=0.25, seed=7)
    source = code.as_python(experiment)
    assert "validation_split=0.25" in source and "seed=7" in source
    assert_same_run(experiment, tmp_path)


def test_no_validation_split_prints_no_validation_loss(tmp_path):
    assert_same_run(mnist_experiment(validation_split=0.0, optimizer="rmsprop"), tmp_path)


def fitting_stack(dataset):
    """A small MLP that takes any data set's samples and gives its targets."""
    values = 1
    for size in tasks.DATASET_INPUTS[dataset]:
        values *= size
    return {"input_shape": [values], "layers": [
        {"type": "dense", "units": 4, "activation": "tanh"},
        {"type": "dense", "units": tasks.DATASET_OUTPUTS[dataset], "activation": None}]}


@pytest.mark.parametrize("dataset", sorted(experiment_module.DATASETS))
def test_every_data_set_the_experiment_offers(dataset, tmp_path):
    """Whatever data sets the lab offers, the script trains on what the session does,
    validation split included (a held-out fraction the session ignores must be ignored)."""
    experiment = dict(experiment_module.default("xor"), dataset=dataset,
                      spec=fitting_stack(dataset), train_size=60, epochs=3, batch_size=8,
                      validation_split=0.2)
    assert_same_run(experiment, tmp_path)


def test_the_script_is_readable():
    source = code.as_python(experiment_module.default("mnist-cnn"))
    compile(source, "experiment.py", "exec")
    spec = experiment_module.default("mnist-cnn")["spec"]
    lines = source.splitlines()
    for layer in spec["layers"]:  # one layer per line, a Python literal
        assert any(line.strip() == code._literal(layer) + "," for line in lines), layer
    assert "None" in source and "null" not in source
    assert 'Network.from_spec(spec, seed=0)' in source
    assert 'tasks.training_data("mnist", network.input_shape, size=2000, seed=0)' in source
    assert "lr=0.001" in source and "beta_1=0.9" in source and "epsilon=1e-08" in source
    assert max(len(line) for line in lines if not line.startswith("        {")) <= code.WIDTH


def test_a_bad_experiment_is_refused_naming_the_field():
    with pytest.raises(ExperimentError) as error:
        code.as_python(dict(experiment_module.default("xor"), lr=-1))
    assert error.value.field == "lr"
    with pytest.raises(ExperimentError) as error:
        code.as_pytorch(dict(experiment_module.default("xor"), spec={"input_shape": [2]}))
    assert error.value.field == "spec"


# ----------------------------------------------------------------------------- PyTorch


EVERY_LAYER = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": 2, "padding": "same",
         "activation": "leaky_relu"},
        {"type": "conv2d", "filters": 4, "kernel_size": [3, 2], "stride": 1, "padding": "same",
         "activation": None},
        {"type": "sigmoid"},
        {"type": "maxpool2d", "pool_size": 2},
        {"type": "flatten"},
        {"type": "dropout", "rate": 0.25},
        {"type": "dense", "units": 16, "activation": "relu"},
        {"type": "leaky_relu", "alpha": 0.2},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ],
}


@pytest.mark.parametrize("preset", sorted(experiment_module.PRESETS))
def test_pytorch_source_compiles_and_names_every_layer(preset):
    experiment = experiment_module.default(preset)
    source = code.as_pytorch(experiment)
    compile(source, "experiment_torch.py", "exec")
    assert "APPROXIMATION" in source.splitlines()[0]
    for number, layer in enumerate(experiment["spec"]["layers"], start=1):
        assert re.search(r"# %d\. %s\b" % (number, layer["type"]), source), (number, layer)


def test_pytorch_translates_every_layer_it_knows():
    experiment = dict(experiment_module.default("mnist-cnn"), spec=EVERY_LAYER,
                      optimizer="nesterov", lr=0.01)
    source = code.as_pytorch(experiment)
    compile(source, "experiment_torch.py", "exec")
    for number, layer in enumerate(EVERY_LAYER["layers"], start=1):
        assert "# %d. %s" % (number, layer["type"]) in source
    # 'same' with stride 2 pads explicitly (28 -> 14: one row and column, after), then convolves
    assert "nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(1, 4, kernel_size=3, stride=2)" in source
    assert "nn.LeakyReLU(0.01)" in source and "nn.LeakyReLU(0.2)" in source
    # an even kernel pads explicitly too (the extra column after, as nncore pads it)
    assert "nn.ZeroPad2d((0, 1, 1, 1)), nn.Conv2d(4, 4, kernel_size=(3, 2))" in source
    assert not any('padding="same"' in line.split("#")[0] for line in source.splitlines())
    odd = dict(experiment, spec={"input_shape": [28, 28, 1], "layers": [
        {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same"},
        {"type": "flatten"}, {"type": "dense", "units": 10}]})
    assert 'nn.Conv2d(1, 2, kernel_size=3, padding="same")' in code.as_pytorch(odd)
    assert "nn.Linear(196, 16), nn.ReLU()" in source
    assert "nn.Dropout(p=0.25)" in source
    # cross-entropy takes logits: the last dense layer's softmax is left to the loss
    assert "nn.Linear(16, 10),  # 9." in source and "nn.Softmax" not in source
    assert "momentum=0.9, nesterov=True" in source
    assert ".permute(0, 3, 1, 2)" in source and "channels-first" in source


def test_pytorch_refuses_a_layer_it_cannot_translate():
    class Square(layers.ActivationLayer):
        type = "square_for_code_test"

        def function(self, x):
            return x * x

        def gradient(self, grad):
            return grad * 2 * self.x

    layers.register(Square)
    try:
        experiment = experiment_module.default("xor")
        experiment["spec"]["layers"][1] = {"type": "square_for_code_test"}
        assert "square_for_code_test" in code.as_python(experiment)
        with pytest.raises(ExperimentError) as error:
            code.as_pytorch(experiment)
        assert error.value.field == "spec"
        assert "square_for_code_test" in str(error.value) and "dense" in str(error.value)
        # as a dense layer's activation too
        experiment = experiment_module.default("xor")
        experiment["spec"]["layers"][0]["activation"] = "square_for_code_test"
        with pytest.raises(ExperimentError, match="square_for_code_test activation"):
            code.as_pytorch(experiment)
    finally:
        layers.unregister(Square.type)


def test_pytorch_script_runs_on_xor(tmp_path):
    # optional: torch is a benchmark dependency that ./scripts/test does not install
    pytest.importorskip("torch", reason="torch is not installed (optional: pip install -e "
                                        "'.[bench]'); the PyTorch script is only compiled")
    experiment = dict(experiment_module.default("xor"), epochs=30, optimizer="adam", lr=0.05)
    output = run_script(code.as_pytorch(experiment), tmp_path)
    assert len(EPOCH.findall(output)) == 30
    assert math.isfinite(float(FINAL.search(output).group(1)))


# ----------------------------------------------------------------------------- the app


def test_the_model_tab_shows_the_experiment_as_code():
    require("streamlit")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=120).run()
    assert not app.exception, [e.value for e in app.exception]
    expected = code.as_python(experiment_module.default("xor"))
    blocks = [block for block in app.code if block.language == "python"]
    assert [block.value for block in blocks][:1] == [expected.rstrip("\n")]
    assert any("nn.Sequential(" in block.value for block in blocks)
    assert any(expander.label == "The experiment as code" for expander in app.expander)


def test_the_run_note_gives_the_final_loss_only_for_the_run_the_script_reproduces():
    run_note = code.run_note
    settings = experiment_module.check(dict(experiment_module.default("xor"), epochs=30))
    session = Session()
    session.speed = None
    assert run_note(session, settings) is None  # no run yet
    session.train(settings)
    session.step(0.0001)
    assert run_note(session, settings) is None  # not finished
    while session.status != "finished":
        session.step(0.05)
    note = run_note(session, settings)
    shown = float(re.search(r"final loss ([0-9.eE+-]+) after epoch 30\.", note).group(1))
    assert shown == pytest.approx(session.curves.last["loss"], rel=1e-9)
    assert run_note(session, dict(settings, preset="circle")) == note  # only a name
    assert run_note(session, dict(settings, lr=0.5)) is None  # other settings
    session.continue_training(settings)
    while session.status != "finished":
        session.step(0.05)
    assert run_note(session, settings) is None  # 60 epochs: not what the script trains
