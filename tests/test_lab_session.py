"""nncore.lab.Session on XOR, with no host: train, step, pause / resume / step one epoch /
stop, continue, the speed limit, errors. Each run is a plain loop over step()."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from lab_helpers import run_out, strict_json

from nncore import tasks
from nncore.lab import SPEEDS, ExperimentError, Session
from nncore.lab import experiment as E
from nncore.network import Network


def xor(**changes):
    return E.check(dict(E.default("xor"), **changes))


def started(experiment=None, speed=None):
    session = Session()
    session.speed = speed
    session.train(experiment or xor())
    return session


def weights(network):
    return [p.copy() for p in network.parameters()]


def epoch_losses(session):
    """{epoch: train loss} of the kept (thinned) epoch points."""
    return {row["step"]: row["loss"] for row in session.curves.loss_rows()
            if row["series"] == "train"}


def plain_run(experiment):
    """The same experiment as a plain nncore script: the epoch losses, and the network."""
    network = Network.from_spec(experiment["spec"], seed=experiment["seed"])
    network.compile(loss=experiment["loss"], optimizer=experiment["optimizer"],
                    lr=experiment["lr"], **experiment["options"])
    x, y = tasks.training_data("xor", network.input_shape)
    losses = [event["loss"] for event in network.train_iter(
        x, y, experiment["epochs"], batch_size=experiment["batch_size"],
        seed=experiment["seed"]) if event["type"] == "epoch"]
    return losses, network


# ------------------------------------------------------------------ a whole run


def test_a_fresh_session_is_idle_and_says_so():
    session = Session()
    report = session.report()
    assert report["status"] == "idle" and report["outcome"] is None
    assert report["epoch"] == 0 and report["progress"] is None and report["verdict"] is None
    assert "Train" in report["text"]
    strict_json(report)
    strict_json(session.rows())
    assert session.rows()["loss"] == [] and session.rows()["grid"] == []
    assert session.step(0.05)["status"] == "idle"  # stepping an idle session does nothing


def test_the_xor_default_learns_at_full_speed():
    session = started()
    assert session.speed is SPEEDS["full speed"] is None
    reports = run_out(session)
    assert session.status == "finished" and session.outcome == "done"
    assert session.verdict["kind"] == "learned"
    assert "4 of 4 points right after 1000 epochs" in session.verdict["title"]
    assert session.curves.last["loss"] < 0.01
    assert session.curves.last["epoch"] == 1000
    report = reports[-1]
    assert (report["epoch"], report["epochs"], report["progress"]) == (1000, 1000, 1.0)
    assert report["text"].startswith("Finished · Epoch 1000 / 1000")
    versions = [report["version"] for report in reports]
    assert versions == sorted(versions) and versions[0] < versions[-1]
    rows = session.rows()
    assert [answer["right"] for answer in rows["answers"]] == [True] * 4
    assert len(rows["grid"]) == 31 * 31 and len(rows["points"]) == 4
    assert rows["confusion"] == [] and rows["test"] is None and rows["weights"] == []


def test_the_loss_curve_equals_a_plain_train_iter_run_of_the_same_experiment():
    experiment = xor()
    plain, network = plain_run(experiment)
    session = started(experiment)
    run_out(session)
    kept = epoch_losses(session)
    assert len(kept) <= 2 * 300 + 1 and kept  # thinned (see test_lab_curves)
    for epoch, loss in kept.items():
        assert loss == pytest.approx(plain[int(epoch) - 1], abs=1e-6)
    for mine, theirs in zip(session.network.parameters(), network.parameters()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    first, second, third = started(), started(), started(xor(seed=1))
    for session in (first, second, third):
        run_out(session)
    assert epoch_losses(first) == epoch_losses(second)
    assert epoch_losses(first) != epoch_losses(third)


def test_train_refuses_a_bad_experiment_before_anything_changes():
    session = started(xor(epochs=3))
    run_out(session)
    network = session.network
    with pytest.raises(ExperimentError) as caught:
        session.train(dict(E.default("xor"), lr=0))
    assert caught.value.field == "lr"
    assert session.network is network and session.status == "finished"


# ------------------------------------------------------------------ pause, resume, step, stop


def test_pause_freezes_the_run_and_resume_goes_on():
    session = started()
    session.step(0.01)
    session.pause()
    frozen = (session.report()["epoch"], session.report()["batch"], weights(session.network))
    for _ in range(3):
        report = session.step(0.05)
    assert report["status"] == "paused" and report["text"].startswith("Paused · ")
    assert (report["epoch"], report["batch"]) == frozen[:2]
    for now, then in zip(weights(session.network), frozen[2]):
        np.testing.assert_array_equal(now, then)
    session.resume()
    assert session.status == "running"
    run_out(session)
    assert session.outcome == "done" and session.curves.epoch_count == 1000


def test_pause_and_resume_do_nothing_in_other_states():
    session = Session()
    session.pause()
    session.resume()
    session.stop()
    assert session.status == "idle"
    session = started(xor(epochs=2))
    run_out(session)
    session.pause()
    session.resume()
    assert session.status == "finished"


def test_step_epoch_from_idle_trains_exactly_one_epoch_then_pauses():
    session = Session()
    session.speed = None
    session.step_epoch(xor())
    assert session.status == "running"
    run_out(session)
    assert session.status == "paused" and session.curves.epoch_count == 1
    assert session.report()["batch"] == session.report()["batches"] == 4


def test_step_epoch_from_paused_trains_one_more_epoch_each_time():
    session = started()
    session.step(0.01)
    session.pause()
    before = session.curves.epoch_count
    for more in (1, 2, 3):
        session.step_epoch()
        run_out(session)
        assert session.status == "paused"
        assert session.curves.epoch_count == before + more
    session.resume()
    run_out(session)
    assert session.curves.epoch_count == 1000  # step_epoch did not add epochs to the run


def test_step_epoch_after_an_epochs_last_batch_ends_that_epoch():
    # the last batch of epoch 1 is trained but its epoch event not yet taken: Step must end
    # epoch 1, not train epoch 2 as well (this used to count two epochs)
    session = started(speed=1)
    session.step(0.05)  # a first step at a limited speed trains one batch
    assert (session.report()["batch"], session.curves.epoch_count) == (1, 0)
    session._run["budget"] = 3.0  # three more batches allowed: the rest of epoch 1
    session.step(0.05)
    assert (session.report()["batch"], session.curves.epoch_count) == (4, 0)
    session.pause()
    session.step_epoch()
    session.speed = None
    run_out(session)
    assert session.status == "paused" and session.curves.epoch_count == 1


def test_step_epoch_while_running_ends_the_epoch_in_progress():
    session = started()
    session.step(0.02)
    assert session.status == "running"
    epochs = session.curves.epoch_count
    session.step_epoch()
    run_out(session)
    assert session.status == "paused" and session.curves.epoch_count == epochs + 1


def test_step_epoch_after_a_finished_run_continues_it_for_one_epoch():
    session = started(xor(epochs=3))
    run_out(session)
    session.step_epoch(xor(epochs=3))
    run_out(session)
    assert session.status == "paused" and session.curves.epoch_count == 4


def test_stop_while_running_finishes_and_keeps_the_weights():
    session = started()
    session.step(0.02)
    session.stop()
    assert session.status == "finished" and session.outcome == "stopped"
    kept = weights(session.network)
    session.step(0.05)
    for now, then in zip(weights(session.network), kept):
        np.testing.assert_array_equal(now, then)
    report = session.report()
    assert report["text"].startswith("Stopped · ")
    assert session.verdict["kind"] in ("stopped", "learned")
    strict_json(report)


def test_stop_while_paused_finishes():
    session = started()
    session.step(0.01)
    session.pause()
    session.stop()
    assert (session.status, session.outcome) == ("finished", "stopped")


def test_stop_before_the_first_epoch_is_judged_stopped():
    session = started(speed=1)
    session.step(0.05)  # one batch, no epoch
    session.stop()
    assert session.verdict["kind"] == "stopped"
    assert "after 0 epochs" in session.verdict["title"]
    strict_json(session.report())


# ------------------------------------------------------------------ continuing


def test_continue_after_stop_goes_on_counting_epochs():
    session = started()
    session.step(0.02)
    session.stop()
    epochs = session.curves.epoch_count
    kept = weights(session.network)
    network = session.network
    session.continue_training(xor(epochs=5))
    assert session.network is network
    for now, then in zip(weights(network), kept):
        np.testing.assert_array_equal(now, then)  # continue keeps the weights
    run_out(session)
    assert session.outcome == "done" and session.curves.epoch_count == epochs + 5
    report = session.report()
    assert (report["epoch"], report["epochs"]) == (epochs + 5, epochs + 5)
    steps = sorted(epoch_losses(session))
    assert steps[-1] == epochs + 5 and steps == sorted(set(steps))


def test_continue_with_another_stack_is_refused_naming_the_spec():
    session = started(xor(epochs=2))
    run_out(session)
    other = E.default("xor")
    other["spec"]["layers"][0]["units"] = 4
    with pytest.raises(ExperimentError) as caught:
        session.continue_training(dict(E.default("xor"), spec=other["spec"]))
    assert caught.value.field == "spec"
    assert session.status == "finished"


def test_continue_accepts_the_same_stack_spelled_differently():
    session = started(xor(epochs=2))
    run_out(session)
    spec = session.network.to_spec()
    spec["layers"][0] = {"type": "dense", "units": 3}  # the default activation left out
    session.continue_training(xor(epochs=2, spec=spec))
    run_out(session)
    assert session.curves.epoch_count == 4


def test_continue_without_a_model_is_refused():
    with pytest.raises(ExperimentError) as caught:
        Session().continue_training(xor())
    assert caught.value.field == "model"


def test_continue_with_the_same_optimizer_keeps_its_state():
    # one full batch per epoch: the shuffle (restarted by each run's seed) only reorders the
    # rows of the batch, so 2 epochs + 1 continued epoch equal 3 epochs to rounding, and
    # that is so only if Adam's moments and step count t carry over
    experiment = xor(optimizer="adam", options={}, lr=0.05, batch_size=4, epochs=3)
    whole = started(experiment)
    run_out(whole)
    parts = started(dict(experiment, epochs=2))
    run_out(parts)
    optimizer = parts.network.optimizer
    parts.continue_training(dict(experiment, epochs=1))
    assert parts.network.optimizer is optimizer
    run_out(parts)
    assert optimizer.iterations == whole.network.optimizer.iterations == 3
    for mine, theirs in zip(parts.network.parameters(), whole.network.parameters()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
    assert epoch_losses(parts) == pytest.approx(epoch_losses(whole), abs=1e-6)


def test_continue_with_a_new_lr_keeps_the_state_and_applies_the_lr():
    experiment = xor(optimizer="adam", options={}, lr=0.05, batch_size=4, epochs=2)
    session = started(experiment)
    run_out(session)
    optimizer = session.network.optimizer
    session.continue_training(dict(experiment, lr=0.01))
    assert session.network.optimizer is optimizer and optimizer.lr == 0.01
    assert session.network.training_config["lr"] == 0.01
    run_out(session)
    assert optimizer.iterations == 4


def test_continue_with_another_optimizer_or_options_starts_its_state_afresh():
    experiment = xor(optimizer="adam", options={}, batch_size=4, epochs=2)
    session = started(experiment)
    run_out(session)
    optimizer = session.network.optimizer
    session.continue_training(dict(experiment, options={"beta_1": 0.5}))
    assert session.network.optimizer is not optimizer
    run_out(session)
    assert session.network.optimizer.iterations == 2
    session.continue_training(dict(experiment, optimizer="rmsprop", options={}))
    assert session.network.training_config["optimizer"] == "rmsprop"
    run_out(session)
    assert session.curves.epoch_count == 6


def test_train_after_a_run_starts_fresh_curves_and_fresh_weights():
    session = started(xor(epochs=5))
    run_out(session)
    session.train(xor(epochs=2))
    run_out(session)
    assert session.curves.epoch_count == 2 and sorted(epoch_losses(session)) == [1.0, 2.0]


# ------------------------------------------------------------------ speed and time


def test_a_speed_limit_trains_no_faster_than_asked():
    session = started(speed=10)  # 10 epochs/s, 4 batches each: 40 batches a second
    started_at = time.perf_counter()
    while time.perf_counter() - started_at < 0.4:
        session.step(0.05)
        time.sleep(0.01)
    elapsed = time.perf_counter() - started_at
    # one batch at the start, then at most 40 a second: epochs <= (1 + 40 t) / 4
    assert 1 <= session.curves.epoch_count <= (1 + 40 * elapsed) / 4 + 1


def test_one_step_at_one_epoch_per_second_trains_at_most_a_couple_of_epochs():
    session = started(speed=1)
    for _ in range(3):
        session.step(0.05)
    assert session.curves.epoch_count <= 2
    # a pause saves up at most a second's worth of batches
    session.pause()
    time.sleep(0.1)
    session.speed = 1000
    session.resume()
    before = session.report()
    session.step(0.05)
    assert session.status == "running"
    after = session.report()
    trained = 4 * (after["epoch"] - before["epoch"]) + after["batch"] - before["batch"]
    assert trained <= 4 * 1000 + 1


def test_a_step_takes_about_the_seconds_it_is_given():
    session = started()
    started_at = time.perf_counter()
    session.step(0.1)
    assert time.perf_counter() - started_at < 0.6
    assert session.status == "running" and session.curves.epoch_count > 0


# ------------------------------------------------------------------ errors


def test_step_never_raises_a_failure_becomes_the_outcome_error(monkeypatch):
    def broken(self, *args, **kwargs):
        def events():
            yield {"type": "batch", "epoch": 1, "epochs": 1, "batch": 1, "batches": 4,
                   "loss": 0.5, "seconds": 0.0}
            raise RuntimeError("the disk is on fire")
        return events()

    monkeypatch.setattr(Network, "train_iter", broken)
    session = started()
    report = session.step(0.05)
    assert report["status"] == "finished" and report["outcome"] == "error"
    assert "the disk is on fire" in report["message"]
    assert report["verdict"]["kind"] == "error"
    strict_json(report)
    strict_json(session.rows())
    assert session.step(0.05)["outcome"] == "error"


def test_a_diverging_run_finishes_at_once_with_the_weights_restored():
    spec = E.default("xor")["spec"]
    spec["layers"] = spec["layers"][:-1]  # no output tanh: the output is linear, lr 1e6 explodes
    session = started(xor(spec=spec, lr=1e6))
    run_out(session)
    assert (session.status, session.outcome) == ("finished", "diverged")
    assert "Training diverged" in session.message
    assert session.verdict["kind"] == "diverged"
    assert "too large for sgd" in session.verdict["advice"]
    assert all(np.isfinite(p).all() for p in session.network.parameters())
    strict_json(session.report())
    strict_json(session.rows())


def test_a_run_is_refused_at_the_start_when_the_data_does_not_fit():
    # cross_entropy needs two outputs: train_iter says so at the call, so train() raises
    session = Session()
    with pytest.raises(ValueError, match="at least 2 outputs"):
        session.train(xor(loss="cross_entropy"))
    assert session.status == "idle"


def test_a_refused_train_leaves_the_run_in_progress_going():
    # train_iter refuses cross_entropy on one output only at the call: the old run must not
    # have been closed by then (it used to be, and the next step failed with an error)
    session = started()
    session.step(0.01)
    network, epochs = session.network, session.curves.epoch_count
    with pytest.raises(ValueError, match="at least 2 outputs"):
        session.train(xor(loss="cross_entropy"))
    assert session.network is network and session.status == "running"
    run_out(session)
    assert session.outcome == "done" and session.curves.epoch_count == 1000 > epochs


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])  # the same optimizer, and another
def test_a_refused_continue_leaves_the_model_and_its_run_as_they_were(optimizer):
    session = started(xor(optimizer="sgd", options={}))
    session.step(0.01)
    network = session.network
    before = (network.loss, network.optimizer, dict(network.training_config),
              network.optimizer.lr)
    with pytest.raises(ValueError, match="at least 2 outputs"):
        session.continue_training(xor(loss="cross_entropy", optimizer=optimizer, options={},
                                      lr=0.5))
    assert (network.loss, network.optimizer, network.training_config,
            network.optimizer.lr) == before
    assert session.status == "running"
    run_out(session)
    assert session.outcome == "done" and session.curves.epoch_count == 1000


class _HeldBatches:
    """Wraps a run's batch generator: the next batch waits until the test lets it go."""

    def __init__(self, events):
        self.events = events
        self.entered = threading.Event()
        self.release = threading.Event()

    def __iter__(self):
        return self

    def __next__(self):
        self.entered.set()
        assert self.release.wait(10), "the test never let the batch go"
        return next(self.events)

    def close(self):
        self.events.close()


def test_stop_from_another_thread_waits_for_the_step_in_progress():
    # Streamlit can run a Stop click's callback while an older script run is still inside
    # step(): without the session's lock, stop() closes a generator that is executing
    # ("ValueError: generator already executing" in the page)
    session = Session()
    session.train(dict(E.default("xor"), epochs=100_000))
    held = session._events = _HeldBatches(session._events)
    stepping = threading.Thread(target=session.step, args=(1.0,))
    stepping.start()
    assert held.entered.wait(10)
    errors, stopped = [], threading.Event()

    def press_stop():
        try:
            session.stop()
        except Exception as error:  # what the page would show as a traceback
            errors.append(error)
        stopped.set()

    threading.Thread(target=press_stop).start()
    assert not stopped.wait(0.3), "stop() ran while step() was inside a batch"
    held.release.set()
    stepping.join(10)
    assert stopped.wait(10) and errors == []
    assert session.status == "finished" and session.outcome == "stopped"
