"""nncore.lab.experiment: presets, check() naming the wrong field, the URL text, for_model."""
from __future__ import annotations

import base64
import copy
import zlib

import pytest

import nncore
from nncore import optimizers, pretrained
from nncore.lab import ExperimentError
from nncore.lab import experiment as E


def link(raw: bytes) -> str:
    """An encoded experiment made by hand: "1." + base64url(zlib(raw)) without padding."""
    return E.VERSION + "." + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def field_of(experiment):
    with pytest.raises(ExperimentError) as caught:
        E.check(experiment)
    return caught.value.field


# ------------------------------------------------------------------ presets and check


@pytest.mark.parametrize("preset", sorted(E.PRESETS))
def test_every_preset_default_passes_check_unchanged(preset):
    experiment = E.default(preset)
    assert experiment["preset"] == preset
    assert E.check(experiment) == experiment
    assert set(experiment) >= {"spec", "dataset", "loss", "optimizer", "options", "lr",
                               "batch_size", "epochs", "seed", "train_size", "validation_split"}


def test_default_refuses_an_unknown_preset():
    with pytest.raises(ExperimentError) as caught:
        E.default("imagenet")
    assert caught.value.field == "preset"


def test_default_gives_a_copy_each_time():
    first = E.default("xor")
    first["spec"]["layers"][0]["units"] = 99
    assert E.default("xor")["spec"]["layers"][0]["units"] == 3


def test_check_fills_missing_settings_from_the_preset():
    assert E.check({"preset": "mnist-cnn"}) == E.default("mnist-cnn")
    assert E.check({}) == E.default(E.DEFAULT_PRESET)


@pytest.mark.parametrize("changes, field", [
    ({"lr": 0}, "lr"),
    ({"lr": -0.1}, "lr"),
    ({"lr": "x"}, "lr"),
    ({"lr": True}, "lr"),
    ({"lr": None}, "lr"),
    ({"lr": float("nan")}, "lr"),
    ({"lr": float("inf")}, "lr"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 1.5}, "epochs"),
    ({"epochs": True}, "epochs"),
    ({"epochs": 100_001}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 1.5}, "batch_size"),
    ({"batch_size": "32"}, "batch_size"),
    ({"train_size": 5}, "train_size"),
    ({"seed": -1}, "seed"),
    ({"validation_split": 0.9}, "validation_split"),
    ({"momentum_of_doom": 1}, "momentum_of_doom"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"loss": "hinge"}, "loss"),
    ({"dataset": "cifar"}, "dataset"),
    ({"dataset": "mnist"}, "spec"),  # the XOR stack (2 inputs, 1 output) cannot read digits
    ({"spec": {"input_shape": [2], "layers": [{"type": "dense", "units": 0}]}}, "spec"),
    ({"spec": "dense"}, "spec"),
    ({"options": {"beta_1": 1.0}, "optimizer": "adam"}, "options"),
    ({"options": {"epsilon": 0}, "optimizer": "adam"}, "options"),
    ({"options": {"rho": "x"}, "optimizer": "rmsprop"}, "options"),
    ({"options": {"momentum": True}, "optimizer": "momentum"}, "options"),
])
def test_check_names_the_wrong_field(changes, field):
    assert field_of(dict(E.default("xor"), **changes)) == field


def test_check_refuses_what_is_not_an_object():
    assert field_of(["xor"]) == "experiment"


def test_check_whole_floats_become_ints_and_ints_floats():
    checked = E.check(dict(E.default("xor"), epochs=10.0, batch_size=2.0, lr=1))
    assert checked["epochs"] == 10 and isinstance(checked["epochs"], int)
    assert checked["batch_size"] == 2 and isinstance(checked["batch_size"], int)
    assert checked["lr"] == 1.0 and isinstance(checked["lr"], float)


def test_check_does_not_change_its_argument():
    experiment = dict(E.default("xor"), optimizer="adam", options={"beta_1": 0.5})
    before = copy.deepcopy(experiment)
    E.check(experiment)
    assert experiment == before


@pytest.mark.parametrize("optimizer", sorted(optimizers.OPTIONS))
def test_options_defaults_are_filled_in(optimizer):
    checked = E.check(dict(E.default("xor"), optimizer=optimizer, options={}))
    assert checked["options"] == {name: float(value)
                                  for name, value in optimizers.OPTIONS[optimizer].items()}


def test_options_keep_given_values_and_drop_other_optimizers_leftovers():
    checked = E.check(dict(E.default("xor"), optimizer="adam",
                           options={"beta_1": 0.5, "momentum": 0.9, "rho": 0.1}))
    assert checked["options"] == {"beta_1": 0.5, "beta_2": 0.999, "epsilon": 1e-8}
    # not a dict at all: the defaults
    checked = E.check(dict(E.default("xor"), optimizer="rmsprop", options=None))
    assert checked["options"] == {"rho": 0.9, "epsilon": 1e-7}


def test_the_mnist_presets_fit_mnist_and_a_cnn_stack_fits_with_the_mlp_settings():
    cnn_stack = E.default("mnist-cnn")["spec"]
    checked = E.check(dict(E.default("mnist-mlp"), spec=cnn_stack))
    assert checked["spec"] == cnn_stack and checked["preset"] == "mnist-mlp"


def test_an_unknown_preset_inside_an_experiment_falls_back_to_the_default_preset():
    # pinned: check() does not name "preset"; it fills from DEFAULT_PRESET and keeps the text
    checked = E.check({"preset": "nonsense"})
    assert checked["preset"] == "nonsense"
    assert checked["spec"] == E.default(E.DEFAULT_PRESET)["spec"]


# ------------------------------------------------------------------ the URL text


