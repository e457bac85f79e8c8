"""Optimizers own the update: given live weight arrays and their gradients, change the
weights in place.

State belongs to each weight array, not to a list position: the optimizer keeps, per array
it has stepped, that array's slots (velocities, running averages: arrays of its shape) and
its own step count t (for Adam's bias correction). So a layer added after some training
starts with fresh slots and t = 0 while the others carry on, and one optimizer object can
step two networks. `state_dict` / `load_state` read and restore that state as plain arrays
and numbers, which is how a model file resumes training where it stopped.
"""
from __future__ import annotations

import weakref

import numpy as np

# name -> the optimizer's own textbook (Keras) learning rate, used when lr is None
DEFAULT_LR = {
    "sgd": 0.01,
    "momentum": 0.01,
    "nesterov": 0.01,
    "rmsprop": 0.001,
    "adagrad": 0.01,
    "adadelta": 1.0,
    "adam": 0.001,
    "adamax": 0.002,
}


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError("%s must be a number, got %r" % (name, value))
    return float(value)


def _positive(value, name):
    value = _number(value, name)
    if not value > 0:
        raise ValueError("%s must be a positive number, got %r" % (name, value))
    return value


def _decay(value, name):
    """A running-average or momentum coefficient: 0 <= value < 1."""
    value = _number(value, name)
    if not 0 <= value < 1:
        raise ValueError("%s must lie in [0, 1), got %r" % (name, value))
    return value


