"""The verdict at the end of a run: learned, did not learn, diverged (or simply stopped),
each with one sentence of advice. A run that failed must never read as a success.

The rules, in order:
- diverged: the loss became NaN or infinite (train_iter restored the last finite weights);
- learned: the classes are told apart (XOR: all four points right; digits: at least
  MIN_DIGIT_ACCURACY; a 2-D point cloud: at least MIN_PLANE_ACCURACY of its test points)
  and the loss fell; a network without accuracy: the loss at least halved;
- otherwise a finished run did not learn, and a stopped one is just stopped (it may still).
"""
from __future__ import annotations

from .experiment import PLANE_DATASETS, PRESETS, default_lr

MIN_DIGIT_ACCURACY = 0.5  # chance is 0.1: half the digits right means it learned something
LOSS_FALL = 0.5  # "the loss fell": the last epoch's loss below half the first's
MIN_PLANE_ACCURACY = 0.8  # chance is 0.5 on the balanced 2-D problems
TOO_LARGE = 3.0  # an lr this many times the suggested one may be why it failed
TOO_SMALL = 1 / 30.0


def suggested_lr(experiment):
    """The lr to suggest: the preset's when it uses the same optimizer, else the textbook's."""
    preset = PRESETS.get(experiment.get("preset"), {})
    if preset.get("optimizer") == experiment["optimizer"]:
        return preset["lr"]
    return default_lr(experiment["optimizer"])


def _lr_advice(experiment, loss_rose):
    lr, name = experiment["lr"], experiment["optimizer"]
    suggestion = suggested_lr(experiment)
    if lr >= TOO_LARGE * suggestion or (loss_rose and lr > suggestion):
        return "The learning rate %g is too large for %s: try %g." % (lr, name, suggestion)
    if lr <= TOO_SMALL * suggestion:
        return "The learning rate %g is too small for %s: try %g." % (lr, name, suggestion)
    return None


def _learned(experiment, curves, test_accuracy):
    """(learned?, what it measured) from the last epoch and the test set."""
    last, first = curves.last, curves.first_loss
    if last is None or last["loss"] is None:
        return False, "no epoch finished"
    fell = first is not None and last["loss"] <= LOSS_FALL * first
    if experiment["dataset"] == "xor" and last["accuracy"] is not None:
        right = int(round(4 * last["accuracy"]))
        return right == 4 and (fell or last["loss"] < 0.05), "%d of 4 points right" % right
    accuracy = test_accuracy if test_accuracy is not None else last["accuracy"]
    if experiment["dataset"] == "mnist" and accuracy is not None:
        where = "test" if test_accuracy is not None else "training"
        return accuracy >= MIN_DIGIT_ACCURACY, "%.1f%% %s accuracy" % (100 * accuracy, where)
    if experiment["dataset"] in PLANE_DATASETS and accuracy is not None:
        where = "test" if test_accuracy is not None else "training"
        return accuracy >= MIN_PLANE_ACCURACY, "%.1f%% %s accuracy" % (100 * accuracy, where)
    return fell, "error %.4g, from %.4g" % (last["loss"], first)


def judge(experiment, curves, outcome, test_accuracy=None, diverged_message=None):
    """{"kind", "title", "advice"}; kind is learned | did_not_learn | diverged | stopped."""
    if outcome == "diverged":
        advice = _lr_advice(experiment, loss_rose=True) or (
            "Try a smaller learning rate, a larger batch, or an adaptive optimizer such as adam.")
        return {"kind": "diverged", "title": diverged_message or "Training diverged.",
                "advice": advice}
    learned, measured = _learned(experiment, curves, test_accuracy)
    epochs = curves.epoch_count
    if learned:
        return {"kind": "learned",
                "title": "Learned: %s after %d epoch%s." % (measured, epochs, "s"[epochs == 1:]),
                "advice": None}
    if outcome == "stopped":
        return {"kind": "stopped",
                "title": "Stopped after %d epoch%s (%s); the model keeps the weights it reached."
                % (epochs, "s"[epochs == 1:], measured),
                "advice": "Continue trains on from here."}
    last, first = curves.last, curves.first_loss
    loss_rose = bool(last and first and last["loss"] is not None and last["loss"] > first)
    advice = _lr_advice(experiment, loss_rose) or (
        "Train for more epochs, try another seed, or give the network more units.")
    return {"kind": "did_not_learn",
            "title": "Did not learn: %s after %d epoch%s." % (measured, epochs, "s"[epochs == 1:]),
            "advice": advice}
