"""nncore.lab.curves (thinned once, evenly, the last point kept), nncore.lab.verdict, and the
JSON-ability of report() and rows() in every state of a session."""
from __future__ import annotations

import math

import numpy as np
import pytest
from lab_helpers import mnist, run_out, strict_json

from nncore.lab import Session, verdict
from nncore.lab import experiment as E
from nncore.lab.curves import BATCH_POINTS, EPOCH_POINTS, Curve, Curves, finite


def epoch_event(epoch, loss, accuracy=None, val_loss=None):
    return {"type": "epoch", "epoch": epoch, "epochs": 0, "loss": loss, "accuracy": accuracy,
            "val_loss": val_loss, "val_accuracy": None}


def batch_event(epoch, batch, batches, loss):
    return {"type": "batch", "epoch": epoch, "epochs": 0, "batch": batch, "batches": batches,
            "loss": loss}


# ------------------------------------------------------------------ one curve


@pytest.mark.parametrize("count", [1, 2, 7, 600, 601, 1000, 100_000, 123_457])
def test_a_curve_keeps_at_most_twice_its_limit_evenly_spaced_and_the_last_point(count):
    limit = 300
    curve = Curve(limit)
    for index in range(1, count + 1):
        curve.add(index, index * 10)
    points = curve.all()
    indices = [index for index, _ in points]
    assert len(points) <= 2 * limit + 1  # the kept points, and the latest one
    assert indices[0] == 1 and indices[-1] == count
    kept = indices if curve.points[-1][0] == count else indices[:-1]
    assert len(kept) <= 2 * limit
    assert len(set(np.diff(kept))) <= 1  # evenly spaced
    if count > 2 * limit:
        assert len(kept) > limit // 2  # thinned, not emptied
    assert all(values == index * 10 for index, values in points)


def test_an_empty_curve_has_no_points():
    assert Curve(10).all() == []


def test_finite_gives_none_for_what_json_cannot_hold():
    assert finite(None) is None and finite(float("nan")) is None and finite(float("inf")) is None
    assert finite(np.float32(0.5)) == 0.5 and type(finite(np.float32(0.5))) is float
    assert finite(3) == 3.0


# ------------------------------------------------------------------ the curves of a run


def test_a_100000_epoch_run_ships_a_bounded_evenly_spaced_loss_curve():
    curves = Curves()
    for epoch in range(1, 100_001):
        curves.record(epoch_event(epoch, 1.0 / epoch, accuracy=0.5), 0)
    rows = curves.loss_rows()
    train = [row["step"] for row in rows if row["series"] == "train"]
    assert len(train) <= 2 * EPOCH_POINTS + 1
    assert train[0] == 1.0 and train[-1] == 100_000.0
    assert len(set(np.diff(train[:-1]))) == 1
    assert [row for row in rows if row["series"] == "validation"] == []
    assert len(curves.accuracy_rows()) == len(train)
    assert curves.epoch_count == 100_000 and curves.first_loss == 1.0
    strict_json(rows)


def test_batch_losses_are_drawn_for_real_mini_batch_runs_only():
    xor_like, digits = Curves(), Curves()
    for epoch in (1, 2):
        for batch in range(1, 5):
            xor_like.record(batch_event(epoch, batch, 4, 0.5), 0)
        for batch in range(1, 9):
            digits.record(batch_event(epoch, batch, 8, 0.5), 0)
    assert xor_like.loss_rows() == []
    steps = [row["step"] for row in digits.loss_rows()]
    assert steps[0] == 0.125 and steps[-1] == 2.0 and len(steps) == 16


def test_a_long_mini_batch_run_keeps_a_bounded_batch_curve_ending_at_the_last_batch():
    curves = Curves()
    batches = 50
    for epoch in range(1, 201):  # 10,000 batches
        for batch in range(1, batches + 1):
            curves.record(batch_event(epoch, batch, batches, 1.0), 0)
        curves.record(epoch_event(epoch, 1.0, val_loss=2.0), 0)
    rows = curves.loss_rows()
    batch_steps = [row["step"] for row in rows if row["series"] == "batch"]
    assert len(batch_steps) <= 2 * BATCH_POINTS + 1 and batch_steps[-1] == 200.0
    assert batch_steps[0] == pytest.approx(1.0 / batches)
    validation = [row["step"] for row in rows if row["series"] == "validation"]
    train = [row["step"] for row in rows if row["series"] == "train"]
    assert validation == train == [float(epoch) for epoch in range(1, 201)]


