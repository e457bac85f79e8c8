"""Model files: one .npz (spec as JSON text + weights), read with allow_pickle=False.
Good files give back the same predictions; every bad file is a ModelFileError."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import nncore
from nncore.spec import PRESETS

CNN = {"input_shape": [8, 8, 1], "layers": [
    {"type": "conv2d", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.3},
    {"type": "dense", "units": 4},
    {"type": "softmax"},
]}


def trained_network():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(24, 8, 8)).astype(np.float32)
    y = rng.integers(0, 4, size=24)
    net = nncore.Network.from_spec(CNN, seed=3)
    net.compile(loss="cross_entropy", optimizer="adam", lr=0.01)
    net.fit(x, y, epochs=2, batch_size=8, seed=0)
    return net, x, y


def rewrite(data, change):
    """The arrays of a saved model, changed by `change(arrays)`, saved again."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_save_and_load_a_path_give_identical_predictions(tmp_path):
    net, x, y = trained_network()
    path = tmp_path / "model.npz"
    net.save(str(path))
    loaded = nncore.load(str(path))
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    assert loaded.to_spec() == net.to_spec()
    for a, b in zip(loaded.parameters(), net.parameters()):
        np.testing.assert_array_equal(a, b)
    # the training setup travels with the file: the loaded model evaluates and trains on
    assert loaded.evaluate(x, y) == net.evaluate(x, y)
    assert loaded.training_config == net.training_config
    loaded.fit(x, y, epochs=1, batch_size=8, seed=0)


def test_save_and_load_bytes_give_identical_predictions():
    net, x, _ = trained_network()
    data = nncore.io.to_bytes(net)
    assert data[:2] == b"PK"  # a zip archive, i.e. an .npz
    loaded = nncore.io.from_bytes(data)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    # and a file object works as well as bytes
    np.testing.assert_array_equal(nncore.load(io.BytesIO(data)).predict(x), net.predict(x))


def test_the_file_is_plain_arrays_and_json():
    net, _, _ = trained_network()
    with np.load(io.BytesIO(nncore.io.to_bytes(net)), allow_pickle=False) as archive:
        keys = set(archive.files)
        meta = json.loads(str(archive["spec"]))
        assert str(archive["format"]) == "nncore-model-1"
    assert keys == {"format", "spec"} | {f"param_{i}" for i in range(4)}
    assert meta["spec"] == net.to_spec()
    assert meta["training"]["loss"] == "cross_entropy"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_a_file(name):
    net = nncore.Network.from_spec(PRESETS[name], seed=1)
    loaded = nncore.io.from_bytes(nncore.io.to_bytes(net))
    assert loaded.to_spec() == PRESETS[name]
    for a, b in zip(loaded.parameters(), net.parameters()):
        np.testing.assert_array_equal(a, b)


def test_a_float64_model_loads_in_float32_by_default():
    net = nncore.Network.from_spec(PRESETS["xor"], dtype="float64")
    data = nncore.io.to_bytes(net)
    assert all(p.dtype == np.float32 for p in nncore.io.from_bytes(data).parameters())
    loaded = nncore.io.load(data, dtype="float64")
    for a, b in zip(loaded.parameters(), net.parameters()):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ bad files


def model_bytes():
    return nncore.io.to_bytes(nncore.Network.from_spec(PRESETS["xor"]))


def pickled_object_archive():
    """An .npz whose member is an object array, which only pickle can read."""
    member = io.BytesIO()
    np.save(member, np.array([{"evil": True}, None], dtype=object), allow_pickle=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("param_0.npy", member.getvalue())
    return buffer.getvalue()


def bare_array():
    buffer = io.BytesIO()
    np.save(buffer, np.arange(4.0))
    return buffer.getvalue()


def zip_of_text():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("spec", "hello")
        archive.writestr("format", "nncore-model-1")
    return buffer.getvalue()


def spec_replaced(spec):
    return rewrite(model_bytes(), lambda arrays: arrays.update(
        spec=np.array(json.dumps({"spec": spec, "training": None}))))


BAD_FILES = {
    "truncated": lambda: model_bytes()[: len(model_bytes()) // 2],
    "truncated-end": lambda: model_bytes()[:-30],
    "empty": lambda: b"",
    "text": lambda: b"this is not a model, just some text\n",
    "a-pickle": lambda: b"\x80\x04\x95" + b"\x00" * 40,
    "bare-npy-array": bare_array,
    "zip-of-text": zip_of_text,
    "pickled-object-array": pickled_object_archive,
    "pickled-spec": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        spec=np.array([{"spec": 1}], dtype=object))),
    "missing-spec": lambda: rewrite(model_bytes(), lambda arrays: arrays.pop("spec")),
    "missing-format": lambda: rewrite(model_bytes(), lambda arrays: arrays.pop("format")),
    "wrong-format": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        format=np.array("keras-h5"))),
    "missing-weights": lambda: rewrite(model_bytes(), lambda arrays: arrays.pop("param_3")),
    "extra-weights": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        param_4=np.zeros(3, np.float32))),
    "weight-shape-mismatch": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        param_0=np.zeros((3, 3), np.float32))),
    "renamed-weights": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        param_9=arrays.pop("param_0"))),
    "integer-weights": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        param_1=np.zeros(3, np.int64))),
    "string-weights": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        param_1=np.array(["a", "b", "c"]))),
    "nan-weights": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        param_1=np.full(3, np.nan, np.float32))),
    "spec-not-json": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        spec=np.array("{not json"))),
    "spec-a-list": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        spec=np.array("[1, 2]"))),
    "spec-without-spec": lambda: rewrite(model_bytes(), lambda arrays: arrays.update(
        spec=np.array("{}"))),
    "spec-invalid-stack": lambda: spec_replaced(
        {"input_shape": [2], "layers": [{"type": "conv2d", "filters": 2}]}),
    "spec-unknown-type": lambda: spec_replaced({"input_shape": [2], "layers": [{"type": []}]}),
    "spec-other-network": lambda: spec_replaced(PRESETS["mnist-mlp"]),
    "spec-huge": lambda: spec_replaced(
        {"input_shape": [100000], "layers": [{"type": "dense", "units": 100000}]}),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_raises_model_file_error(name, tmp_path):
    data = BAD_FILES[name]()
    with pytest.raises(nncore.ModelFileError) as caught:
        nncore.io.from_bytes(data)
    message = str(caught.value)
    assert len(message) > 15 and "Traceback" not in message
    # the same from a path on disk
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(nncore.ModelFileError):
        nncore.load(str(path))


def test_messages_say_what_is_wrong():
    def message(data):
        with pytest.raises(nncore.ModelFileError) as caught:
            nncore.io.from_bytes(data)
        return str(caught.value)

    assert "pickle" in message(pickled_object_archive())
    assert "pickle" not in message(b"plain text, not a model")
    assert "not an nncore model file" in message(b"plain text, not a model")
    assert "weight" in message(BAD_FILES["weight-shape-mismatch"]())
    assert "layer 0 (conv2d)" in message(BAD_FILES["spec-invalid-stack"]())


def test_a_missing_path_raises_model_file_error(tmp_path):
    with pytest.raises(nncore.ModelFileError):
        nncore.load(str(tmp_path / "nowhere.npz"))


def test_model_files_are_never_unpickled(monkeypatch):
    """Loading must not reach pickle at all, even for an object array."""
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("pickle.load was called")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    with pytest.raises(nncore.ModelFileError):
        nncore.io.from_bytes(pickled_object_archive())
