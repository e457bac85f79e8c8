"""Specs: every bad stack is refused with a SpecError naming the layer and the problem;
good ones round-trip exactly; summary() tells shapes and parameter counts."""
from __future__ import annotations

import copy
import json
import time
import tracemalloc

import numpy as np
import pytest

import nncore
from nncore.spec import LAYER_OPTIONS, PRESETS

EVERY_LAYER = {
    "input_shape": [12, 10, 3],
    "layers": [
        {"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": 1, "padding": "same",
         "activation": "relu"},
        {"type": "conv2d", "filters": 5, "kernel_size": [3, 2], "stride": 2, "padding": "valid",
         "activation": None},
        {"type": "leaky_relu", "alpha": 0.2},
        {"type": "maxpool2d", "pool_size": 2},
        {"type": "dropout", "rate": 0.25},
        {"type": "flatten"},
        {"type": "dense", "units": 7, "activation": "sigmoid"},
        {"type": "tanh"},
        {"type": "dense", "units": 6, "activation": "leaky_relu"},
        {"type": "relu"},
        {"type": "sigmoid"},
        {"type": "dense", "units": 3, "activation": "softmax"},
        {"type": "softmax"},
    ],
}


def spec_with(*layers, input_shape=(8,)):
    return {"input_shape": list(input_shape), "layers": list(layers)}


def refused(spec):
    with pytest.raises(nncore.SpecError) as caught:
        nncore.Network.from_spec(spec)
    return caught.value


def test_every_layer_type_and_option_is_exercised():
    types = {entry["type"] for entry in EVERY_LAYER["layers"]}
    assert types == set(LAYER_OPTIONS)
    for entry in EVERY_LAYER["layers"]:
        assert set(entry) - {"type"} == set(LAYER_OPTIONS[entry["type"]])


@pytest.mark.parametrize("name", sorted(PRESETS) + ["every-layer"])
def test_to_spec_from_spec_round_trip_exactly(name):
    spec = EVERY_LAYER if name == "every-layer" else PRESETS[name]
    original = copy.deepcopy(spec)
    net = nncore.Network.from_spec(spec)
    assert spec == original  # the caller's dict is not changed
    assert net.to_spec() == spec
    again = nncore.Network.from_spec(json.loads(json.dumps(net.to_spec())))
    assert again.to_spec() == spec
    assert net.input_shape == tuple(spec["input_shape"])


def test_presets_are_the_articles_networks():
    assert set(PRESETS) >= {"xor", "mnist-mlp", "mnist-cnn"}
    xor = nncore.Network.from_spec(PRESETS["xor"])
    assert [row["output_shape"] for row in xor.summary_rows()] == [(3,), (3,), (1,), (1,)]
    mlp = nncore.Network.from_spec(PRESETS["mnist-mlp"])
    assert mlp.count_parameters() == 784 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10
    cnn = nncore.Network.from_spec(PRESETS["mnist-cnn"])
    assert cnn.output_shape == (10,)


def test_minimal_spec_fills_in_defaults():
    net = nncore.Network.from_spec(spec_with({"type": "dense", "units": 2}, {"type": "dropout"}))
    assert net.to_spec()["layers"] == [
        {"type": "dense", "units": 2, "activation": None},
        {"type": "dropout", "rate": 0.5},
    ]


def test_summary_rows():
    net = nncore.Network.from_spec(EVERY_LAYER)
    rows = net.summary_rows()
    assert [row["index"] for row in rows] == list(range(len(EVERY_LAYER["layers"])))
    assert [row["type"] for row in rows] == [e["type"] for e in EVERY_LAYER["layers"]]
    shapes = [row["output_shape"] for row in rows]
    # same conv keeps 12x10; valid 3x2 stride 2 -> (12-3)//2+1 = 5, (10-2)//2+1 = 5; pool -> 2x2
    assert shapes[:6] == [(12, 10, 4), (5, 5, 5), (5, 5, 5), (2, 2, 5), (2, 2, 5), (20,)]
    assert shapes[6:] == [(7,), (7,), (6,), (6,), (6,), (3,), (3,)]
    parameters = [row["parameters"] for row in rows]
    assert parameters == [3 * 3 * 3 * 4 + 4, 3 * 2 * 4 * 5 + 5, 0, 0, 0, 0,
                          20 * 7 + 7, 0, 7 * 6 + 6, 0, 0, 6 * 3 + 3, 0]
    assert sum(parameters) == net.count_parameters()
    assert all(isinstance(row["layer"], str) and row["layer"] for row in rows)