def test_a_continued_run_goes_on_counting_epochs_and_batches():
    curves = Curves()
    for epoch in (1, 2, 3):
        for batch in range(1, 9):
            curves.record(batch_event(epoch, batch, 8, 0.5), 0)
        curves.record(epoch_event(epoch, 1.0 / epoch), 0)
    for epoch in (1, 2):  # the continued run counts from 1 again; the offset is 3
        for batch in range(1, 9):
            curves.record(batch_event(epoch, batch, 8, 0.25), 3)
        curves.record(epoch_event(epoch, 0.1), 3)
    assert curves.epoch_count == 5 and curves.first_loss == 1.0
    train = [row["step"] for row in curves.loss_rows() if row["series"] == "train"]
    assert train == [1.0, 2.0, 3.0, 4.0, 5.0]
    batch_steps = [row["step"] for row in curves.loss_rows() if row["series"] == "batch"]
    assert batch_steps == sorted(batch_steps) and batch_steps[-1] == 5.0
    assert curves.batch_count == 40


def test_non_finite_values_leave_holes_not_nan_in_the_rows():
    curves = Curves()
    curves.record(epoch_event(1, float("inf"), val_loss=float("nan")), 0)
    curves.record(epoch_event(2, 0.5, val_loss=0.7), 0)
    rows = curves.loss_rows()
    assert [(row["step"], row["series"]) for row in rows] == \
        [(2.0, "train"), (2.0, "validation")]
    assert curves.first_loss == 0.5  # the first finite loss
    strict_json(rows)


def test_a_session_run_of_1000_xor_epochs_is_thinned_and_ends_at_the_last_epoch():
    session = Session()
    session.speed = None
    session.train(E.default("xor"))
    run_out(session)
    train = [row["step"] for row in session.curves.loss_rows() if row["series"] == "train"]
    assert len(train) <= 2 * EPOCH_POINTS + 1 and train[-1] == 1000.0
    session.continue_training(dict(E.default("xor"), epochs=10))
    run_out(session)
    train = [row["step"] for row in session.curves.loss_rows() if row["series"] == "train"]
    assert train[-1] == 1010.0 and train == sorted(set(train))


# ------------------------------------------------------------------ the verdict


def xor_run(**changes):
    session = Session()
    session.speed = None
    session.train(dict(E.default("xor"), **changes))
    run_out(session)
    return session


def test_a_good_xor_run_is_judged_learned():
    session = xor_run()
    assert session.verdict == {"kind": "learned", "advice": None,
                               "title": "Learned: 4 of 4 points right after 1000 epochs."}


def test_xor_at_lr_10_did_not_learn_and_the_advice_blames_the_learning_rate():
    session = xor_run(lr=10.0)
    assert session.outcome == "done"
    assert session.verdict["kind"] in ("did_not_learn", "diverged")
    assert "learning rate 10 is too large for sgd: try 0.1" in session.verdict["advice"]


def test_xor_at_a_tiny_lr_did_not_learn_and_the_advice_says_too_small():
    session = xor_run(lr=1e-4, epochs=50)
    assert session.verdict["kind"] == "did_not_learn"
    assert "too small for sgd: try 0.1" in session.verdict["advice"]


def test_a_short_run_at_a_fine_lr_advises_more_epochs():
    session = xor_run(epochs=5)
    assert session.verdict["kind"] == "did_not_learn"
    assert session.verdict["advice"].startswith("Train for more epochs")


