"""Layers: each one maps a batch forward (X -> Y) and a gradient backward (dE/dY -> dE/dX).

Every array carries the batch on its first axis. Images are channels-last, (N, H, W, C).
A layer with weights keeps them in `params` and, after `backward`, their gradients dE/dW in
`grads` (same order, same shapes); an optimizer, not the layer, decides how to use them.

Shapes and parameter counts are Python ints throughout, never NumPy integers: NumPy's
default integer is 32 bits in Pyodide, where 65536 * 65537 would wrap around to 65536.

The layer vocabulary lives here and only here. Each class says what a builder needs (its
spec options with defaults, which are required, fixed choices, a line of help), and
`register(cls)` puts it in LAYER_CLASSES. Spec validation, the activation names and both
hosts' builders are derived from that registry, so a new activation is one class and one
`register` call.
"""
from __future__ import annotations

import numpy as np

from . import products
from .errors import SpecError

LAYER_CLASSES = {}  # type -> class, in display order: filled by register() below
# Derived from LAYER_CLASSES and kept in step by register() / unregister() (updated in place,
# so importers holding them see a registration): type -> {option: default}, and
# type -> required options (only the types that have some).
LAYER_OPTIONS = {}
REQUIRED_OPTIONS = {}
ACTIVATIONS = ()  # a snapshot of activation_names(), rebound by register()


def product(shape):
    """d1 * d2 * ... in Python ints, exact however large (np.prod wraps at 32 or 64 bits)."""
    result = 1
    for size in shape:
        result *= int(size)
    return result


class Layer:
    """The contract. `build` sees the input shape (without the batch axis) and creates weights."""

    type = "layer"
    help = ""  # one line for the builders; empty: the docstring's first line
    OPTIONS = {}  # spec option -> the default a builder starts with, in display order
    REQUIRED = ()  # options a spec must give
    CHOICES = {}  # option -> the values it may take
    SIZES = ()  # options that take an int k (k x k) or a pair [h, w]
    # The math of forward and backward as the walk-through prints it (nncore.lab.backprop):
    # {"forward": [lines], "backward": [lines]}, in X, Y, W, B, dE/dY, dE/dX.
    FORMULAS = {"forward": ["Y = layer(X)"], "backward": ["dE/dX = backward(dE/dY)"]}

    @classmethod
    def choices(cls, option):
        """The values `option` may take, or None when any value of its kind will do."""
        values = cls.CHOICES.get(option)
        return None if values is None else tuple(values)

    @classmethod
    def help_text(cls):
        """The line of help a builder shows next to this layer type."""
        if cls.help:
            return cls.help
        lines = (cls.__doc__ or "").strip().splitlines()
        return lines[0].strip() if lines else ""

    def __init__(self):
        self.params = []  # weight arrays, updated in place by the optimizer
        self.grads = []  # dE/dparam, same order and shapes as params
        self.input_shape = None
        self.output_shape = None

    # -- shape logic, used by spec validation before anything is allocated --
    def compute_output_shape(self, input_shape):
        return tuple(int(size) for size in input_shape)

    def parameter_shapes(self, input_shape):
        """The shapes `params` will have for this input shape, in order (none by default)."""
        return []

    def count_parameters(self, input_shape):
        return sum(product(shape) for shape in self.parameter_shapes(input_shape))

    def options(self):
        """The constructor options, as they appear in a spec."""
        return {}

    def build(self, input_shape, rng, dtype):
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)

    @property
    def built(self):
        return self.output_shape is not None

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad, need_input_grad=True):
        """dE/dY -> dE/dX (None when the caller does not need it: the first layer)."""
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join("%s=%r" % item for item in self.options().items())
        return "%s(%s)" % (type(self).__name__, args)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SpecError("option '%s' must be a positive integer, got %r" % (name, value))
    return int(value)


