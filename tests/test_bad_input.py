"""Bad input found in review: each gets a clear ValueError / ModelFileError at the call,
never a ZeroDivisionError, a raw TypeError or an error deep inside a generator."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

import nncore


@pytest.mark.parametrize("name, options", [
    ("adam", {"beta_1": 1.0}), ("adamax", {"beta_1": 1.0}), ("adam", {"beta_2": -0.1}),
    ("adam", {"epsilon": 0}), ("rmsprop", {"rho": 5}), ("adadelta", {"rho": 1.0}),
    ("adagrad", {"epsilon": -1}), ("momentum", {"momentum": "a"}), ("nesterov", {"momentum": 1}),
])
def test_optimizer_options_out_of_range_are_refused(name, options):
    option = next(iter(options))
    with pytest.raises(ValueError, match=option):
        nncore.optimizers.get(name, lr=0.01, **options)


def xor_net(loss="mse"):
    net = nncore.Network.from_spec(nncore.spec.PRESETS["xor"])
    return net.compile(loss=loss, optimizer="sgd", lr=0.1)


def test_train_iter_checks_its_arguments_at_the_call():
    x, y = nncore.datasets.xor()
    net = xor_net()
    with pytest.raises(ValueError, match="x should have shape"):
        net.train_iter(np.zeros((4, 3)), y, 1)  # no next(): the call itself raises
    with pytest.raises(ValueError, match="batch_size"):
        net.train_iter(x, y, 1, batch_size=0)
    with pytest.raises(ValueError, match="validation_data must be a pair"):
        net.train_iter(x, y, 1, validation_data=(x,))
    with pytest.raises(ValueError, match="validation_split"):
        net.train_iter(x, y, 1, validation_split="half")


def test_cross_entropy_on_a_single_output_is_refused():
    x, y = nncore.datasets.xor()
    with pytest.raises(ValueError, match="at least 2 outputs"):
        xor_net("cross_entropy").fit(x, y, 1)


@pytest.mark.parametrize("batch_size", [0, -1])
def test_predict_and_evaluate_refuse_a_bad_batch_size(batch_size):
    x, y = nncore.datasets.xor()
    net = xor_net()
    with pytest.raises(ValueError, match="batch_size"):
        net.predict(x, batch_size=batch_size)
    with pytest.raises(ValueError, match="batch_size"):
        net.evaluate(x, y, batch_size=batch_size)


def test_a_model_file_remembers_an_optimizer_given_as_an_object(tmp_path):
    net = nncore.Network.from_spec(nncore.spec.PRESETS["xor"])
    net.compile(loss="mse", optimizer=nncore.SGD(lr=0.5, momentum=0.9))
    net.save(tmp_path / "model")  # a bare name: written exactly there
    assert (tmp_path / "model").is_file() and not (tmp_path / "model.npz").exists()
    loaded = nncore.load(tmp_path / "model")
    assert loaded.optimizer.lr == 0.5 and loaded.optimizer.momentum == 0.9
    assert loaded.training_config["optimizer"] == "momentum"


def test_loading_a_missing_file_says_so(tmp_path):
    with pytest.raises(nncore.ModelFileError, match="no model file"):
        nncore.load(tmp_path / "nothing.npz")


def test_activation_with_a_foreign_option_is_a_spec_error():
    with pytest.raises(nncore.SpecError, match="no option alpha"):
        nncore.Activation("relu", alpha=1)
    assert nncore.Activation("leaky_relu", alpha=0.2).alpha == 0.2


def test_a_damaged_gzip_body_is_a_clear_error():
    data = bytearray(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 200]) + bytes(200)))
    data[10] = 0x07  # the first deflate block claims the invalid type 3: a zlib.error inside
    with pytest.raises(ValueError, match="IDX"):
        nncore.datasets.read_idx(bytes(data))


def test_decision_grid_follows_the_network_input_shape():
    layers = [{"type": "flatten"}, {"type": "dense", "units": 1}]
    spec = {"input_shape": [1, 2, 1], "layers": layers}
    net = nncore.Network.from_spec(spec)
    xs, ys, outputs = nncore.metrics.decision_grid(net, resolution=5)
    assert xs.shape == ys.shape == outputs.shape == (25,)