def test_a_diverged_mnist_mlp_is_judged_diverged():
    # the tanh MLP does not overflow at lr 1e6 (see test_lab_mnist); relu units and plain
    # SGD do: the loss becomes inf and train_iter reports the divergence
    spec = E.default("mnist-mlp")["spec"]
    for layer in spec["layers"]:
        if layer["type"] == "tanh":
            layer["type"] = "relu"
    session = Session(mnist=mnist(500))
    session.speed = None
    session.train(dict(E.default("mnist-mlp"), spec=spec, optimizer="sgd", options={},
                       lr=1e6, train_size=200, epochs=1))
    run_out(session)
    assert (session.status, session.outcome) == ("finished", "diverged")
    assert session.evaluation is None  # a diverged run is not scored on the test set
    assert session.verdict["kind"] == "diverged"
    assert session.verdict["title"].startswith("Training diverged")
    assert "too large for sgd: try 0.01" in session.verdict["advice"]
    strict_json(session.report())


def test_suggested_lr_is_the_presets_for_its_optimizer_else_the_textbooks():
    assert verdict.suggested_lr(E.default("xor")) == 0.1
    assert verdict.suggested_lr(dict(E.default("xor"), optimizer="adam")) == 0.001
    assert verdict.suggested_lr(dict(E.default("mnist-cnn"), optimizer="adadelta")) == 1.0


def test_judge_a_mnist_run_by_its_test_accuracy_else_its_training_accuracy():
    experiment = E.default("mnist-mlp")
    curves = Curves()
    curves.record(epoch_event(1, 2.0, accuracy=0.3), 0)
    curves.record(epoch_event(2, 1.9, accuracy=0.4), 0)
    assert verdict.judge(experiment, curves, "done", test_accuracy=0.6)["kind"] == "learned"
    judged = verdict.judge(experiment, curves, "done")
    assert judged["kind"] == "did_not_learn" and "40.0% training accuracy" in judged["title"]
    judged = verdict.judge(experiment, curves, "stopped")
    assert judged["kind"] == "stopped" and judged["advice"] == "Continue trains on from here."
    judged = verdict.judge(experiment, Curves(), "done")
    assert judged["kind"] == "did_not_learn" and "no epoch finished" in judged["title"]


def test_judge_a_run_without_accuracy_by_the_fall_of_its_loss():
    experiment = dict(E.default("xor"), dataset="other")  # e.g. a regression, no accuracy
    curves = Curves()
    curves.record(epoch_event(1, 1.0), 0)
    curves.record(epoch_event(2, 0.4), 0)
    assert verdict.judge(experiment, curves, "done")["kind"] == "learned"
    curves.record(epoch_event(3, 0.8), 0)
    judged = verdict.judge(experiment, curves, "done")
    assert judged["kind"] == "did_not_learn" and "error 0.8, from 1" in judged["title"]


def test_a_loss_that_rose_blames_a_learning_rate_above_the_suggestion():
    experiment = dict(E.default("xor"), lr=0.2)  # twice the suggestion: not "too large" alone
    curves = Curves()
    curves.record(epoch_event(1, 0.3, accuracy=0.5), 0)
    curves.record(epoch_event(2, 0.35, accuracy=0.5), 0)
    assert "too large" in verdict.judge(experiment, curves, "done")["advice"]
    curves = Curves()
    curves.record(epoch_event(1, 0.3, accuracy=0.5), 0)
    curves.record(epoch_event(2, 0.29, accuracy=0.5), 0)
    assert "more epochs" in verdict.judge(experiment, curves, "done")["advice"]


# ------------------------------------------------------------------ JSON in every state


def test_report_and_rows_are_strict_json_in_every_state():
    session = Session(mnist=mnist(500))
    session.speed = None
    seen = set()

    def check():
        seen.add(session.status)
        report = session.report()
        strict_json(report)
        strict_json(session.rows())
        for key in ("loss", "val_loss", "accuracy", "val_accuracy", "progress"):
            assert report[key] is None or math.isfinite(report[key])

    check()  # idle
    session.train(dict(E.default("mnist-mlp"), train_size=200, epochs=2))
    check()  # running, nothing trained yet
    session.step(0.001)
    check()  # running, mid-epoch
    session.pause()
    check()  # paused
    session.resume()
    while session.status == "running":
        session.step(0.001)
    check()  # evaluating or finished
    run_out(session)
    check()  # finished
    session.step_epoch(dict(E.default("mnist-mlp"), train_size=200, epochs=2))
    run_out(session)
    check()  # paused after one more epoch
    session.stop()
    check()  # stopped
    assert seen >= {"idle", "running", "paused", "finished"}