def _pair(value, name):
    """A kernel or pool size: an int k means k x k."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise SpecError("option '%s' must be an integer or a pair, got %r" % (name, value))
        return (_positive_int(value[0], name), _positive_int(value[1], name))
    size = _positive_int(value, name)
    return (size, size)


def _activation_name(value):
    if value is None:
        return None
    names = activation_names()
    if not isinstance(value, str) or value not in names:
        raise SpecError("unknown activation %r; choose one of %s" % (value, ", ".join(names)))
    return value


INIT_CHUNK = 1 << 16  # random starting weights are drawn this many at a time (512 KB)


class Unfilled:
    """Stands in for the network's random generator when its weights are about to be
    overwritten (nncore.io fills them from a file): the layers make arrays of zeros in the
    network's dtype instead of drawing random ones, and the generator is moved past the
    values they would have drawn, so a layer added afterwards gets the weights it always
    would."""

    def __init__(self, rng):
        self.rng = rng

    def skip(self, count):
        """Move the generator on as if `count` uniform values had been drawn."""
        bit_generator = getattr(self.rng, "bit_generator", None)
        if isinstance(bit_generator, np.random.PCG64) and hasattr(bit_generator, "advance") \
                and not bit_generator.state.get("has_uint32"):
            bit_generator.advance(count)  # one 64-bit step per uniform double
            return
        for start in range(0, count, INIT_CHUNK):
            self.rng.uniform(size=min(INIT_CHUNK, count - start))

    def __getattr__(self, name):
        # a layer that draws its starting weights its own way (rng.normal, a registered
        # layer...) draws them for real: the generator moves on exactly as it would
        return getattr(self.rng, name)

    def __repr__(self):
        return "Unfilled(%r)" % (self.rng,)


def _uniform(rng, limit, shape, dtype):
    """rng.uniform(-limit, limit, size=shape).astype(dtype), value for value, drawn
    INIT_CHUNK values at a time into the array of `dtype`: a 50M-weight float32 kernel
    never passes through a 400 MB float64 one. (Each value is one draw, in order, so the
    chunks give exactly the values of one call.) With an Unfilled: zeros, drawn from nothing."""
    count = product(shape)
    if isinstance(rng, Unfilled):
        rng.skip(count)
        return np.zeros(shape, dtype=dtype)
    values = np.empty(shape, dtype=dtype)
    flat = values.reshape(-1)
    for start in range(0, count, INIT_CHUNK):
        stop = min(start + INIT_CHUNK, count)
        flat[start:stop] = rng.uniform(-limit, limit, size=stop - start)
    return values


def _gradients(params):
    """Zero gradient arrays for `params`: np.zeros, whose untouched pages cost no memory until
    the first backward writes them (np.zeros_like writes every zero at once)."""
    return [np.zeros(param.shape, dtype=param.dtype) for param in params]


def _glorot_uniform(rng, shape, fan_in, fan_out, dtype):
    # Var(W) = 2 / (fan_in + fan_out) keeps activations and gradients at a steady scale.
    return _uniform(rng, np.sqrt(6.0 / (fan_in + fan_out)), shape, dtype)


def _he_uniform(rng, shape, fan_in, dtype):
    # Var(W) = 2 / fan_in compensates for ReLU zeroing half of its inputs.
    return _uniform(rng, np.sqrt(6.0 / fan_in), shape, dtype)


# --------------------------------------------------------------------------- activations


class ActivationLayer(Layer):
    """An elementwise (or, for softmax, row-wise) function with no weights."""

    FORMULAS = {"forward": ["Y = f(X)"], "backward": ["dE/dX = dE/dY ⊙ f'(X)"]}

    def forward(self, x, training=False):
        self.x = x
        self.y = self.function(x)
        return self.y

    def backward(self, grad, need_input_grad=True):
        return self.gradient(grad)


class ReLU(ActivationLayer):
    type = "relu"
    help = "max(x, 0)"
    FORMULAS = {"forward": ["Y = max(X, 0)"], "backward": ["dE/dX = dE/dY ⊙ [X > 0]"]}

    def function(self, x):
        return np.maximum(x, 0)

    def gradient(self, grad):
        # d relu(x)/dx = 1 where x > 0, else 0
        return grad * (self.y > 0)


class LeakyReLU(ActivationLayer):
    type = "leaky_relu"
    help = "x if x > 0 else αx"
    OPTIONS = {"alpha": 0.01}
    FORMULAS = {"forward": ["Y = X where X > 0, α·X elsewhere"],
                "backward": ["dE/dX = dE/dY ⊙ (1 where X > 0, α elsewhere)"]}

    def __init__(self, alpha=0.01):
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
            raise SpecError("option 'alpha' must be a number >= 0, got %r" % (alpha,))
        self.alpha = float(alpha)

    def options(self):
        return {"alpha": self.alpha}

    def function(self, x):
        return np.where(x > 0, x, x * self.alpha)

    def gradient(self, grad):
        # slope 1 for x > 0, alpha otherwise
        return np.where(self.x > 0, grad, grad * self.alpha)


class Sigmoid(ActivationLayer):
    type = "sigmoid"
    help = "1 / (1 + e^-x)"
    FORMULAS = {"forward": ["Y = 1 / (1 + e^(−X))"], "backward": ["dE/dX = dE/dY ⊙ Y ⊙ (1 − Y)"]}

    def function(self, x):
        # sigma(x) = (1 + tanh(x/2)) / 2: never overflows, unlike 1 / (1 + exp(-x))
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    def gradient(self, grad):
        # sigma' = sigma (1 - sigma)
        return grad * self.y * (1.0 - self.y)


class Tanh(ActivationLayer):
    type = "tanh"
    help = "tanh(x)"
    FORMULAS = {"forward": ["Y = tanh(X)"], "backward": ["dE/dX = dE/dY ⊙ (1 − Y²)"]}

    def function(self, x):
        return np.tanh(x)

    def gradient(self, grad):
        # tanh' = 1 - tanh^2
        return grad * (1.0 - self.y * self.y)


class Softmax(ActivationLayer):
    """Row-wise softmax over the last axis."""

    type = "softmax"
    help = "probabilities that sum to 1"
    FORMULAS = {"forward": ["Y = e^X / Σₖ e^Xₖ  (each row)"],
                "backward": ["dE/dX = Y ⊙ (dE/dY − ⟨dE/dY, Y⟩)  (each row)"]}

    def function(self, x):
        shifted = x - x.max(axis=-1, keepdims=True)  # exp never overflows
        exps = np.exp(shifted)
        return exps / exps.sum(axis=-1, keepdims=True)

    def gradient(self, grad):
        # Jacobian J = diag(y) - y y^T, so J^T g = y * (g - <g, y>)
        y = self.y
        return y * (grad - (grad * y).sum(axis=-1, keepdims=True))


def Activation(name, **options):
    """Activation("tanh") -> Tanh(); the Keras spelling of the activation layers."""
    cls = LAYER_CLASSES[_activation_name(name)]
    unknown = sorted(set(options) - set(cls.OPTIONS))
    if unknown:
        raise SpecError("activation %r has no option %s" % (name, ", ".join(unknown)))
    return cls(**options)


# --------------------------------------------------------------------------- weighted layers


class WeightedLayer(Layer):
    """A layer with weights and an optional activation applied to its output."""

    activation_layer = None

    @classmethod
    def choices(cls, option):
        # no activation, or any registered one (read when asked: a registration shows up)
        if option == "activation":
            return (None,) + activation_names()
        return super().choices(option)

    def _activate(self, y, training, activate):
        # activate=False gives the pre-activation scores: a fused loss applies the activation
        self.activated = activate and self.activation_layer is not None
        return self.activation_layer.forward(y, training) if self.activated else y

    def _activation_gradient(self, grad):
        return self.activation_layer.backward(grad) if self.activated else grad


class Dense(WeightedLayer):
    """Fully connected: Y = X W + b, X (N, in), W (in, units), b (units,).

    Dense(units) infers `in` from the previous layer; Dense(in, units) states it.
    An optional `activation` is applied after the affine map.
    """

    type = "dense"
    help = "fully connected: y = x W + b"
    OPTIONS = {"units": 10, "activation": None}
    REQUIRED = ("units",)
    FORMULAS = {"forward": ["Y = X · W + B"],
                "backward": ["dE/dX = dE/dY · Wᵀ", "dE/dW = Xᵀ · dE/dY", "dE/dB = Σₙ dE/dY"]}

    def __init__(self, *sizes, units=None, activation=None, input_size=None):
        super().__init__()
        if len(sizes) == 1 and units is None:
            units = sizes[0]
        elif len(sizes) == 2 and units is None and input_size is None:
            input_size, units = sizes
        elif sizes:
            raise SpecError("Dense takes Dense(units) or Dense(input_size, units)")
        if units is None:
            raise SpecError("option 'units' is missing")
        self.units = _positive_int(units, "units")
        self.input_size = None if input_size is None else _positive_int(input_size, "input_size")
        self.activation = _activation_name(activation)
        self.activation_layer = Activation(activation) if activation else None

    def options(self):
        return {"units": self.units, "activation": self.activation}

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise SpecError(
                "expects a flat input but gets shape %s; add a flatten layer before it"
                % (tuple(input_shape),)
            )
        if self.input_size is not None and input_shape[0] != self.input_size:
            raise SpecError(
                "was declared with %d inputs but gets %d" % (self.input_size, input_shape[0])
            )
        return (self.units,)

    def parameter_shapes(self, input_shape):
        return [(int(input_shape[0]), self.units), (self.units,)]

    def build(self, input_shape, rng, dtype):
        super().build(input_shape, rng, dtype)
        fan_in = input_shape[0]
        if self.activation in ("relu", "leaky_relu"):
            weights = _he_uniform(rng, (fan_in, self.units), fan_in, dtype)
        else:
            weights = _glorot_uniform(rng, (fan_in, self.units), fan_in, self.units, dtype)
        self.params = [weights, np.zeros(self.units, dtype=dtype)]
        self.grads = _gradients(self.params)

    def forward(self, x, training=False, activate=True):
        self.x = x
        weights, bias = self.params
        y = products.times(x, weights)
        y += bias
        return self._activate(y, training, activate)

    def backward(self, grad, need_input_grad=True):
        grad = self._activation_gradient(grad)
        # dE/dW = X^T dE/dY (summed over the batch), dE/db = sum_n dE/dY, dE/dX = dE/dY W^T
        products.transposed_times(self.x, grad, out=self.grads[0])
        grad.sum(axis=0, out=self.grads[1])
        return products.times_transposed(grad, self.params[0]) if need_input_grad else None


class Conv2D(WeightedLayer):
    """2-D convolution (cross-correlation, as in every DL library) over channels-last images.

    X (N, H, W, C) -> Y (N, OH, OW, filters), kernel K (kh, kw, C, filters), bias (filters,):
    Y[n, i, j, f] = b[f] + sum_{a, b, c} X[n, i*s + a, j*s + b, c] K[a, b, c, f].
    Computed as one matrix product over im2col patches with a constant 1 appended, the bias
    being the weight of that input: (N*OH*OW, kh*kw*C + 1) @ (kh*kw*C + 1, filters).
    """

    type = "conv2d"
    help = "2-D convolution over (height, width, channels)"
    OPTIONS = {"filters": 8, "kernel_size": 3, "stride": 1, "padding": "valid", "activation": None}
    REQUIRED = ("filters",)
    CHOICES = {"padding": ("valid", "same")}
    SIZES = ("kernel_size",)
    FORMULAS = {
        "forward": ["Y[i, j, f] = B[f] + Σ_a,b,c X[i·s + a, j·s + b, c] · W[a, b, c, f]"],
        "backward": ["dE/dX[i·s + a, j·s + b, c] += Σ_f dE/dY[i, j, f] · W[a, b, c, f]",
                     "dE/dW[a, b, c, f] = Σ_n,i,j X[i·s + a, j·s + b, c] · dE/dY[i, j, f]",
                     "dE/dB[f] = Σ_n,i,j dE/dY[i, j, f]"],
    }

    def __init__(self, filters, kernel_size=3, stride=1, padding="valid", activation=None):
        super().__init__()
        self.filters = _positive_int(filters, "filters")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _positive_int(stride, "stride")
        if padding not in self.CHOICES["padding"]:
            raise SpecError("option 'padding' must be %s, got %r"
                            % (" or ".join(map(repr, self.CHOICES["padding"])), padding))
        self.padding = padding
        self.activation = _activation_name(activation)
        self.activation_layer = Activation(activation) if activation else None

    def options(self):
        kh, kw = self.kernel_size
        return {
            "filters": self.filters,
            "kernel_size": kh if kh == kw else [kh, kw],
            "stride": self.stride,
            "padding": self.padding,
            "activation": self.activation,
        }

    def _padding(self, height, width):
        """(top, bottom, left, right) zero padding and the output size."""
        (kh, kw), s = self.kernel_size, self.stride
        if self.padding == "valid":
            return (0, 0, 0, 0), ((height - kh) // s + 1, (width - kw) // s + 1)
        out_h, out_w = -(-height // s), -(-width // s)  # ceil(H / s)
        pad_h = max((out_h - 1) * s + kh - height, 0)
        pad_w = max((out_w - 1) * s + kw - width, 0)
        return (pad_h // 2, pad_h - pad_h // 2, pad_w // 2, pad_w - pad_w // 2), (out_h, out_w)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise SpecError(
                "expects images (height, width, channels) but gets shape %s"
                % (tuple(input_shape),)
            )
        height, width, _ = (int(size) for size in input_shape)
        kh, kw = self.kernel_size
        if self.padding == "valid" and (kh > height or kw > width):
            raise SpecError(
                "kernel %dx%d is larger than its input %dx%d" % (kh, kw, height, width)
            )
        _, (out_h, out_w) = self._padding(height, width)
        return (out_h, out_w, self.filters)

    def parameter_shapes(self, input_shape):
        kh, kw = self.kernel_size
        return [(kh, kw, int(input_shape[2]), self.filters), (self.filters,)]

    def build(self, input_shape, rng, dtype):
        super().build(input_shape, rng, dtype)
        kh, kw = self.kernel_size
        channels = input_shape[2]
        shape = (kh, kw, channels, self.filters)
        fan_in, fan_out = kh * kw * channels, kh * kw * self.filters
        if self.activation in ("relu", "leaky_relu"):
            kernel = _he_uniform(rng, shape, fan_in, dtype)
        else:
            kernel = _glorot_uniform(rng, shape, fan_in, fan_out, dtype)
        self.params = [kernel, np.zeros(self.filters, dtype=dtype)]
        self.grads = _gradients(self.params)

    def _pad(self, x):
        (top, bottom, left, right), _ = self._padding(x.shape[1], x.shape[2])
        if top or bottom or left or right:
            x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        return x

    def _columns(self, padded, out_h, out_w):
        """im2col with a bias input: (N*OH*OW, kh*kw*C + 1), row (n, i, j) holding
        X[n, i*s + a, j*s + b, c] at column (a*kw + b)*C + c, and 1 in the last column.

        Filled one kernel offset (a, b) at a time: each is a strided slice of X, copied in
        rows of OW*C values (a copy straight from a 6-D patch view moves C values at a time).
        """
        (kh, kw), s = self.kernel_size, self.stride
        n, channels = padded.shape[0], padded.shape[3]
        size = kh * kw * channels
        columns = np.empty((n * out_h * out_w, size + 1), dtype=padded.dtype)
        columns[:, size] = 1
        # patches[n, i, j, a, b, c] = X[n, i*s + a, j*s + b, c]: a view of the columns
        patches = columns[:, :size].reshape(n, out_h, out_w, kh, kw, channels)
        for a in range(kh):
            for b in range(kw):
                patches[:, :, :, a, b, :] = padded[:, a : a + s * out_h : s,
                                                   b : b + s * out_w : s, :]
        return columns

    def _weights(self):
        """The kernel as a matrix with the bias as its last row: (kh*kw*C + 1, filters)."""
        kernel, bias = self.params
        return np.concatenate([kernel.reshape(-1, self.filters), bias[None, :]])

    def forward(self, x, training=False, activate=True):
        (kh, kw), s = self.kernel_size, self.stride
        padded = self._pad(x)
        n, height, width, _ = padded.shape
        out_h, out_w = (height - kh) // s + 1, (width - kw) // s + 1
        self.columns = self._columns(padded, out_h, out_w)
        self.padded_shape = padded.shape
        y = products.times(self.columns, self._weights())
        return self._activate(y.reshape(n, out_h, out_w, self.filters), training, activate)

    def backward(self, grad, need_input_grad=True):
        grad = self._activation_gradient(grad)
        kernel, bias = self.params
        n, out_h, out_w, _ = grad.shape
        flat = grad.reshape(-1, self.filters)
        # [dE/dK; dE/db] = columns^T dE/dY: the bias row sums dE/dY over batch and positions
        weights_grad = products.transposed_times(self.columns, flat)
        self.grads[0][...] = weights_grad[:-1].reshape(kernel.shape)
        self.grads[1][...] = weights_grad[-1]
        if not need_input_grad:
            return None
        (kh, kw), s = self.kernel_size, self.stride
        # dE/dcolumns = dE/dY K^T, then col2im: each kernel offset (a, b) adds its slice back
        columns_grad = products.times_transposed(flat, kernel.reshape(-1, self.filters))
        columns_grad = columns_grad.reshape(n, out_h, out_w, kh, kw, -1)
        padded_grad = np.zeros(self.padded_shape, dtype=grad.dtype)
        for a in range(kh):
            for b in range(kw):
                padded_grad[:, a : a + s * out_h : s, b : b + s * out_w : s, :] += columns_grad[
                    :, :, :, a, b, :
                ]
        (top, _, left, _), _ = self._padding(*self.input_shape[:2])
        height, width = self.input_shape[:2]
        return padded_grad[:, top : top + height, left : left + width, :]


class MaxPool2D(Layer):
    """Max over non-overlapping pool x pool windows: (N, H, W, C) -> (N, H//p, W//p, C).

    Rows and columns that do not fill a whole window are dropped (as 'valid' pooling does).
    The gradient flows only to the first maximum of each window (in row-major order).
    """

    type = "maxpool2d"
    help = "largest value in each pool"
    OPTIONS = {"pool_size": 2}
    FORMULAS = {"forward": ["Y[i, j, c] = max_a,b<p X[i·p + a, j·p + b, c]"],
                "backward": ["dE/dX[i·p + a, j·p + b, c] = dE/dY[i, j, c] at each window's "
                             "first maximum (a, b), 0 elsewhere"]}

    def __init__(self, pool_size=2):
        super().__init__()
        self.pool_size = _positive_int(pool_size, "pool_size")
        self._corners = None  # (input shape, flat index of each window's first element)

    def options(self):
        return {"pool_size": self.pool_size}

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise SpecError(
                "expects images (height, width, channels) but gets shape %s"
                % (tuple(input_shape),)
            )
        height, width, channels = (int(size) for size in input_shape)
        p = self.pool_size
        if p > height or p > width:
            raise SpecError("pool %dx%d is larger than its input %dx%d" % (p, p, height, width))
        return (height // p, width // p, channels)

    def _offsets(self, x):
        """The p*p window elements as strided views (N, OH, OW, C), in row-major order:
        view k = a*p + b is X[n, i*p + a, j*p + b, c]."""
        p = self.pool_size
        rows, columns = x.shape[1] // p * p, x.shape[2] // p * p
        return [x[:, a:rows:p, b:columns:p, :] for a in range(p) for b in range(p)]

    def forward(self, x, training=False):
        self.x = x
        # Y = max over the p*p offsets, p*p - 1 elementwise maxima (a NaN anywhere wins)
        offsets = self._offsets(x)
        y = offsets[0]
        for offset in offsets[1:]:
            y = np.maximum(y, offset)
        self.y = y
        return y

    def _window_corners(self):
        """Flat index into X of each window's top-left element, (N, OH, OW, C):
        ((n*H + i*p)*W + j*p)*C + c. It depends only on the shape, so it is kept."""
        shape = self.x.shape
        if self._corners is None or self._corners[0] != shape:
            n, height, width, channels = (int(size) for size in shape)
            p = self.pool_size
            index = (np.arange(n, dtype=np.intp)[:, None, None, None] * (height * width * channels)
                     + np.arange(height // p, dtype=np.intp)[:, None, None] * (p * width * channels)
                     + np.arange(width // p, dtype=np.intp)[:, None] * (p * channels)
                     + np.arange(channels, dtype=np.intp))
            self._corners = (shape, index)
        return self._corners[1]

    def _first_maximum(self):
        """Flat index into X of each window's first maximum, (N, OH, OW, C).

        The position k = a*p + b of the first maximum is the number of elements before it,
        counted as the elements that come while no element so far equals the maximum Y;
        its flat index is the window's corner plus (a*W + b)*C.
        """
        p = self.pool_size
        width, channels = int(self.x.shape[2]), int(self.x.shape[3])
        distance = np.array([(a * width + b) * channels for a in range(p) for b in range(p)],
                            dtype=np.intp)
        offsets = self._offsets(self.x)
        missed = np.ones(self.y.shape, dtype=bool)  # no maximum among elements 0..k yet
        first = np.zeros(self.y.shape, dtype=np.min_scalar_type(p * p - 1))
        for k in range(p * p - 1):
            missed &= offsets[k] != self.y
            first += missed
        return self._window_corners() + distance.take(first)

    def backward(self, grad, need_input_grad=True):
        if not need_input_grad:
            return None
        # dE/dX = dE/dY at each window's first maximum, 0 elsewhere: one scatter
        x_grad = np.zeros(self.x.size, dtype=grad.dtype)
        x_grad[self._first_maximum().reshape(-1)] = grad.reshape(-1)
        return x_grad.reshape(self.x.shape)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...)."""

    type = "flatten"
    help = "(h, w, c) -> (h·w·c)"
    FORMULAS = {"forward": ["Y = reshape(X, (N, h·w·c))"],
                "backward": ["dE/dX = reshape(dE/dY, (N, h, w, c))"]}

    def compute_output_shape(self, input_shape):
        return (product(input_shape),)

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad, need_input_grad=True):
        return grad.reshape(self.x_shape) if need_input_grad else None