def test_summary_shows_shapes_counts_and_total():
    net = nncore.Network.from_spec(PRESETS["mnist-mlp"])
    text = net.summary()
    assert "(784,)" in text and "(100,)" in text and "(50,)" in text and "(10,)" in text
    assert "78,500" in text and "5,050" in text and "510" in text
    assert "Total parameters: 84,060" in text
    lines = text.splitlines()
    assert sum("Dense" in line for line in lines) == 3


# ------------------------------------------------------------------ what bad specs get


@pytest.mark.parametrize(
    "layers, index, words",
    [
        ([{"type": "dense", "units": 3}, {"type": "convolution"}], 1, ["unknown layer type",
                                                                        "'convolution'"]),
        ([{"units": 3}], 0, ["unknown layer type"]),
        ([{"type": ["dense"]}], 0, ["unknown layer type"]),
        (["dense"], 0, ["must be an object"]),
        ([{"type": "relu"}, {"type": "dense", "units": 3, "size": 4}], 1, ["unknown option",
                                                                           "'size'"]),
        ([{"type": "dense"}], 0, ["'units'", "missing"]),
        ([{"type": "dense", "units": None}], 0, ["'units'", "missing"]),
        ([{"type": "dense", "units": 0}], 0, ["'units'", "positive integer"]),
        ([{"type": "dense", "units": 2.5}], 0, ["'units'", "positive integer"]),
        ([{"type": "dense", "units": True}], 0, ["'units'"]),
        ([{"type": "dense", "units": 4}, {"type": "dropout", "rate": 1.5}], 1, ["'rate'"]),
        ([{"type": "dropout", "rate": 1}], 0, ["'rate'"]),
        ([{"type": "dense", "units": 4, "activation": "foo"}], 0, ["unknown activation",
                                                                   "'foo'"]),
        ([{"type": "leaky_relu", "alpha": -1}], 0, ["'alpha'"]),
    ],
)
def test_bad_layer_options_name_the_layer(layers, index, words):
    error = refused(spec_with(*layers))
    assert error.index == index
    assert str(error).startswith(f"layer {index + 1}")
    for word in words:
        assert word in error.message
    assert error.message in str(error)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    "layer, index, words",
    [
        ({"type": "conv2d", "filters": 2, "padding": "full"}, 0, ["'padding'", "'full'"]),
        ({"type": "conv2d", "filters": 0}, 0, ["'filters'"]),
        ({"type": "conv2d"}, 0, ["'filters'", "missing"]),
        ({"type": "conv2d", "filters": 2, "kernel_size": [3, 3, 3]}, 0, ["'kernel_size'"]),
        ({"type": "conv2d", "filters": 2, "stride": 0}, 0, ["'stride'"]),
        ({"type": "maxpool2d", "pool_size": -2}, 0, ["'pool_size'"]),
    ],
)
def test_bad_image_layer_options_name_the_layer(layer, index, words):
    error = refused(spec_with(layer, input_shape=(6, 6, 1)))
    assert error.index == index and error.layer_type == layer["type"]
    assert str(error).startswith(f"layer 1 ({layer['type']})")
    for word in words:
        assert word in error.message


def test_dense_after_images_without_flatten():
    error = refused(spec_with({"type": "conv2d", "filters": 2}, {"type": "relu"},
                              {"type": "dense", "units": 3}, input_shape=(6, 6, 1)))
    assert error.index == 2
    assert "flatten" in error.message and "(4, 4, 2)" in error.message


@pytest.mark.parametrize("layer_type", ["conv2d", "maxpool2d"])
def test_image_layer_after_flat_input(layer_type):
    layer = {"type": layer_type, "filters": 2} if layer_type == "conv2d" else {"type": layer_type}
    error = refused(spec_with({"type": "dense", "units": 4}, layer))
    assert error.index == 1
    assert "(height, width, channels)" in error.message


