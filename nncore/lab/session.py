"""One person's training session, stepped in short time slices by a host.

    session = Session(mnist=datasets.load_mnist_uint8())
    session.train(experiment)            # fresh weights   (or continue_training: keep them)
    while session.status != "finished":
        report = session.step(0.1)       # at most ~0.1 s of training, then back to the host
    session.rows()                       # every chart's rows, the same in both hosts

The life of a run:

    idle --train / continue_training / step_epoch--> running <--pause / resume--> paused
    running --last epoch--> evaluating (the test set, in slices) --> finished
    running | paused | evaluating --stop--> finished      (a diverged run finishes at once)

A 2-D point cloud (circle, spiral, ...) is scored on its test points when the run ends, at
once (a few hundred points): `evaluation` then holds their accuracy and the training points'.

Nothing here blocks for longer than one batch or one slice of test digits, so a host that
calls `step` on a timer stays responsive: Stop, Pause or a drawn digit are served between
two steps. `step` never raises: a failure becomes the run's outcome "error" and a message.

A host may call one session from two threads at once (Streamlit runs a click's callback in a
new script run while the run it interrupted is still inside `step`): every public method
holds the session's lock, so a call waits for the one in progress (at most one slice) and a
run's batch generator is never entered twice.
"""
from __future__ import annotations

import copy
import functools
import json
import threading
import time

import numpy as np

from .. import datasets, metrics, tasks
from .. import spec as spec_module
from ..network import Network
from . import experiment as experiment_module
from . import plane, views
from .curves import Curves, finite
from .verdict import judge

# Speed choices: epochs per second (None: as fast as the machine goes). At 100 epochs/s the
# articles' 1000-epoch XOR run takes ten seconds: long enough to watch the error fall.
SPEEDS = {"1 epoch/s": 1, "10 epochs/s": 10, "100 epochs/s": 100, "full speed": None}
DEFAULT_SPEED = "100 epochs/s"
EVALUATION_SLICE = 250  # test digits scored per slice of the final evaluation
GALLERY_SIZE = 24  # misread test digits kept for the gallery


