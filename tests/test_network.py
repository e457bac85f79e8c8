"""Network: the one training loop (train_iter) and what it promises: its event schema,
stopping early, validation, divergence, determinism, dtypes and shape checks."""
from __future__ import annotations

import numpy as np
import pytest

import nncore

CLASSIFIER = {"input_shape": [4], "layers": [
    {"type": "dense", "units": 8, "activation": "tanh"},
    {"type": "dropout", "rate": 0.2},
    {"type": "dense", "units": 3},
    {"type": "softmax"},
]}


def blobs(samples=60, seed=0):
    """Three well separated clusters in 4-D, integer labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=samples)
    centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0.0]])
    x = centres[labels] + 0.3 * rng.normal(size=(samples, 4))
    return x.astype(np.float32), labels


def classifier(optimizer="adam", lr=0.05, seed=0, dtype="float32"):
    net = nncore.Network.from_spec(CLASSIFIER, seed=seed, dtype=dtype)
    return net.compile(loss="cross_entropy", optimizer=optimizer, lr=lr)


def regression(samples=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 3))
    return x, x @ np.array([[1.0], [2.0], [-1.0]])


# ------------------------------------------------------------------ the event stream


def test_train_iter_event_schema():
    x, y = blobs(50)
    events = list(classifier().train_iter(x, y, epochs=3, batch_size=16, seed=1))
    batches = [e for e in events if e["type"] == "batch"]
    epochs = [e for e in events if e["type"] == "epoch"]
    assert events[-1]["type"] == "done"
    assert [e["type"] for e in events].count("done") == 1
    assert len(batches) == 3 * 4  # ceil(50 / 16) = 4 batches per epoch
    assert len(epochs) == 3
    for event in batches:
        assert set(event) == {"type", "epoch", "epochs", "batch", "batches", "loss", "seconds"}
        assert event["epochs"] == 3 and event["batches"] == 4
        assert isinstance(event["loss"], float) and np.isfinite(event["loss"])
    assert [(e["epoch"], e["batch"]) for e in batches] == [
        (epoch, batch) for epoch in (1, 2, 3) for batch in (1, 2, 3, 4)
    ]
    for event in epochs:
        assert set(event) == {"type", "epoch", "epochs", "loss", "val_loss", "accuracy",
                              "val_accuracy", "seconds"}
        assert event["val_loss"] is None and event["val_accuracy"] is None
        assert 0 <= event["accuracy"] <= 1
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    # each epoch event comes right after its last batch
    positions = [i for i, e in enumerate(events) if e["type"] == "epoch"]
    assert positions == [4, 9, 14]
    seconds = [e["seconds"] for e in events if "seconds" in e]
    assert seconds == sorted(seconds)
    # the epoch loss is the sample-weighted mean of its batch losses (16, 16, 16, 2)
    first = [e["loss"] for e in batches[:4]]
    assert epochs[0]["loss"] == pytest.approx(np.dot(first, [16, 16, 16, 2]) / 50, rel=1e-6)


def test_fit_history_follows_the_epoch_events():
    x, y = blobs(40)
    events = [e for e in classifier().train_iter(x, y, epochs=4, batch_size=8, seed=2)
              if e["type"] == "epoch"]
    history = classifier().fit(x, y, epochs=4, batch_size=8, seed=2)
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert history.history[key] == [e[key] for e in events]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def test_shuffle_visits_every_sample_once_per_epoch_in_a_new_order():
    """With batch size 1 and a negligible learning rate, each batch loss identifies its sample."""
    x = np.arange(1, 13, dtype=np.float64).reshape(12, 1)
    y = np.zeros((12, 1))
    net = nncore.Network([nncore.Dense(1)], input_shape=(1,), dtype="float64")
    net.parameters()[0][...] = 1.0  # output = x, so the loss of sample k is k^2
    net.compile(loss="mse", optimizer="sgd", lr=1e-12)
    per_sample = x[:, 0] ** 2

    def batch_losses(**arguments):
        events = net.train_iter(x, y, epochs=2, batch_size=1, **arguments)
        losses = [e["loss"] for e in events if e["type"] == "batch"]
        return np.array(losses[:12]), np.array(losses[12:])

    first, second = batch_losses(shuffle=False)
    np.testing.assert_allclose(first, per_sample, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(second, per_sample, rtol=1e-6, atol=1e-9)
    first, second = batch_losses(shuffle=True, seed=3)
    np.testing.assert_allclose(np.sort(first), per_sample, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.sort(second), per_sample, rtol=1e-6, atol=1e-9)
    assert not np.allclose(first, per_sample)
    assert not np.allclose(first, second)


def test_closing_the_generator_stops_and_keeps_the_weights():
    x, y = blobs(64)
    net = classifier()
    initial = [p.copy() for p in net.parameters()]
    events = net.train_iter(x, y, epochs=5, batch_size=8, seed=0)
    for _ in range(3):
        assert next(events)["type"] == "batch"
    trained = [p.copy() for p in net.parameters()]
    events.close()
    with pytest.raises(StopIteration):
        next(events)
    assert net.optimizer.iterations == 3  # three updates, then nothing more
    for param, kept, start in zip(net.parameters(), trained, initial):
        np.testing.assert_array_equal(param, kept)
        assert not np.array_equal(param, start)
    # the same network trains on afterwards
    net.fit(x, y, epochs=1, batch_size=8, seed=0)
    assert net.optimizer.iterations == 3 + 8


def test_validation_split_takes_the_last_samples():
    x, y = blobs(50)
    net = classifier()
    events = list(net.train_iter(x, y, epochs=2, batch_size=10, validation_split=0.2, seed=0))
    batches = [e for e in events if e["type"] == "batch"]
    assert batches[0]["batches"] == 4  # 40 training samples
    epoch = [e for e in events if e["type"] == "epoch"][-1]
    assert epoch["val_loss"] == pytest.approx(net.evaluate(x[40:], y[40:])["loss"], rel=1e-5)
    assert epoch["val_accuracy"] == net.evaluate(x[40:], y[40:])["accuracy"]


def test_validation_data():
    x, y = blobs(40)
    x_val, y_val = blobs(20, seed=1)
    net = classifier()
    history = net.fit(x, y, epochs=3, batch_size=10, validation_data=(x_val, y_val), seed=0)
    assert len(history.history["val_loss"]) == 3
    assert all(v is not None and np.isfinite(v) for v in history.history["val_loss"])
    assert history.history["val_loss"][-1] == pytest.approx(
        net.evaluate(x_val, y_val)["loss"], rel=1e-5)
    assert history.history["val_accuracy"][-1] > 0.8


def test_accuracy_of_a_single_output_is_thresholded_at_one_half():
    """The XOR case: an MSE net with one output counts (output > 0.5) == (target > 0.5)."""
    net = nncore.Network([nncore.Dense(1)], input_shape=(2,), dtype="float64")
    net.compile(loss="mse", optimizer="sgd", lr=0.1)
    weights, bias = net.parameters()
    weights[...] = [[1.0], [0.0]]  # output = first input
    x = np.array([[0.9, 0], [0.1, 0], [0.7, 0], [0.2, 0]])
    y = np.array([[1.0], [1.0], [1.0], [0.0]])
    assert net.evaluate(x, y)["accuracy"] == 0.75


def test_a_regression_with_mse_reaches_a_small_loss():
    x, y = regression()
    net = nncore.Network([nncore.Dense(4), nncore.Dense(1)])
    net.compile(loss="mse", optimizer="sgd", lr=0.05)
    history = net.fit(x, y, epochs=30, batch_size=16, seed=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]


# ------------------------------------------------------------------ divergence


def test_divergence_restores_the_last_finite_weights():
    x, y = regression()
    net = nncore.Network([nncore.Dense(1)], input_shape=(3,))
    net.compile(loss="mse", optimizer="sgd", lr=1e6)
    snapshots = [[p.copy() for p in net.parameters()]]  # weights before each batch
    events = []
    with np.errstate(over="ignore", invalid="ignore"):
        for event in net.train_iter(x, y, epochs=5, batch_size=8, seed=0):
            events.append(event)
            if event["type"] == "batch":
                snapshots.append([p.copy() for p in net.parameters()])
    diverged = events[-1]
    assert diverged["type"] == "diverged"
    assert "done" not in [e["type"] for e in events]
    assert set(diverged) >= {"type", "epoch", "batch", "message"}
    assert diverged["epoch"] >= 1 and diverged["batch"] >= 1
    assert "learning rate" in diverged["message"]
    batches = [e for e in events if e["type"] == "batch"]
    assert len(batches) >= 1 and all(np.isfinite(e["loss"]) for e in batches)
    # the weights are those that gave the last finite loss: the ones before the last batch
    for param, saved in zip(net.parameters(), snapshots[-2]):
        assert np.isfinite(param).all()
        np.testing.assert_array_equal(param, saved)
    assert np.isfinite(net.evaluate(x, y)["loss"])


def test_fit_raises_training_diverged():
    x, y = regression()
    net = nncore.Network([nncore.Dense(1)]).compile(loss="mse", optimizer="sgd", lr=1e6)
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(nncore.TrainingDiverged, match="learning rate") as caught:
            net.fit(x, y, epochs=5, batch_size=8, seed=0)
    assert "1e+06" in str(caught.value)
    assert all(np.isfinite(p).all() for p in net.parameters())


# ------------------------------------------------------------------ determinism and dtypes


def test_same_spec_seed_and_data_give_identical_runs():
    x, y = blobs(48)

    def run():
        net = classifier(seed=7)
        history = net.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, seed=11)
        return [p.copy() for p in net.parameters()], history.history

    weights_1, history_1 = run()
    weights_2, history_2 = run()
    assert history_1 == history_2
    for a, b in zip(weights_1, weights_2):
        np.testing.assert_array_equal(a, b)
    # and a different shuffling seed gives a different run
    net = classifier(seed=7)
    other = net.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, seed=12).history
    assert other["loss"] != history_1["loss"]


def test_dropout_is_active_in_training_only():
    x, y = blobs(32)
    net = classifier()
    np.testing.assert_array_equal(net.predict(x), net.predict(x))  # no dropout at prediction
    losses = {round(net.loss_and_grads(x, y)[0], 12) for _ in range(3)}
    assert len(losses) == 1
    dropout = net.layers[1]
    events = net.train_iter(x, y, epochs=1, batch_size=32, seed=0)
    next(events)  # one training batch went through the dropout layer
    assert dropout.mask is not None and 0.05 < (dropout.mask == 0).mean() < 0.4
    events.close()
    net.predict(x)
    assert dropout.mask is None


def test_float32_by_default_and_float64_on_request():
    x, y = blobs(20)
    net = classifier()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.predict(x.astype(np.float64)).dtype == np.float32
    net = classifier(dtype="float64")
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.predict(x).dtype == np.float64
    _, grads = net.loss_and_grads(x, y)
    assert all(g.dtype == np.float64 for g in grads)
    with pytest.raises(ValueError):
        nncore.Network(dtype="int32")


def test_loss_and_grads_changes_nothing():
    x, y = blobs(16)
    net = classifier()
    before = [p.copy() for p in net.parameters()]
    loss, grads = net.loss_and_grads(x, y)
    assert loss == pytest.approx(net.evaluate(x, y)["loss"], rel=1e-6)
    assert [g.shape for g in grads] == [p.shape for p in net.parameters()]
    for param, saved in zip(net.parameters(), before):
        np.testing.assert_array_equal(param, saved)


def test_predict_in_slices_matches_one_batch():
    x, _ = blobs(50)
    net = classifier()
    np.testing.assert_allclose(net.predict(x, batch_size=7), net.predict(x), rtol=1e-6)
    probabilities = net.predict(x)
    assert probabilities.shape == (50, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


# ------------------------------------------------------------------ shapes


def image_network():
    net = nncore.Network.from_spec({"input_shape": [6, 6, 1], "layers": [
        {"type": "conv2d", "filters": 2, "kernel_size": 3}, {"type": "flatten"},
        {"type": "dense", "units": 2}]})
    return net.compile(loss="cross_entropy", optimizer="sgd", lr=0.1)


def test_one_channel_images_without_the_channel_axis():
    net = image_network()
    images = np.random.default_rng(0).uniform(size=(5, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(net.predict(images), net.predict(images[..., None]))
    labels = np.array([0, 1, 0, 1, 1])
    assert net.evaluate(images, labels) == net.evaluate(images[..., None], labels)
    history = net.fit(images, labels, epochs=2, batch_size=2, seed=0)
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("method", ["predict", "evaluate", "fit"])
def test_wrong_x_shape_names_the_expected_shape(method):
    net = classifier()
    x, y = blobs(10)
    with pytest.raises(ValueError, match=r"\(samples, 4\)") as caught:
        if method == "predict":
            net.predict(x[:, :3])
        elif method == "evaluate":
            net.evaluate(x[:, :3], y)
        else:
            net.fit(x[:, :3], y, epochs=1)
    assert "(10, 3)" in str(caught.value)


def test_wrong_image_shape_names_the_expected_shape():
    with pytest.raises(ValueError, match=r"\(samples, 6, 6, 1\)"):
        image_network().predict(np.zeros((2, 5, 5, 1)))


@pytest.mark.parametrize("method", ["evaluate", "fit"])
def test_wrong_y_shape_names_the_expected_shape(method):
    net = classifier()
    x, y = blobs(10)
    call = net.evaluate if method == "evaluate" else (lambda a, b: net.fit(a, b, epochs=1))
    with pytest.raises(ValueError, match=r"\(samples, 3\)"):
        call(x, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="10 samples"):
        call(x, y[:7])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        call(x, np.full(10, 3))


def test_bad_training_arguments():
    x, y = blobs(10)
    net = classifier()
    for arguments in ({"epochs": 0}, {"epochs": 1, "batch_size": 0},
                      {"epochs": 1.5}, {"epochs": 1, "validation_split": 1.5}):
        with pytest.raises(ValueError):
            net.fit(x, y, **arguments)
    with pytest.raises(ValueError, match="compile"):
        nncore.Network.from_spec(CLASSIFIER).fit(x, y, epochs=1)


def test_keras_style_building_infers_the_input_shape():
    x, y = blobs(30)
    net = nncore.Network()
    net.add(nncore.Dense(6, activation="relu"))
    net.add(nncore.Dense(3))
    net.add(nncore.Softmax())
    net.compile(loss="cross_entropy", optimizer="adam", lr=0.05)
    net.fit(x, y, epochs=20, batch_size=10, seed=0)
    assert net.input_shape == (4,)
    assert net.evaluate(x, y)["accuracy"] > 0.9
    assert net.to_spec()["input_shape"] == [4]


def test_a_first_dense_with_its_input_size_sets_the_input_shape():
    net = nncore.Network([nncore.Dense(784, 100), nncore.Tanh(), nncore.Dense(10)])
    assert net.input_shape == (784,)
    assert "Total parameters: 79,510" in net.summary()


# ------------------------------------------------------------------ the optimizer follows along


def test_a_layer_added_after_fit_trains_too():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 2))
    net = nncore.Network([nncore.Dense(4, activation="tanh")], input_shape=(2,))
    net.compile(loss="mse", optimizer="adam")
    net.fit(x, np.tanh(x @ np.ones((2, 4))), epochs=2, batch_size=8)
    net.add(nncore.Dense(1))
    added = [p.copy() for p in net.layers[1].params]
    net.fit(x, x.sum(axis=1, keepdims=True), epochs=2, batch_size=8)
    for before, after in zip(added, net.layers[1].params):
        assert not np.array_equal(before, after)
    assert net.optimizer.state_of(net.layers[0].params[0]).steps == 16
    assert net.optimizer.state_of(net.layers[1].params[0]).steps == 8


def test_one_adam_object_trains_two_networks():
    x, y = blobs(48)
    shared = nncore.Adam(lr=0.05)
    first = nncore.Network.from_spec(CLASSIFIER, seed=1).compile("cross_entropy", shared)
    second = nncore.Network([nncore.Dense(5, activation="tanh"), nncore.Dense(3)],
                            input_shape=(4,)).compile("cross_entropy", shared)
    first.fit(x, y, epochs=2, batch_size=8, seed=0)
    second.fit(x, y, epochs=2, batch_size=8, seed=0)
    first.fit(x, y, epochs=1, batch_size=8, seed=0)
    # the second network trained exactly as it would have with an optimizer of its own
    alone = nncore.Network([nncore.Dense(5, activation="tanh"), nncore.Dense(3)],
                           input_shape=(4,)).compile("cross_entropy", "adam", lr=0.05)
    alone.fit(x, y, epochs=2, batch_size=8, seed=0)
    for a, b in zip(second.parameters(), alone.parameters()):
        np.testing.assert_array_equal(a, b)


def test_building_for_another_input_shape_is_refused():
    net = nncore.Network([nncore.Dense(4, activation="tanh"), nncore.Dense(1)], input_shape=(2,))
    with pytest.raises(nncore.SpecError) as caught:
        net.build((5,))
    assert str(caught.value).startswith("layer 1 (dense): was built for the input shape (2,)")
    assert "(5,)" in str(caught.value)
    assert net.input_shape == (2,)
    net.build((2,))  # the same shape again is fine
    assert net.predict(np.zeros((3, 2))).shape == (3, 1)
    # an unbuilt network may still be given any shape
    assert nncore.Network([nncore.Dense(1)]).build((5,)).input_shape == (5,)


# ------------------------------------------------------------------ starting weights

WIDE = {"input_shape": [300], "layers": [
    {"type": "dense", "units": 700, "activation": "relu"},  # 210,000 weights: several chunks
    {"type": "dense", "units": 5},
]}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_seeded_weights_are_one_uniform_draw_cast_to_the_dtype(dtype):
    """Drawn in chunks of layers.INIT_CHUNK, the weights are still bit for bit those of one
    rng.uniform(...).astype(dtype) call per kernel (He for relu, Glorot otherwise)."""
    assert 300 * 700 > 3 * nncore.layers.INIT_CHUNK
    net = nncore.Network.from_spec(WIDE, dtype=dtype, seed=7)
    rng = np.random.default_rng(7)
    he = rng.uniform(-np.sqrt(6.0 / 300), np.sqrt(6.0 / 300), size=(300, 700)).astype(dtype)
    glorot = rng.uniform(-np.sqrt(6.0 / 705), np.sqrt(6.0 / 705), size=(700, 5)).astype(dtype)
    kernel, bias, last, last_bias = net.parameters()
    np.testing.assert_array_equal(kernel, he)
    np.testing.assert_array_equal(last, glorot)
    assert kernel.dtype == last.dtype == np.dtype(dtype)
    assert not bias.any() and not last_bias.any()


def test_a_network_built_to_be_filled_draws_nothing_yet_its_generator_moves_on():
    """from_spec(initialise=False), what nncore.io.load builds before it copies the file's
    weights in: zeros of the right shapes and dtype, and a generator in the state a seeded
    network's would be in, so a layer added afterwards gets the same starting weights."""
    seeded = nncore.Network.from_spec(WIDE, dtype="float64", seed=3)
    empty = nncore.Network.from_spec(WIDE, dtype="float64", seed=3, initialise=False)
    assert [(p.shape, p.dtype) for p in empty.parameters()] == [
        (p.shape, p.dtype) for p in seeded.parameters()]
    assert not any(p.any() for p in empty.parameters())
    assert empty.rng.bit_generator.state == seeded.rng.bit_generator.state
    assert not isinstance(empty.rng, nncore.layers.Unfilled)
    seeded.add(nncore.Dense(4))
    empty.add(nncore.Dense(4))
    np.testing.assert_array_equal(empty.parameters()[-2], seeded.parameters()[-2])


def test_skipping_draws_without_advance_draws_them():
    """A generator other than PCG64 (no advance) is moved on by drawing and discarding."""
    skipped = np.random.Generator(np.random.MT19937(5))
    drawn = np.random.Generator(np.random.MT19937(5))
    nncore.layers.Unfilled(skipped).skip(3 * nncore.layers.INIT_CHUNK + 11)
    drawn.uniform(size=3 * nncore.layers.INIT_CHUNK + 11)
    assert skipped.uniform() == drawn.uniform()


def test_a_decision_grid_counts_the_inputs_in_python_ints():
    """3 * 6148914691236517206 is 2**64 + 2: np.prod wraps it to 2 and would take the network
    for one with two inputs."""

    class Huge:
        input_shape = (3, 6148914691236517206)

        def predict(self, points):
            raise AssertionError("a network of 2**64 + 2 inputs is not asked for a grid")

    with pytest.raises(ValueError, match="needs a network with 2 inputs"):
        nncore.metrics.decision_grid(Huge(), resolution=3)
    net = nncore.Network([nncore.Flatten(), nncore.Dense(1)], input_shape=(1, 2, 1))
    assert nncore.metrics.decision_grid(net, resolution=3)[2].shape == (9,)