def test_kernel_larger_than_input():
    error = refused(spec_with({"type": "conv2d", "filters": 2, "kernel_size": 3},
                              {"type": "conv2d", "filters": 2, "kernel_size": 5},
                              input_shape=(6, 6, 1)))
    assert error.index == 1
    assert "larger than its input" in error.message and "5x5" in error.message


def test_pool_larger_than_input():
    error = refused(spec_with({"type": "maxpool2d", "pool_size": 2},
                              {"type": "maxpool2d", "pool_size": 4}, input_shape=(6, 6, 1)))
    assert error.index == 1 and "larger than its input" in error.message


def test_a_stack_over_the_parameter_limit_is_refused_without_allocating():
    spec = spec_with({"type": "dense", "units": 10}, {"type": "dense", "units": 2_000_000_000},
                     input_shape=(1000,))  # 2e12 weights: terabytes if anyone tried
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = refused(spec)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.index == 1
    assert "50,000,000" in error.message
    assert peak < 10_000_000  # bytes: nothing the size of the layer was allocated
    assert elapsed < 5  # quick (generous, only to catch a hang)


def test_the_parameter_limit_can_be_lowered():
    spec = spec_with({"type": "dense", "units": 100})
    assert nncore.Network.from_spec(spec).count_parameters() == 900
    with pytest.raises(nncore.SpecError) as caught:
        nncore.Network.from_spec(spec, max_parameters=500)
    error = caught.value
    assert error.index == 0 and "500" in error.message


def test_a_huge_layer_added_by_hand_is_refused_too():
    net = nncore.Network(input_shape=(1000,))
    with pytest.raises(nncore.SpecError):
        net.add(nncore.Dense(1_000_000))
    assert net.layers == []  # a layer that does not fit is not kept


@pytest.mark.parametrize(
    "input_shape",
    [[], [0], [-3], [2.5], ["2"], [4, 4], [2, 2, 2, 2], "8", None, [True], 8],
)
def test_bad_input_shape(input_shape):
    error = refused({"input_shape": input_shape, "layers": [{"type": "relu"}]})
    assert error.index is None
    assert "input_shape" in error.message
    assert str(error).startswith("spec")


@pytest.mark.parametrize(
    "spec, words",
    [
        (None, "object"),
        ([{"type": "relu"}], "object"),
        ("{}", "object"),
        ({"layers": [{"type": "relu"}]}, "'input_shape' is missing"),
        ({"input_shape": [2]}, "'layers'"),
        ({"input_shape": [2], "layers": []}, "'layers'"),
        ({"input_shape": [2], "layers": {"type": "relu"}}, "'layers'"),
        ({"input_shape": [2], "layers": [{"type": "relu"}], "optimizer": "sgd"}, "'optimizer'"),
    ],
)
def test_bad_spec_as_a_whole(spec, words):
    error = refused(spec)
    assert error.index is None
    assert words in error.message


def test_an_empty_output_is_refused():
    # a 4x4 image, stride-4 valid 3x3 kernel -> 1x1, then 2x2 pooling has nothing to pool
    error = refused(spec_with({"type": "conv2d", "filters": 1, "kernel_size": 3, "stride": 4},
                              {"type": "maxpool2d", "pool_size": 2}, input_shape=(4, 4, 1)))
    assert error.index == 1


def test_constructors_refuse_bad_options_with_a_spec_error():
    for make in (lambda: nncore.Dense(0), lambda: nncore.Dropout(1.5),
                 lambda: nncore.Conv2D(2, padding="full"),
                 lambda: nncore.Dense(3, activation="foo"),
                 lambda: nncore.Activation("foo"), lambda: nncore.MaxPool2D(0)):
        with pytest.raises(nncore.SpecError):
            make()


def test_dense_with_declared_inputs_checks_them():
    net = nncore.Network([nncore.Dense(3, 4)])
    net.build((3,))
    assert net.output_shape == (4,)
    with pytest.raises(nncore.SpecError, match="declared with 5 inputs"):
        nncore.Network([nncore.Dense(5, 4)], input_shape=(3,))