def _one_at_a_time(method):
    """Run `method` holding the session's lock (reentrant: a method may call another)."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


class Session:
    """The current model, the run that trains it, and everything measured on it."""

    def __init__(self, mnist=None):
        self._lock = threading.RLock()
        self._mnist = mnist  # (x_train, y_train, x_test, y_test), a loader, or None: bundled
        self.network = None
        self.origin = None  # "trained here", "imported from <file>", ...
        self.experiment = None  # the settings the model was last trained with
        self.curves = Curves()
        self.initial_weights = None  # the first weighted layer's weights before training
        self.status = "idle"  # idle | running | paused | evaluating | finished
        self.outcome = None  # done | stopped | diverged | error, once finished
        self.message = None  # the diverged / error sentence
        self.verdict = None
        self.evaluation = None  # the test-set results of the current model
        self.plane = None  # a 2-D problem's train and test points (plane.data), else None
        self.version = 0  # grows whenever the rows change: a host redraws when it moves
        self.models = 0  # grows with each run started and each model put in: names them
        self.speed = SPEEDS["full speed"]
        self._events = None
        self._run = None
        self._scoring = None

    # ------------------------------------------------------------------ data

    def mnist(self):
        """The digits as (x_train, y_train, x_test, y_test), loaded once."""
        if callable(self._mnist):
            self._mnist = self._mnist()
        if self._mnist is None:
            self._mnist = datasets.load_mnist_uint8()
        return self._mnist

    # ------------------------------------------------------------------ starting

    @_one_at_a_time
    def train(self, experiment):
        """Start a run from fresh weights (the experiment's seed decides them)."""
        experiment = experiment_module.check(experiment)
        network = Network.from_spec(experiment["spec"], seed=experiment["seed"])
        network.compile(loss=experiment["loss"], optimizer=experiment["optimizer"],
                        lr=experiment["lr"], **experiment["options"])
        self._start(experiment, network, fresh=True)

    @_one_at_a_time
    def continue_training(self, experiment):
        """Train the current model on, keeping its weights and its optimizer's state.

        The optimizer's state (momenta, step counts) carries over when the optimizer and
        its options are unchanged; a new learning rate simply applies from here.
        """
        experiment = experiment_module.check(experiment)
        network = self.network
        if network is None:
            raise experiment_module.ExperimentError(
                "model", "there is no model to continue yet: press Train first")
        if _normal(network.to_spec()) != _normal(experiment["spec"]):
            raise experiment_module.ExperimentError(
                "spec", "Continue trains the current model, but the stack in Build differs "
                "from it: press Train to start a new model with this stack.")
        config = network.training_config or {}
        same = (network.optimizer is not None and config.get("optimizer")
                == experiment["optimizer"] and config.get("options") == experiment["options"])
        # what to put back when train_iter refuses the settings (say cross_entropy on one
        # output): a refused Continue leaves the model, and the run in progress, as they were
        before = (network.loss, network.optimizer, copy.copy(network.training_config),
                  network.optimizer.lr if network.optimizer is not None else None)
        try:
            if same:
                network.compile(loss=experiment["loss"], optimizer=network.optimizer)
                network.optimizer.lr = experiment["lr"]
                network.training_config.update(lr=experiment["lr"],
                                               optimizer=experiment["optimizer"],
                                               options=dict(experiment["options"]))
            else:
                network.compile(loss=experiment["loss"], optimizer=experiment["optimizer"],
                                lr=experiment["lr"], **experiment["options"])
            self._start(experiment, network, fresh=False)
        except Exception:
            network.loss, network.optimizer, network.training_config, lr = before
            if network.optimizer is not None:
                network.optimizer.lr = lr
            raise

    @_one_at_a_time
    def step_epoch(self, experiment=None):
        """Train exactly one more epoch, then pause: continues a paused or running run,
        or starts one (fresh when there is no model, else continuing it)."""
        if self.status not in ("running", "paused"):
            if self.network is None:
                self.train(experiment)
            else:
                self.continue_training(experiment)
        run = self._run
        # pause once the epoch after the last *finished* one ends: mid-epoch that is the epoch
        # in progress (even when its last batch is done but its epoch event is not yet taken),
        # at an epoch's end the next one
        finished = self.curves.epoch_count - run["offset"]
        run["pause_at"] = finished + 1
        self.status = "running"

    @_one_at_a_time
    def use_model(self, network, origin):
        """Make `network` the current model (an imported file, a pretrained net)."""
        self._close()
        self.network, self.origin = network, origin
        self._run = None  # the old run's counters: report() would read them with no experiment
        self.curves, self.initial_weights = Curves(), None
        self.status, self.outcome, self.message, self.verdict = "idle", None, None, None
        self.evaluation = None
        self.experiment = None
        self.plane = None
        self.models += 1
        self.version += 1

    def _start(self, experiment, network, fresh):
        points = plane.data(experiment)
        x, y = self._training_data(experiment, network, points)
        validation_split = experiment["validation_split"] if experiment["dataset"] == "mnist" \
            else 0.0
        # train_iter checks the data and the settings at the call, before any training; only
        # once it has accepted them does the run in progress end
        events = network.train_iter(
            x, y, experiment["epochs"], batch_size=experiment["batch_size"],
            validation_split=validation_split, seed=experiment["seed"])
        self._close()
        self._events = events
        if fresh or self.network is not network:
            self.curves = Curves()
            self.initial_weights = views.first_weights(network)
            self.origin = "trained here"
        self.network, self.experiment, self.plane = network, experiment, points
        self.evaluation = None
        self._run = {
            "offset": self.curves.epoch_count,  # epochs trained before this run
            "epoch": 0, "batch": 0, "batches": 0, "pause_at": None,
            "seconds": 0.0, "budget": 0.0, "clock": None, "diverged": None,
        }
        self.status, self.outcome, self.message, self.verdict = "running", None, None, None
        self.models += 1
        self.version += 1

    def _training_data(self, experiment, network, points=None):
        if points is not None:  # a 2-D problem: its training points (the test ones wait)
            tasks.check_inputs(network.input_shape, points["dataset"])
            return tasks.shape_inputs(points["x_train"], network.input_shape), points["y_train"]
        if experiment["dataset"] == "xor":
            return tasks.training_data("xor", network.input_shape)
        return tasks.training_data("mnist", network.input_shape, size=experiment["train_size"],
                                   seed=experiment["seed"], mnist=self.mnist())

    # ------------------------------------------------------------------ controls

    @_one_at_a_time
    def pause(self):
        if self.status == "running":
            self.status = "paused"

    @_one_at_a_time
    def resume(self):
        if self.status == "paused":
            self._run["pause_at"] = None
            self.status = "running"

    @_one_at_a_time
    def stop(self):
        """End the run (or the final evaluation) now; the model keeps its weights."""
        if self.status in ("running", "paused"):
            self._finish("stopped")
        elif self.status == "evaluating":
            self._scoring = None
            self.status = "finished"
            self._judge()

    @_one_at_a_time
    def evaluate(self):
        """Score the current model on the test set, in slices (an MNIST model only)."""
        if self.network is None or not self._fits("mnist"):
            return
        x_test = self.mnist()[2]
        self._scoring = {"next": 0, "predicted": np.zeros(len(x_test), dtype=np.int64)}
        self.status = "evaluating"

    def _close(self):
        if self._events is not None:
            self._events.close()
        self._events, self._scoring = None, None

    # ------------------------------------------------------------------ stepping

    @_one_at_a_time
    def step(self, seconds=0.1):
        """Advance by at most about `seconds` of work (one batch or slice more at worst)."""
        deadline = time.perf_counter() + float(seconds)
        try:
            if self.status == "running":
                self._train_until(deadline)
            if self.status == "evaluating":
                self._score_until(deadline)
        except Exception as error:  # a message for a person, never a traceback in a page
            self._close()
            self.status, self.outcome = "finished", "error"
            self.message = "Training stopped with an error: %s" % (error,)
            self.verdict = {"kind": "error", "title": self.message, "advice": None}
            self.version += 1
        return self.report()

    def _train_until(self, deadline):
        run = self._run
        now = time.perf_counter()
        if self.speed is not None:
            # a bucket of batches, refilled at speed x batches-per-epoch per second; it holds
            # at most a second's worth, so a pause does not save up a burst
            if run["clock"] is not None and run["batches"]:
                rate = self.speed * run["batches"]
                run["budget"] = min(run["budget"] + (now - run["clock"]) * rate, rate)
            elif run["clock"] is None:
                run["budget"] = 1.0
        run["clock"] = now
        started = now
        while self.status == "running" and time.perf_counter() < deadline:
            if self.speed is not None and run["budget"] < 1:
                break
            event = next(self._events, {"type": "done"})
            self._take(event)
            if event["type"] == "batch" and self.speed is not None:
                run["budget"] -= 1
        run["seconds"] += time.perf_counter() - started

    def _take(self, event):
        run, kind = self._run, event["type"]
        self.curves.record(event, run["offset"])
        if kind == "batch":
            run["epoch"], run["batch"], run["batches"] = event["epoch"], event["batch"], \
                event["batches"]
            if event["batches"] >= 8 or event["batch"] == event["batches"]:
                self.version += 1
        elif kind == "epoch":
            self.version += 1
            if run["pause_at"] is not None and event["epoch"] >= run["pause_at"]:
                run["pause_at"] = None
                self.status = "paused"
        elif kind == "diverged":
            self.message = event["message"]
            self._finish("diverged")
        elif kind == "done":
            self._finish("done")

    def _finish(self, outcome):
        self._close()
        self.outcome = outcome
        self.version += 1
        if outcome == "done" and self.experiment["dataset"] == "mnist":
            self.evaluate()  # the verdict waits for the test accuracy
            return
        if self.plane is not None:  # a few hundred test points: scored at once
            self.evaluation = plane.evaluation(self.network, self.plane)
        self.status = "finished"
        self._judge()

    def _score_until(self, deadline):
        scoring = self._scoring
        _, _, x_test, y_test = self.mnist()
        while scoring["next"] < len(x_test) and time.perf_counter() < deadline:
            start = scoring["next"]
            end = min(start + EVALUATION_SLICE, len(x_test))
            outputs = self.network.predict(tasks.shape_inputs(x_test[start:end],
                                                              self.network.input_shape))
            scoring["predicted"][start:end] = outputs.reshape(end - start, -1).argmax(axis=1)
            scoring["next"] = end
        if scoring["next"] < len(x_test):
            return
        predicted, labels = scoring["predicted"], np.asarray(y_test, dtype=np.int64)
        wrong = np.flatnonzero(predicted != labels)
        self.evaluation = {
            "dataset": "mnist",
            "accuracy": metrics.accuracy(labels, predicted),
            "samples": len(labels),
            "confusion": metrics.confusion_matrix(labels, predicted, num_classes=10),
            "wrong_count": len(wrong),
            "wrong": wrong[:GALLERY_SIZE],
            "predicted": predicted[wrong[:GALLERY_SIZE]],
        }
        self._scoring = None
        self.status = "finished"
        self.version += 1
        self._judge()

    def _judge(self):
        if self.experiment is None or self.outcome is None:
            return
        if self.outcome == "error":
            return
        accuracy = self.evaluation["accuracy"] if self.evaluation else None
        self.verdict = judge(self.experiment, self.curves, self.outcome, accuracy, self.message)
        self.version += 1

    def _fits(self, dataset):
        if not self.network.built:  # a network given without its input shape fits nothing yet
            return False
        try:
            tasks.check_fits(self.network.input_shape, self.network.output_shape, dataset)
        except tasks.DataMismatch:
            return False
        return True

    # ------------------------------------------------------------------ what hosts draw

    @_one_at_a_time
    def report(self):
        """Where the run stands, as plain JSON-able data (small: sent at every step)."""
        run = self._run or {}
        last = self.curves.last or {}
        offset = run.get("offset", 0)
        target = self.experiment["epochs"] if self.experiment and self._run else 0
        scoring = self._scoring
        return {
            "status": self.status,
            "outcome": self.outcome,
            "epoch": self.curves.epoch_count,
            "epochs": offset + target,
            "batch": run.get("batch", 0),
            "batches": run.get("batches", 0),
            "epochs_done": self.curves.epoch_count,
            "seconds": round(run.get("seconds", 0.0), 3),
            "loss": finite(last.get("loss")),
            "val_loss": finite(last.get("val_loss")),
            "accuracy": finite(last.get("accuracy")),
            "val_accuracy": finite(last.get("val_accuracy")),
            "evaluated": scoring["next"] if scoring else None,
            "test_size": (self.evaluation["samples"] if self.evaluation
                          else len(self.mnist()[2]) if scoring else None),
            "test_accuracy": self.evaluation["accuracy"] if self.evaluation else None,
            "progress": self._progress(),
            "message": self.message,
            "verdict": self.verdict,
            "version": self.version,
            "drawing_offer": self.drawing_offer(),
            "text": views.status_text(self),
        }

    @_one_at_a_time
    def final_loss_of(self, experiment):
        """(the last epoch's training loss, the epochs trained) when the run that just ended
        is a whole, fresh run of exactly `experiment` (what its script,
        nncore.lab.code.as_python, reproduces); else None (no run, a continued or imported
        model, stopped early, other settings)."""
        run, last = self._run, self.curves.last
        if (run is None or last is None or run["offset"] or self.outcome != "done"
                or self.origin != "trained here"):
            return None
        try:
            wanted = experiment_module.check(experiment)
        except experiment_module.ExperimentError:
            return None
        loss = finite(last.get("loss"))
        if _without_preset(wanted) != _without_preset(self.experiment) or loss is None:
            return None
        return loss, self.curves.epoch_count

    @_one_at_a_time
    def drawing_offer(self):
        """What Draw should offer first, as a number that names it (a host offers each
        number once), or None: a digit network trained here whose run ended by itself or by
        Stop (not one that diverged or failed), or one just put in (an imported file)."""
        if self.network is None or not self._fits("mnist"):
            return None
        ended = (self.status == "finished" and self.outcome in ("done", "stopped")
                 and self.origin == "trained here")
        put_in = self.status == "idle" and self._run is None
        return self.models if ended or put_in else None

    def _progress(self):
        """How far the run (or the test evaluation) is, from 0 to 1; None without one."""
        if self._scoring is not None:
            return self._scoring["next"] / float(len(self.mnist()[2]))
        run = self._run
        if not run or not run["batches"]:
            return None
        done = run["epoch"] - 1 + run["batch"] / float(run["batches"])
        return min(done / self.experiment["epochs"], 1.0)

    @_one_at_a_time
    def rows(self):
        """Every chart's rows for the current model: see nncore.lab.views.rows."""
        return views.rows(self)


def _without_preset(experiment):
    """The settings that decide a run (the preset only named where they came from)."""
    return {key: value for key, value in experiment.items() if key != "preset"}


def _normal(spec):
    """A spec in its canonical form (every option spelled out), for comparing two stacks."""
    input_shape, layers = spec_module.parse(spec)
    canonical = {"input_shape": list(input_shape),
                 "layers": [spec_module.layer_to_dict(layer) for layer in layers]}
    return json.dumps(canonical, sort_keys=True)