class Dropout(Layer):
    """Inverted dropout: while training, zero each value with probability `rate` and scale the
    survivors by 1 / (1 - rate), so that nothing changes at prediction time."""

    type = "dropout"
    help = "zeroes inputs at random while training"
    OPTIONS = {"rate": 0.5}
    FORMULAS = {"forward": ["Y = X  (off outside training; training: Y = X ⊙ M / (1 − rate), "
                            "M random 0/1)"],
                "backward": ["dE/dX = dE/dY  (training: dE/dY ⊙ M / (1 − rate))"]}

    def __init__(self, rate=0.5):
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise SpecError("option 'rate' must be a number in [0, 1), got %r" % (rate,))
        self.rate = float(rate)
        self.rng = np.random.default_rng(0)  # the network reseeds it for each run
        self.mask = None

    def options(self):
        return {"rate": self.rate}

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.mask = None
            return x
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(x.shape) < keep).astype(x.dtype) / x.dtype.type(keep)
        return x * self.mask

    def backward(self, grad, need_input_grad=True):
        if not need_input_grad:
            return None
        return grad if self.mask is None else grad * self.mask


# --------------------------------------------------------------------------- the registry


def activation_names():
    """The registered activations (the ActivationLayer classes), in registration order."""
    return tuple(
        layer_type for layer_type, cls in LAYER_CLASSES.items() if issubclass(cls, ActivationLayer)
    )