def _count(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError("%s must be a whole number >= 0, got %r" % (name, value))
    return int(value)


class ParameterState:
    """One weight array's optimizer state: `slots` (arrays shaped like it, one per slot name)
    and `steps`, how many updates it has had."""

    __slots__ = ("steps", "slots", "reference")

    def __init__(self, param, slots, steps, forget):
        self.steps = steps
        self.slots = slots
        # a weak reference: the state goes when its array goes, and an id is never reused
        # for another array while the state exists
        self.reference = weakref.ref(param, forget)

    def __repr__(self):
        return "ParameterState(steps=%d, slots=%d)" % (self.steps, len(self.slots))


class Optimizer:
    """The contract: `step(params, grads)` updates each array in place from its gradient.

    A subclass names its per-array state in `slot_names` and implements
    `update(w, g, slots, t)` for one array w, its gradient g, its slots and its step count t
    (t = 1 on its first update).
    """

    name = "optimizer"
    slot_names = ()

    def __init__(self, lr=0.01):
        self.lr = _positive(lr, "the learning rate")
        self.iterations = 0  # calls to step(), whatever arrays they updated
        self._states = {}  # id(array) -> ParameterState

    def _forget(self, key):
        states = self._states
        return lambda _: states.pop(key, None)

    def state_of(self, param):
        """The state of one weight array, created (zero slots, 0 steps) on first sight."""
        state = self._states.get(id(param))
        if state is None:
            slots = [np.zeros_like(param) for _ in self.slot_names]
            state = ParameterState(param, slots, 0, self._forget(id(param)))
            self._states[id(param)] = state
        elif len(state.slots) != len(self.slot_names) or (
            state.slots and any(slot.shape != param.shape for slot in state.slots)
        ):
            raise ValueError(
                "%s's state no longer fits a weight array of shape %s (it has %d slots of "
                "shapes %s)" % (type(self).__name__, param.shape, len(state.slots),
                                [slot.shape for slot in state.slots])
            )
        return state

    def step(self, params, grads):
        if len(params) != len(grads):
            raise ValueError(
                "step() got %d weight arrays but %d gradients" % (len(params), len(grads))
            )
        mismatched = [(w.shape, g.shape) for w, g in zip(params, grads) if w.shape != g.shape]
        if mismatched:
            raise ValueError("a gradient of shape %s does not fit its weights of shape %s"
                             % mismatched[0][::-1])
        self.iterations += 1
        for w, g in zip(params, grads):
            state = self.state_of(w)
            state.steps += 1
            self.update(w, g, state.slots, state.steps)

    def update(self, w, g, slots, t):
        raise NotImplementedError

    # ------------------------------------------------------------------ saving and resuming

    def state_dict(self, params):
        """The state for `params` (a list of weight arrays), as plain data:

            {"iterations": int, "slot_names": [...], "steps": [int per array],
             "slots": [[one array per slot name] per array]}

        An array never stepped has 0 steps and an empty slot list. The slot arrays are the
        live ones, not copies: save them before stepping again.
        """
        steps, slots = [], []
        for param in params:
            state = self._states.get(id(param))
            steps.append(0 if state is None else state.steps)
            slots.append([] if state is None or state.steps == 0 else list(state.slots))
        return {"iterations": self.iterations, "slot_names": list(self.slot_names),
                "steps": steps, "slots": slots}

    def load_state(self, params, state, copy=True):
        """Restore what `state_dict(params)` gave, for the same list of arrays (by position).

        Slot arrays are copied and cast to each array's dtype (copy=False adopts arrays that
        already have it, as nncore.io does with arrays it has just read). Anything that does
        not fit (another optimizer's slots, a shape or a count that differs) is a ValueError
        and changes nothing.
        """
        if list(state.get("slot_names", ())) != list(self.slot_names):
            raise ValueError(
                "the saved state has slots %s but %s keeps %s"
                % (list(state.get("slot_names", ())), type(self).__name__, list(self.slot_names))
            )
        iterations = _count(state.get("iterations", 0), "iterations")
        steps, slots = list(state.get("steps", ())), list(state.get("slots", ()))
        if len(steps) != len(params) or len(slots) != len(params):
            raise ValueError(
                "the saved state covers %d and %d weight arrays but there are %d"
                % (len(steps), len(slots), len(params))
            )
        adopt = np.array if copy else np.asarray
        restored = []
        for index, (param, count, arrays) in enumerate(zip(params, steps, slots)):
            count = _count(count, "steps of weight array %d" % index)
            if count == 0:
                if len(arrays):
                    raise ValueError("weight array %d has slots but no steps" % index)
                restored.append(None)
                continue
            if len(arrays) != len(self.slot_names):
                raise ValueError(
                    "weight array %d has %d slot arrays; %s keeps %d"
                    % (index, len(arrays), type(self).__name__, len(self.slot_names))
                )
            for array in arrays:
                if np.shape(array) != param.shape:
                    raise ValueError(
                        "a slot of weight array %d has shape %s but the array has shape %s"
                        % (index, np.shape(array), param.shape)
                    )
            restored.append((count, [adopt(array, dtype=param.dtype) for array in arrays]))
        for param, entry in zip(params, restored):
            self._states.pop(id(param), None)
            if entry is not None:
                count, arrays = entry
                key = id(param)
                self._states[key] = ParameterState(param, arrays, count, self._forget(key))
        self.iterations = iterations

    def options(self):
        return {}

    def __repr__(self):
        args = ", ".join("%s=%r" % item for item in dict(lr=self.lr, **self.options()).items())
        return "%s(%s)" % (type(self).__name__, args)


class SGD(Optimizer):
    """v <- momentum v - lr g;  w <- w + v  (Nesterov: w <- w + momentum v - lr g).

    It forms lr g in the gradient array itself (g *= lr) rather than in a new one: one array
    less to write and read per step, a few percent of an MLP batch. So after a step the
    gradient arrays hold lr g; a network's layers overwrite them at the next backward.
    """

    name = "sgd"

    def __init__(self, lr=DEFAULT_LR["sgd"], momentum=0.0, nesterov=False):
        super().__init__(lr)
        self.momentum = _decay(momentum, "momentum")
        self.nesterov = bool(nesterov)

    @property
    def slot_names(self):
        return ("velocity",) if self.momentum else ()  # plain SGD keeps no state

    def options(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def update(self, w, g, slots, t):
        step = np.multiply(g, self.lr, out=g)  # lr g, in place
        if not self.momentum:
            w -= step
            return
        (v,) = slots
        v *= self.momentum
        v -= step
        if self.nesterov:
            w += self.momentum * v - step
        else:
            w += v


class RMSprop(Optimizer):
    """s <- rho s + (1 - rho) g^2;  w <- w - lr g / (sqrt(s) + eps)."""

    name = "rmsprop"
    slot_names = ("square",)

    def __init__(self, lr=DEFAULT_LR["rmsprop"], rho=0.9, epsilon=1e-7):
        super().__init__(lr)
        self.rho, self.epsilon = _decay(rho, "rho"), _positive(epsilon, "epsilon")

    def options(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def update(self, w, g, slots, t):
        (s,) = slots
        s *= self.rho
        s += (1 - self.rho) * g * g
        w -= self.lr * g / (np.sqrt(s) + self.epsilon)


class Adagrad(Optimizer):
    """s <- s + g^2;  w <- w - lr g / (sqrt(s) + eps): steps shrink where gradients were big."""

    name = "adagrad"
    slot_names = ("square",)

    def __init__(self, lr=DEFAULT_LR["adagrad"], epsilon=1e-7):
        super().__init__(lr)
        self.epsilon = _positive(epsilon, "epsilon")

    def options(self):
        return {"epsilon": self.epsilon}

    def update(self, w, g, slots, t):
        (s,) = slots
        s += g * g
        w -= self.lr * g / (np.sqrt(s) + self.epsilon)


class Adadelta(Optimizer):
    """Zeiler (2012): the step is g scaled by RMS(previous steps) / RMS(gradients).

    s <- rho s + (1 - rho) g^2;  d <- -sqrt(u + eps) / sqrt(s + eps) g;
    u <- rho u + (1 - rho) d^2;  w <- w + lr d   (lr = 1 is the paper's rule).
    """

    name = "adadelta"
    slot_names = ("square", "step_square")

    def __init__(self, lr=DEFAULT_LR["adadelta"], rho=0.95, epsilon=1e-6):
        super().__init__(lr)
        self.rho, self.epsilon = _decay(rho, "rho"), _positive(epsilon, "epsilon")

    def options(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def update(self, w, g, slots, t):
        s, u = slots
        rho, eps = self.rho, self.epsilon
        s *= rho
        s += (1 - rho) * g * g
        step = -np.sqrt(u + eps) / np.sqrt(s + eps) * g
        u *= rho
        u += (1 - rho) * step * step
        w += self.lr * step


class Adam(Optimizer):
    """Kingma & Ba (2015): m, v running means of g and g^2, bias-corrected by 1 - beta^t
    (t counts this array's own updates).

    w <- w - lr * m_hat / (sqrt(v_hat) + eps).
    """

    name = "adam"
    slot_names = ("mean", "square")

    def __init__(self, lr=DEFAULT_LR["adam"], beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(lr)
        self.beta_1, self.beta_2 = _decay(beta_1, "beta_1"), _decay(beta_2, "beta_2")
        self.epsilon = _positive(epsilon, "epsilon")

    def options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def update(self, w, g, slots, t):
        m, v = slots
        b1, b2 = self.beta_1, self.beta_2
        correction_1, correction_2 = 1 - b1**t, 1 - b2**t
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        w -= (self.lr / correction_1) * m / (np.sqrt(v / correction_2) + self.epsilon)


class Adamax(Adam):
    """Adam with the infinity norm (same options as Adam, its own default lr).

    u <- max(beta_2 u, |g|);  w <- w - lr / (1 - beta_1^t) m / (u + eps).
    """

    name = "adamax"
    slot_names = ("mean", "norm")

    def __init__(self, lr=DEFAULT_LR["adamax"], beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(lr, beta_1, beta_2, epsilon)

    def update(self, w, g, slots, t):
        m, u = slots
        b1, b2 = self.beta_1, self.beta_2
        m *= b1
        m += (1 - b1) * g
        np.maximum(u * b2, np.abs(g), out=u)
        w -= (self.lr / (1 - b1**t)) * m / (u + self.epsilon)


# name -> (class, fixed options); the options a user may set, with their defaults
_FACTORIES = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (RMSprop, {}),
    "adagrad": (Adagrad, {}),
    "adadelta": (Adadelta, {}),
    "adam": (Adam, {}),
    "adamax": (Adamax, {}),
}

OPTIONS = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "rmsprop": {"rho": 0.9, "epsilon": 1e-7},
    "adagrad": {"epsilon": 1e-7},
    "adadelta": {"rho": 0.95, "epsilon": 1e-6},
    "adam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    "adamax": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
}


def get(optimizer, lr=None, **options):
    """'adam' -> Adam(lr, ...); lr=None means the optimizer's own default (DEFAULT_LR).

    An Optimizer instance passes through unchanged (its own lr and state are kept).
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer not in _FACTORIES:
        raise ValueError(
            "unknown optimizer %r; choose one of %s" % (optimizer, ", ".join(_FACTORIES))
        )
    cls, fixed = _FACTORIES[optimizer]
    unknown = set(options) - set(OPTIONS[optimizer])
    if unknown:
        raise ValueError(
            "optimizer %r has no option %s; its options are: %s"
            % (optimizer, ", ".join(sorted(unknown)), ", ".join(OPTIONS[optimizer]) or "none")
        )
    arguments = dict(fixed)
    arguments.update(options)
    return cls(lr=DEFAULT_LR[optimizer] if lr is None else lr, **arguments)