@pytest.mark.parametrize("preset", sorted(E.PRESETS))
def test_encode_decode_round_trip(preset):
    experiment = dict(E.default(preset), lr=0.0125, seed=7, optimizer="rmsprop",
                      options={"rho": 0.8})
    text = E.encode(experiment)
    assert text.startswith(E.VERSION + ".")
    assert set(text[2:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(text) < 1000  # a short link
    assert E.decode(text) == E.check(experiment)


def test_decode_accepts_surrounding_whitespace_and_a_partial_experiment():
    assert E.decode("  " + E.encode({"preset": "mnist-mlp", "epochs": 2}) + "\n") == \
        E.check({"preset": "mnist-mlp", "epochs": 2})


def test_decode_checks_the_experiment_it_carries():
    with pytest.raises(ExperimentError) as caught:
        E.decode(E.encode(dict(E.default("xor"), lr=-1)))
    assert caught.value.field == "lr"
    # valid JSON that is not an object: pinned, the field is "experiment" (not "link")
    with pytest.raises(ExperimentError) as caught:
        E.decode(link(b"[1, 2, 3]"))
    assert caught.value.field == "experiment"


@pytest.mark.parametrize("text", [
    "1." + "A" * (E.ENCODED_LIMIT + 1),  # too long
    "2." + E.encode(E.default("xor"))[2:],  # another version
    E.encode(E.default("xor"))[2:],  # no version
    "1.",  # no body
    "1",
    "",
    "1.@@@@",  # not base64: nothing decodes
    "1.A",  # a base64 length that cannot be
    "1.eJzz",  # base64 of a truncated zlib stream
    "1." + base64.urlsafe_b64encode(b"not zlib at all").decode(),
    E.encode(E.default("xor"))[:-12],  # cut short
    link(b"{not json"),
    link(b"\xff\xfe{}"),  # not UTF-8
    None,
    42,
    b"1.abc",
])
def test_decode_refuses_damaged_or_hostile_text_naming_the_link(text):
    with pytest.raises(ExperimentError) as caught:
        E.decode(text)
    assert caught.value.field == "link"


def test_decode_inflates_a_zlib_bomb_no_further_than_the_limit(monkeypatch):
    # 5 MB of JSON whitespace before "{}": valid JSON, deflated about 1000:1 into the link
    bomb = link(b" " * 5_000_000 + b"{}")
    assert len(bomb) <= E.ENCODED_LIMIT
    inflated = []

    class Recording:
        def __init__(self):
            self.inflater = zlib.decompressobj()

        def decompress(self, data, max_length=0):
            out = self.inflater.decompress(data, max_length)
            inflated.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inflater, name)

    class Zlib:
        error = zlib.error

        @staticmethod
        def decompressobj():
            return Recording()

    monkeypatch.setattr(E, "zlib", Zlib)
    with pytest.raises(ExperimentError) as caught:
        E.decode(bomb)
    assert caught.value.field == "link"
    assert inflated and sum(inflated) <= E.DECODED_LIMIT


def test_decode_reads_exactly_up_to_the_decoded_limit():
    body = b'{"epochs":3}'
    fits = b" " * (E.DECODED_LIMIT - len(body)) + body
    assert E.decode(link(fits))["epochs"] == 3
    with pytest.raises(ExperimentError) as caught:
        E.decode(link(b" " + fits))
    assert caught.value.field == "link"


# ------------------------------------------------------------------ following a model


def test_for_model_takes_the_pretrained_cnns_stack_data_set_and_training():
    network = pretrained.load("mnist-cnn")
    followed = E.for_model(E.default("xor"), network)
    assert followed == E.check(followed)
    assert followed["spec"] == network.to_spec()
    assert followed["dataset"] == "mnist"
    config = network.training_config
    assert (followed["loss"], followed["optimizer"], followed["lr"], followed["options"]) == \
        (config["loss"], config["optimizer"], config["lr"], config["options"])
    # settings a model does not carry stay the experiment's
    assert followed["epochs"] == E.default("xor")["epochs"]
    # the preset choice names the closest preset (the hosts show it), not XOR any more
    assert followed["preset"] == "mnist-cnn"


@pytest.mark.parametrize("name", ["mnist-mlp", "mnist-cnn"])
def test_for_model_names_the_preset_closest_to_the_models_stack(name):
    followed = E.for_model(E.default("spiral"), pretrained.load(name))
    assert followed["preset"] == name  # convolutional or not, among the MNIST presets
    exact = nncore.Network.from_spec(E.default(name)["spec"])
    assert E.for_model(E.default("xor"), exact)["preset"] == name


def test_for_model_of_an_uncompiled_xor_network_keeps_the_training_settings():
    network = nncore.Network.from_spec(E.default("xor")["spec"], seed=3)
    start = dict(E.default("mnist-mlp"), loss="mse")
    followed = E.for_model(start, network)
    assert followed["dataset"] == "xor" and followed["spec"] == network.to_spec()
    assert followed["preset"] == "xor"
    assert (followed["optimizer"], followed["lr"]) == ("adam", start["lr"])


def test_for_model_returns_the_unchecked_experiment_when_it_cannot_train():
    network = nncore.Network.from_spec(E.default("xor")["spec"]).compile(
        loss="mse", optimizer="adam", lr=0.01)
    network.training_config["options"] = {"beta_1": 2.0}  # e.g. a hand-edited model file
    start = E.default("xor")
    followed = E.for_model(start, network)
    assert followed["options"] == {"beta_1": 2.0} and followed["optimizer"] == "adam"
    assert field_of(followed) == "options"
    assert start == E.default("xor")  # the argument is not changed
