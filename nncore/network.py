"""Network: a stack of layers, a loss and an optimizer, and the one training loop.

`train_iter` is that loop, written as a generator of plain-dict events so that a host can
draw a chart between batches or stop whenever it likes; `fit` just drains it.
"""
from __future__ import annotations

import math
import time

import numpy as np

from . import losses as losses_module
from . import optimizers as optimizers_module
from . import spec as spec_module
from .errors import SpecError, TrainingDiverged
from .guard import DivergenceGuard
from .layers import ActivationLayer, Dropout, Layer, Unfilled


class History:
    """What `fit` returns: `history["loss"]`, `["val_loss"]`, `["accuracy"]`, `["val_accuracy"]`,
    one value per epoch (None where there is nothing to measure)."""

    def __init__(self):
        self.history = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
        self.epochs = 0

    def record(self, event):
        for key in self.history:
            self.history[key].append(event[key])
        self.epochs = event["epoch"]

    def __repr__(self):
        return "History(epochs=%d, loss=%r)" % (
            self.epochs,
            self.history["loss"][-1] if self.history["loss"] else None,
        )


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError("%s must be a positive integer, got %r" % (name, value))
    return int(value)


class Network:
    """A feed-forward stack. Layers are built (weights created) once the input shape is known:
    from `input_shape=`, from a spec, or from the first batch given to fit/predict."""

    def __init__(self, layers=None, dtype="float32", input_shape=None, seed=0,
                 max_parameters=spec_module.MAX_PARAMETERS):
        self.dtype = np.dtype(dtype)
        self.max_parameters = max_parameters
        if self.dtype not in (np.float32, np.float64):
            raise ValueError("dtype must be float32 or float64, got %s" % dtype)
        self.seed = seed
        self.rng = np.random.default_rng(seed)  # weight initialisation, in layer order
        self.layers = []
        self.input_shape = None
        self.loss = None
        self.optimizer = None
        self.training_config = None
        if input_shape is not None:
            self.input_shape = spec_module.check_input_shape(input_shape)
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ building

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError("add() takes a layer such as nncore.Dense(10), got %r" % (layer,))
        if not self.layers and self.input_shape is None and getattr(layer, "input_size", None):
            # Dense(784, 100) as the first layer states the network's input: (784,)
            self.input_shape = (layer.input_size,)
        self.layers.append(layer)
        if self.input_shape is not None:
            try:
                self._build()
            except SpecError:
                self.layers.pop()  # a layer that does not fit is not kept
                raise
        return self

    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (without the batch axis).

        A network whose layers are built keeps its input shape: building it for another
        shape is a SpecError naming its first built layer.
        """
        input_shape = spec_module.check_input_shape(input_shape)
        if self.input_shape is not None and input_shape != self.input_shape:
            for index, layer in enumerate(self.layers):
                if layer.built:
                    raise SpecError(
                        "was built for the input shape %s and cannot be rebuilt for %s; "
                        "make a new network for another input"
                        % (self.input_shape, input_shape),
                        index,
                        layer.type,
                    )
        self.input_shape = input_shape
        self._build()
        return self

    def _build(self):
        shape = self.input_shape
        # raises SpecError naming the layer, before any weight is allocated
        spec_module.infer_shapes(self.layers, shape, self.max_parameters)
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, self.rng, self.dtype)
            shape = layer.output_shape

    @property
    def built(self):
        return self.input_shape is not None and all(layer.built for layer in self.layers)

    @property
    def output_shape(self):
        self._require_built()
        return self.layers[-1].output_shape

    def _require_built(self):
        if not self.layers:
            raise ValueError("the network has no layers; add some first")
        if not self.built:
            raise ValueError(
                "the network does not know its input shape yet: call build(input_shape) "
                "or give it data"
            )

    @classmethod
    def from_spec(cls, spec, dtype="float32", seed=0, max_parameters=spec_module.MAX_PARAMETERS,
                  initialise=True):
        """A network built from a spec, with random starting weights drawn from `seed`.

        initialise=False is for a caller that overwrites every weight (nncore.io.load): the
        weights are zeros in `dtype`, nothing is drawn (and no float64 copy is made), and the
        generator still moves on as if they had been drawn (layers.Unfilled)."""
        input_shape, layers = spec_module.parse(spec, max_parameters)
        if initialise:
            return cls(layers, dtype=dtype, input_shape=input_shape, seed=seed,
                       max_parameters=max_parameters)
        network = cls(dtype=dtype, input_shape=input_shape, seed=seed,
                      max_parameters=max_parameters)
        rng, network.rng = network.rng, Unfilled(network.rng)
        try:
            for layer in layers:
                network.add(layer)
        finally:
            network.rng = rng
        return network

    def to_spec(self):
        self._require_built()
        return {
            "input_shape": list(self.input_shape),
            "layers": [spec_module.layer_to_dict(layer) for layer in self.layers],
        }

    def parameters(self):
        """The live weight arrays, layer by layer (kernel, bias, ...)."""
        return [p for layer in self.layers for p in layer.params]

    def gradients(self):
        return [g for layer in self.layers for g in layer.grads]

    def count_parameters(self):
        return sum(p.size for p in self.parameters())

    def summary_rows(self):
        self._require_built()
        return [
            {
                "index": index,
                "layer": repr(layer),
                "type": layer.type,
                "output_shape": layer.output_shape,
                "parameters": sum(p.size for p in layer.params),
            }
            for index, layer in enumerate(self.layers)
        ]

    def summary(self):
        rows = self.summary_rows()
        lines = ["%-4s %-44s %-16s %12s" % ("#", "Layer", "Output shape", "Parameters")]
        lines.append("-" * len(lines[0]))
        lines.append("%-4s %-44s %-16s %12s" % ("", "input", str(self.input_shape), ""))
        for row in rows:
            number = row["index"] + 1  # layers are counted from 1, as in every message
            lines.append("%-4d %-44s %-16s %12s" % (number, row["layer"], row["output_shape"],
                                                    format(row["parameters"], ",")))
        lines.append("-" * len(lines[0]))
        lines.append("Total parameters: %s" % format(self.count_parameters(), ","))
        return "\n".join(lines)

    def __repr__(self):
        return "Network([%s])" % ", ".join(repr(layer) for layer in self.layers)

    # ------------------------------------------------------------------ compile

    def compile(self, loss="mse", optimizer="sgd", lr=None, **optimizer_options):
        """Choose the loss and the optimizer; lr=None is the optimizer's own default
        (optimizers.DEFAULT_LR).

        An Optimizer object is used as it is, settings and state included (as in Keras, whose
        compile takes no learning rate): lr or options beside one are a ValueError, not
        silently dropped; give them to its constructor."""
        if isinstance(optimizer, optimizers_module.Optimizer) and (
            lr is not None or optimizer_options
        ):
            given = dict(optimizer_options)
            if lr is not None:
                given = dict(lr=lr, **given)
            settings = ", ".join("%s=%r" % item for item in given.items())
            raise ValueError(
                "compile() got %s beside an optimizer object, which keeps its own settings; "
                "pass %s to its constructor instead: %s(%s)"
                % (settings, "it" if len(given) == 1 else "them", type(optimizer).__name__,
                   settings)
            )
        self.loss = losses_module.get(loss)
        self.optimizer = optimizers_module.get(optimizer, lr=lr, **optimizer_options)
        # what a model file records to compile the same way again: the optimizer's own settings
        options = self.optimizer.options()
        if isinstance(optimizer, str):
            name = optimizer
            options = {key: options[key] for key in optimizers_module.OPTIONS[name]}
        else:
            name = self.optimizer.name
            if name == "sgd" and options.pop("momentum", 0):
                name = "nesterov" if options.get("nesterov") else "momentum"
                options = {"momentum": self.optimizer.momentum}
            else:
                options = {key: options[key] for key in optimizers_module.OPTIONS.get(name, {})}
        self.training_config = {
            "loss": self.loss.name,
            "optimizer": name,
            "lr": self.optimizer.lr,
            "options": options,
        }
        return self

    def _require_compiled(self):
        if self.loss is None:
            raise ValueError("compile the network first: net.compile(loss=..., optimizer=...)")

    # ------------------------------------------------------------------ data checks

    def _check_x(self, x):
        x = np.asarray(x)
        if self.input_shape is None and self.layers:
            if x.ndim < 2:
                raise ValueError("x must have a batch axis: shape (samples, features...)")
            self.build(x.shape[1:])
        self._require_built()
        expected = self.input_shape
        if x.shape[1:] != expected:
            # an (N, H, W) batch is one channel of an (N, H, W, 1) input
            if len(expected) == 3 and expected[2] == 1 and x.shape[1:] == expected[:2]:
                x = x[..., None]
            else:
                raise ValueError(
                    "x should have shape (samples, %s) but has shape %s"
                    % (", ".join(str(d) for d in expected), x.shape)
                )
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError("x must be numeric, got dtype %s" % x.dtype)
        return x.astype(self.dtype, copy=False)

    def _check_y(self, y, samples):
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != samples:
            raise ValueError(
                "x has %d samples but y has %s" % (samples, y.shape[0] if y.ndim else "none")
            )
        output = self.output_shape
        if self.loss.name == "cross_entropy" and output[-1] < 2:
            raise ValueError(
                "cross_entropy needs at least 2 outputs (one per class) but the network has "
                "%d; use binary_cross_entropy or mse for a single output" % output[-1]
            )
        if self.loss.name == "cross_entropy" and y.ndim == 1:
            if not np.issubdtype(y.dtype, np.integer):
                raise ValueError("class labels for cross_entropy must be integers")
            if samples and (y.min() < 0 or y.max() >= output[-1]):
                raise ValueError("class labels must lie in [0, %d)" % output[-1])
            return y
        if y.shape == (samples,) and output == (1,):
            y = y.reshape(samples, 1)
        if y.shape[1:] != output:
            hint = ""
            if self.loss.name == "cross_entropy":
                hint = " (or integer labels of shape (samples,))"
            raise ValueError(
                "y should have shape (samples, %s)%s but has shape %s"
                % (", ".join(str(d) for d in output), hint, y.shape)
            )
        return y.astype(self.dtype, copy=False)

    # ------------------------------------------------------------------ forward / backward

    def _fused_tail(self):
        """How the last layer meets a fused loss: 'skip' (an activation layer the loss
        applies itself), 'linear' (a dense/conv layer whose activation the loss applies),
        or None."""
        fused = self.loss.fused_activation if self.loss is not None else None
        last = self.layers[-1]
        if fused is None:
            return None
        if isinstance(last, ActivationLayer) and last.type == fused:
            return "skip"
        if getattr(last, "activation", None) == fused:
            return "linear"
        return None

    def _forward(self, x, training, for_loss):
        """The network's outputs; for_loss=True stops before an activation the loss fuses."""
        tail = self._fused_tail() if for_loss else None
        layers = self.layers[:-1] if tail == "skip" else self.layers
        last = len(layers) - 1
        for index, layer in enumerate(layers):
            if index == last and tail == "linear":
                x = layer.forward(x, training, activate=False)
            else:
                x = layer.forward(x, training)
        self._backward_layers = layers
        return x

    def _backward(self, grad):
        layers = self._backward_layers
        for index in range(len(layers) - 1, -1, -1):
            # the first layer's dE/dX is never used: skip that matrix product
            grad = layers[index].backward(grad, need_input_grad=index > 0)

    def _correct(self, outputs, targets):
        """How many predictions are right (None when accuracy has no meaning)."""
        if self.loss.name == "cross_entropy":
            predicted = outputs.argmax(axis=-1)
            actual = targets if targets.ndim == 1 else targets.argmax(axis=-1)
            return int(np.count_nonzero(predicted == actual))
        if outputs.ndim != 2:
            return None
        if self.loss.name == "binary_cross_entropy":
            # logits > 0 <=> probability > 0.5; every output is one yes/no answer
            return float(((outputs > 0) == (targets > 0.5)).mean(axis=-1).sum())
        if outputs.shape[-1] == 1:
            return int(((outputs > 0.5) == (targets > 0.5)).sum())
        return int((outputs.argmax(axis=-1) == targets.argmax(axis=-1)).sum())

    def predict(self, x, batch_size=256):
        """Outputs for a batch, in slices of batch_size so big batches stay small in memory."""
        batch_size = _check_positive_int(batch_size, "batch_size")
        x = self._check_x(x)
        outputs = [
            self._forward(x[start : start + batch_size], training=False, for_loss=False)
            for start in range(0, len(x), batch_size)
        ]
        if not outputs:
            return np.zeros((0,) + self.output_shape, dtype=self.dtype)
        return np.concatenate(outputs) if len(outputs) > 1 else outputs[0].copy()

    def evaluate(self, x, y, batch_size=256):
        """{"loss": mean loss, "accuracy": fraction right or None} over the whole set."""
        self._require_compiled()
        batch_size = _check_positive_int(batch_size, "batch_size")
        x = self._check_x(x)
        y = self._check_y(y, len(x))
        if len(x) == 0:
            raise ValueError("evaluate needs at least one sample")
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            outputs = self._forward(xb, training=False, for_loss=True)
            loss, _ = self.loss(outputs, yb)
            total_loss += loss * len(xb)
            right = self._correct(outputs, yb)
            correct = None if right is None or correct is None else correct + right
        return {
            "loss": total_loss / len(x),
            "accuracy": None if correct is None else correct / len(x),
        }

    def loss_and_grads(self, x, y):
        """(loss, dE/dparameters) for one batch, dropout off, weights untouched."""
        self._require_compiled()
        x = self._check_x(x)
        y = self._check_y(y, len(x))
        outputs = self._forward(x, training=False, for_loss=True)
        loss, grad = self.loss(outputs, y)
        self._backward(grad)
        return loss, [g.copy() for g in self.gradients()]

    # ------------------------------------------------------------------ training

    def train_iter(self, x, y, epochs, batch_size=32, validation_split=0.0,
                   validation_data=None, shuffle=True, seed=None):
        """The training loop, one event (a plain dict) per batch and per epoch.

        The arguments are checked here, at the call; the returned generator trains.
        Closing it stops training between two batches, keeping the weights.

        When a batch's loss is NaN or infinite (or the weights are not finite at the end of
        an epoch), the last event is {"type": "diverged", ...} and the network is back at
        the last weights that gave a finite loss: those the previous batch saw, with the
        optimizer's state of that moment (nncore/guard.py states the contract exactly).
        """
        self._require_compiled()
        epochs = _check_positive_int(epochs, "epochs")
        batch_size = _check_positive_int(batch_size, "batch_size")
        x = self._check_x(x)
        y = self._check_y(y, len(x))
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            x_val = self._check_x(validation_data[0])
            y_val = self._check_y(validation_data[1], len(x_val))
        elif validation_split:
            if isinstance(validation_split, bool) or not isinstance(
                validation_split, (int, float, np.floating)
            ) or not 0 < validation_split < 1:
                raise ValueError("validation_split must lie in [0, 1), got %r" % validation_split)
            # as Keras does: the last fraction of the data, taken before shuffling
            split = int(len(x) * (1 - validation_split))
            x, x_val, y, y_val = x[:split], x[split:], y[:split], y[split:]
        else:
            x_val = y_val = None
        if x_val is not None and len(x_val) == 0:
            x_val = y_val = None
        if len(x) == 0:
            raise ValueError("there is nothing to train on: x has no samples")
        return self._events(x, y, x_val, y_val, epochs, batch_size, shuffle, seed)

    # Training's arithmetic runs under this: overflow is how a diverging run shows itself,
    # and the loop reports it (a "diverged" event) instead of NumPy warning about it.
    QUIET = {"over": "ignore", "invalid": "ignore"}

    def _batch_loss(self, xb, yb):
        """Forward one training batch: (outputs, loss, dE/doutputs)."""
        outputs = self._forward(xb, training=True, for_loss=True)
        loss, grad = self.loss(outputs, yb)
        return outputs, loss, grad

    def _update(self, grad):
        """Backward from dE/doutputs, then one optimizer step on every weight."""
        self._backward(grad)
        self.optimizer.step(self.parameters(), self.gradients())

    def _events(self, x, y, x_val, y_val, epochs, batch_size, shuffle, seed):
        samples = len(x)
        batches = -(-samples // batch_size)
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(rng.integers(2**32))
        guard = DivergenceGuard(self, x, y)  # the contract is in nncore/guard.py
        start = time.perf_counter()

        def diverged(epoch, batch, loss):
            with np.errstate(**self.QUIET):
                guard.rewind()
            return {
                "type": "diverged",
                "epoch": epoch,
                "batch": batch,
                "loss": loss,
                "message": (
                    "Training diverged: the loss became %s at epoch %d, batch %d. The weights "
                    "were restored to the last finite state. Try a smaller learning rate (it "
                    "was %g), a larger batch, or an adaptive optimizer such as adam."
                    % (loss, epoch, batch, self.optimizer.lr)
                ),
            }

        for epoch in range(1, epochs + 1):
            order = rng.permutation(samples) if shuffle else None
            total_loss, correct = 0.0, 0
            for batch in range(batches):
                rows = slice(batch * batch_size, (batch + 1) * batch_size)
                if order is None:
                    xb, yb = x[rows], y[rows]
                else:
                    rows = order[rows]
                    xb, yb = x.take(rows, axis=0), y.take(rows, axis=0)  # x[rows], faster
                guard.starting()
                with np.errstate(**self.QUIET):
                    outputs, loss, grad = self._batch_loss(xb, yb)
                    # a finite loss lets the batch through, unless a checkpoint finds that
                    # the weights which gave it are not finite themselves
                    passed = math.isfinite(loss) and guard.passed(rows)
                    if passed:
                        self._update(grad)
                if not passed:
                    yield diverged(epoch, batch + 1, math.nan if math.isfinite(loss) else loss)
                    return
                total_loss += loss * len(xb)
                right = self._correct(outputs, yb)
                correct = None if right is None or correct is None else correct + right
                yield {
                    "type": "batch",
                    "epoch": epoch,
                    "epochs": epochs,
                    "batch": batch + 1,
                    "batches": batches,
                    "loss": loss,
                    "seconds": time.perf_counter() - start,
                }
            if not guard.finite():
                yield diverged(epoch, batches, float("nan"))
                return
            event = {
                "type": "epoch",
                "epoch": epoch,
                "epochs": epochs,
                "loss": total_loss / samples,
                "accuracy": None if correct is None else correct / samples,
                "val_loss": None,
                "val_accuracy": None,
            }
            if x_val is not None:
                scores = self.evaluate(x_val, y_val)
                event["val_loss"], event["val_accuracy"] = scores["loss"], scores["accuracy"]
            event["seconds"] = time.perf_counter() - start
            yield event
        yield {"type": "done", "epochs": epochs, "seconds": time.perf_counter() - start}

    def fit(self, x, y, epochs, batch_size=32, validation_split=0.0, validation_data=None,
            shuffle=True, seed=None, verbose=False):
        """Trains; returns a History. Raises TrainingDiverged if the loss goes NaN/inf."""
        history = History()
        for event in self.train_iter(x, y, epochs, batch_size, validation_split,
                                     validation_data, shuffle, seed):
            if event["type"] == "epoch":
                history.record(event)
                if verbose:
                    print(_epoch_line(event))
            elif event["type"] == "diverged":
                raise TrainingDiverged(event["message"])
        return history

    # ------------------------------------------------------------------ files

    def save(self, path):
        from .io import save

        save(self, path)


def _epoch_line(event):
    parts = ["epoch %d/%d" % (event["epoch"], event["epochs"]), "loss=%.6f" % event["loss"]]
    for key in ("accuracy", "val_loss", "val_accuracy"):
        if event[key] is not None:
            parts.append("%s=%.4f" % (key, event[key]))
    return "  ".join(parts)