def _follow_registry():
    """Recompute what is derived from LAYER_CLASSES, in place."""
    global ACTIVATIONS
    LAYER_OPTIONS.clear()
    LAYER_OPTIONS.update((t, dict(cls.OPTIONS)) for t, cls in LAYER_CLASSES.items())
    REQUIRED_OPTIONS.clear()
    REQUIRED_OPTIONS.update(
        (t, tuple(cls.REQUIRED)) for t, cls in LAYER_CLASSES.items() if cls.REQUIRED
    )
    ACTIVATIONS = activation_names()


def register(cls):
    """Add a layer class to the vocabulary: specs accept its type (and, for an activation,
    Dense's and Conv2D's `activation`), and both builders offer it. Returns the class."""
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError("register() takes a Layer subclass, got %r" % (cls,))
    layer_type = cls.__dict__.get("type")
    if not isinstance(layer_type, str) or not layer_type:
        raise ValueError("%s needs its own `type` name to be registered" % cls.__name__)
    if LAYER_CLASSES.get(layer_type, cls) is not cls:
        raise ValueError(
            "layer type %r is already %s" % (layer_type, LAYER_CLASSES[layer_type].__name__)
        )
    missing = [name for name in cls.REQUIRED if name not in cls.OPTIONS]
    if missing:
        raise ValueError("%s requires options it does not declare: %s"
                         % (cls.__name__, ", ".join(missing)))
    LAYER_CLASSES[layer_type] = cls
    _follow_registry()
    return cls


def unregister(layer_type):
    """Remove a layer type from the vocabulary; returns its class."""
    cls = LAYER_CLASSES.pop(layer_type)
    _follow_registry()
    return cls


for _cls in (Dense, Conv2D, MaxPool2D, Flatten, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax):
    register(_cls)
del _cls