def test_from_spec_builds_in_the_requested_dtype():
    for dtype in ("float32", "float64"):
        net = nncore.Network.from_spec(PRESETS["mnist-cnn"], dtype=dtype)
        assert all(p.dtype == np.dtype(dtype) for p in net.parameters())


def test_the_parameter_limit_can_be_raised():
    # 60 million parameters (240 MB of float32): refused by default, built under a higher limit
    spec = spec_with({"type": "dense", "units": 60_000}, input_shape=(1000,))
    with pytest.raises(nncore.SpecError):
        nncore.Network.from_spec(spec)
    net = nncore.Network.from_spec(spec, max_parameters=100_000_000)
    assert net.count_parameters() == 60_060_000


# ------------------------------------------------------------------ shape arithmetic in Python ints

# The two stacks from the browser, where NumPy's default int is 32 bits: 65536 * 65537
# wrapped around to 65536, and 99998 * 99998 * 8 to -1,607,578,592.
WIDE_FLATTEN = spec_with({"type": "flatten"}, {"type": "dense", "units": 10},
                         input_shape=(65536, 65537, 1))
HUGE_IMAGE = spec_with({"type": "conv2d", "filters": 8, "kernel_size": 3}, {"type": "flatten"},
                       {"type": "dense", "units": 10}, input_shape=(100000, 100000, 3))


def test_huge_stacks_are_counted_exactly():
    assert str(refused(WIDE_FLATTEN)) == (
        "layer 2 (dense): the stack reaches 42,950,328,330 parameters here, over the limit "
        "of 50,000,000")
    assert str(refused(HUGE_IMAGE)) == (
        "layer 3 (dense): the stack reaches 799,968,000,554 parameters here, over the limit "
        "of 50,000,000")


def python_ints(values):
    return all(type(value) is int for value in values)


@pytest.mark.parametrize("layer", [
    nncore.Flatten(), nncore.Dense(7), nncore.Conv2D(8, kernel_size=3), nncore.MaxPool2D(2),
    nncore.Dropout(0.5), nncore.ReLU(), nncore.Softmax(),
])
def test_shapes_and_counts_are_exact_python_ints_even_from_numpy_integers(layer):
    # beyond int64: np.prod would wrap around even on a 64-bit CPython
    big = (2**33, 2**33, 3)
    shape = (np.int32(6), np.int32(5), np.int32(3)) if not isinstance(layer, nncore.Dense) \
        else (np.int32(12),)
    assert python_ints(layer.compute_output_shape(shape))
    assert type(layer.count_parameters(shape)) is int
    for parameter_shape in layer.parameter_shapes(shape):
        assert python_ints(parameter_shape)
    if isinstance(layer, nncore.Dense):
        assert layer.count_parameters((2**62,)) == 2**62 * 7 + 7
    elif isinstance(layer, nncore.Conv2D):
        assert layer.compute_output_shape(big) == (2**33 - 2, 2**33 - 2, 8)
    elif isinstance(layer, nncore.Flatten):
        assert layer.compute_output_shape(big) == (3 * 2**66,)
    elif isinstance(layer, nncore.MaxPool2D):
        assert layer.compute_output_shape(big) == (2**32, 2**32, 3)


def test_flatten_counts_past_64_bits():
    error = refused(spec_with({"type": "flatten"}, {"type": "dense", "units": 1},
                              input_shape=(2**32, 2**32, 2)))
    assert "36,893,488,147,419,103,233 parameters" in error.message  # 2**65 + 1


@pytest.mark.parametrize("name", sorted(PRESETS) + ["every-layer"])
def test_parameter_shapes_are_known_before_building(name):
    spec = EVERY_LAYER if name == "every-layer" else PRESETS[name]
    input_shape, layers = nncore.spec.parse(spec)
    shapes = nncore.spec.parameter_shapes(layers, input_shape)
    assert shapes == [p.shape for p in nncore.Network.from_spec(spec).parameters()]
    assert all(python_ints(shape) for shape in shapes)
