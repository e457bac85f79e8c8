"""The divergence guard's contract (nncore/guard.py), batch by batch.

A loss that turns NaN on a chosen batch u, or a gradient that turns inf on a chosen batch,
against a record of the weights, the optimizer's state and the dropout generators that every
batch of the same run saw. With a checkpoint every 4 batches and 5 batches an epoch, the
chosen batches cover every distance from a checkpoint and the epoch boundaries.
"""
from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore.guard import DivergenceGuard
from nncore.losses import MeanSquaredError

EVERY = 4
BATCHES_PER_EPOCH = 5
BATCH_SIZE = 6
EPOCHS = 3


class Poisoned(MeanSquaredError):
    """MSE that, on its `at`-th call, returns a NaN loss (what="loss") or a finite loss with
    an infinite gradient (what="gradient"); every other call is plain MSE."""

    def __init__(self, at, what):
        self.at, self.what, self.calls = at, what, 0

    def __call__(self, outputs, targets):
        loss, grad = super().__call__(outputs, targets)
        self.calls += 1
        if self.calls == self.at:
            if self.what == "loss":
                return float("nan"), grad
            return loss, np.full_like(grad, np.inf)
        return loss, grad


def data():
    """float32, as the network trains (so that a batch computed by hand matches the run)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCHES_PER_EPOCH * BATCH_SIZE, 3))
    y = np.tanh(x @ rng.normal(size=(3, 2)))
    return x.astype(np.float32), y.astype(np.float32)


def network(loss):
    net = nncore.Network([nncore.Dense(8, activation="tanh"), nncore.Dropout(0.3),
                          nncore.Dense(2)], input_shape=(3,), seed=1)
    return net.compile(loss=loss, optimizer="momentum", lr=0.05)


def state_of(net):
    """Copies of what the guard must put back: weights, optimizer state, dropout generator."""
    optimizer = net.optimizer.state_dict(net.parameters())
    return {
        "weights": [p.copy() for p in net.parameters()],
        "steps": list(optimizer["steps"]),
        "iterations": optimizer["iterations"],
        "slots": [[s.copy() for s in slots] for slots in optimizer["slots"]],
        "generator": net.layers[1].rng.bit_generator.state,
    }


def run(net, shuffle=True):
    """Trains EPOCHS epochs; returns (events, seen): seen[t - 1] is the state batch t saw."""
    x, y = data()
    events, seen = [], []
    generator = net.train_iter(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, shuffle=shuffle,
                               seed=2)
    while True:
        if not events or events[-1]["type"] == "batch":
            seen.append(state_of(net))  # the state the next batch will see
        event = next(generator, None)
        if len(seen) == 1:  # train_iter seeds the dropout generator as it starts
            order = np.random.default_rng(2)
            seen[0]["generator"] = np.random.default_rng(order.integers(2**32)).bit_generator.state
        if event is None:
            return events, seen
        events.append(event)


def assert_state(net, expected):
    actual = state_of(net)
    for got, want in zip(actual["weights"], expected["weights"]):
        np.testing.assert_array_equal(got, want)
    assert actual["steps"] == expected["steps"]
    assert actual["iterations"] == expected["iterations"]
    for got_slots, want_slots in zip(actual["slots"], expected["slots"]):
        assert len(got_slots) == len(want_slots)
        for got, want in zip(got_slots, want_slots):
            np.testing.assert_array_equal(got, want)
    assert actual["generator"] == expected["generator"]


@pytest.fixture(autouse=True)
def checkpoint_every_4_batches(monkeypatch):
    monkeypatch.setattr(DivergenceGuard, "every", EVERY)


def batches(events):
    return [e for e in events if e["type"] == "batch"]


TOTAL = BATCHES_PER_EPOCH * EPOCHS


@pytest.mark.parametrize("u", range(1, TOTAL + 1))
def test_a_nan_loss_at_batch_u_goes_back_to_what_batch_u_minus_1_saw(u):
    net = network(Poisoned(u, "loss"))
    events, seen = run(net)
    assert events[-1]["type"] == "diverged"
    assert len(batches(events)) == u - 1  # batch u applied nothing
    epoch, batch = divmod(u - 1, BATCHES_PER_EPOCH)
    assert (events[-1]["epoch"], events[-1]["batch"]) == (epoch + 1, batch + 1)
    assert_state(net, seen[max(u - 2, 0)])  # W_u-1 (W_1 when u = 1)
    if u >= 2:  # the test can tell W_u-1 from W_u, the weights that gave the NaN
        assert not np.array_equal(net.parameters()[0], seen[u - 1]["weights"][0])


@pytest.mark.parametrize("u", range(1, TOTAL))
def test_an_inf_gradient_at_batch_u_goes_back_to_what_batch_u_saw(u):
    # the loss of batch u is finite and its update makes the weights inf/NaN: batch u + 1
    # reports the NaN loss they give, and the weights go back to those batch u saw
    net = network(Poisoned(u, "gradient"))
    events, seen = run(net)
    assert events[-1]["type"] == "diverged"
    assert len(batches(events)) == u
    assert all(np.isfinite(e["loss"]) for e in batches(events))
    assert_state(net, seen[u - 1])


class Overflowing(nncore.SGD):
    """SGD whose step number `at` sets the first kernel to +inf (replayed steps included:
    the step count is part of the state the guard puts back)."""

    def __init__(self, at):
        super().__init__(lr=0.05)
        self.at = at

    def step(self, params, grads):
        super().step(params, grads)
        if self.iterations == self.at:
            params[0][...] = np.inf


@pytest.mark.parametrize("u", [1, 2, 3, 4, 5, 6, 9, 13])
def test_weights_that_overflow_behind_a_saturated_tanh_are_caught_by_the_checks(u):
    # positive inputs and an all-inf kernel: tanh(+inf) = 1, so the loss stays finite and
    # its gradient through tanh is 0: the weights stay inf and every later loss is finite
    x, y = data()
    x = np.abs(x) + 0.1
    net = nncore.Network([nncore.Dense(4, activation="tanh"), nncore.Dense(2)],
                         input_shape=(3,), seed=1).compile(loss="mse", optimizer=Overflowing(u))
    seen = []
    events = list(net.train_iter(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=2))
    # the same run again, recording what each batch saw, stopped where the first one stopped
    again = nncore.Network([nncore.Dense(4, activation="tanh"), nncore.Dense(2)],
                           input_shape=(3,), seed=1).compile(loss="mse", optimizer=Overflowing(u))
    seen.append([p.copy() for p in again.parameters()])
    for event in again.train_iter(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=2):
        if event["type"] == "batch":
            seen.append([p.copy() for p in again.parameters()])  # what the next batch sees
        if len(seen) == u:
            break
    assert events[-1]["type"] == "diverged"
    losses = [e["loss"] for e in batches(events)]
    assert all(np.isfinite(losses))  # no NaN loss ever told
    # caught at the next checkpoint (batches 1, 5, 9, ...: before it is applied) or at the
    # end of the epoch (after batch 5, 10, 15), whichever comes first
    next_checkpoint = u + 1 + (-u % EVERY)
    epoch_end = -(-u // BATCHES_PER_EPOCH) * BATCHES_PER_EPOCH
    assert len(losses) == min(next_checkpoint - 1, epoch_end)
    for got, want in zip(net.parameters(), seen[u - 1]):  # W_u: finite, gave a finite loss
        np.testing.assert_array_equal(got, want)
    assert net.optimizer.iterations == u - 1


def test_an_inf_gradient_in_the_very_last_batch_is_caught_at_the_epoch_end():
    net = network(Poisoned(TOTAL, "gradient"))
    events, seen = run(net)
    assert events[-1]["type"] == "diverged"
    assert (events[-1]["epoch"], events[-1]["batch"]) == (EPOCHS, BATCHES_PER_EPOCH)
    assert len(batches(events)) == TOTAL
    assert_state(net, seen[TOTAL - 1])


def test_training_continued_after_a_divergence_repeats_the_previous_batch():
    # shuffle off, so batch t - 1's rows are known: one more step from the restored state
    # gives exactly the weights that gave the NaN (weights, momentum and dropout all back)
    u = 7
    net = network(Poisoned(u, "loss"))
    events, seen = run(net, shuffle=False)
    x, y = data()
    rows = slice(((u - 2) % BATCHES_PER_EPOCH) * BATCH_SIZE,
                 ((u - 2) % BATCHES_PER_EPOCH + 1) * BATCH_SIZE)
    _, loss, grad = net._batch_loss(x[rows], y[rows])
    assert loss == batches(events)[u - 2]["loss"]
    net._update(grad)
    assert_state(net, seen[u - 1])


def test_a_run_without_divergence_is_unchanged_by_the_guard_and_checkpoints_rarely(monkeypatch):
    checkpoints = []
    original = DivergenceGuard._checkpoint

    def counting(guard):
        checkpoints.append(len(guard.applied))
        original(guard)

    monkeypatch.setattr(DivergenceGuard, "_checkpoint", counting)
    guarded = network("mse")
    events, seen = run(guarded)
    assert events[-1]["type"] == "done"
    # the first batch, then every EVERY batches: no copy of the weights in between
    assert len(checkpoints) == -(-TOTAL // EVERY)
    assert checkpoints == [0] + [EVERY] * (len(checkpoints) - 1)
    # the same run by hand, without any guard, gives the same weights batch by batch
    plain = network("mse")
    x, y = data()
    order_rng = np.random.default_rng(2)
    plain.layers[1].rng = np.random.default_rng(order_rng.integers(2**32))
    t = 0
    for _ in range(EPOCHS):
        order = order_rng.permutation(len(x))
        for batch in range(BATCHES_PER_EPOCH):
            rows = order[batch * BATCH_SIZE : (batch + 1) * BATCH_SIZE]
            for got, want in zip(plain.parameters(), seen[t]["weights"]):
                np.testing.assert_array_equal(got, want)
            _, _, grad = plain._batch_loss(x[rows], y[rows])
            plain._update(grad)
            t += 1
