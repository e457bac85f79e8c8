"""Inside the network: every layer's output for one input, as views both hosts draw as is.

    activations(network, image) -> [view, ...], one per layer, in order:
      {"layer": 3, "type": "maxpool2d", "title": "3 · maxpool2d", "shape": [13, 13, 16],
       "kind": "maps", "maps": [picture, ...], "low", "high", "shown", "total", "note"}
      {... "kind": "strip", "values": [...], "low", "high", "shown", "total", "note"}
      {... "kind": "probabilities", "values": [p0, ..., p9]}
    strip_rows(views) -> rows of the "strip" chart: {"layer", "title", "unit", "value", "level"}

A picture is views.picture's {"width", "height", "pixels"} (grey levels 0..255, row-major).
Image outputs (h, w, c) become "maps", one picture per channel, all on the layer's one grey
scale: [0, high] black to white when nothing is negative, else [-m, m] with 0 mid-grey.
Flat outputs become a "strip" of unit values; a softmax at the end gives "probabilities".
Sizes are capped (MAPS maps per layer, UNITS units per strip) and `note` says so.

The forward pass is the layers' own `forward`, one after another, exactly as
Network.predict runs them (no training, so dropout is off).
"""
from __future__ import annotations

import numpy as np

from .. import tasks
from .views import picture

MAPS = 16  # feature maps shown per layer at most
UNITS = 128  # units shown per strip at most


def title(index, layer):
    """'3 · maxpool2d': the layer's number counted from 1, as the Build tab counts them."""
    return "%d · %s" % (index + 1, layer.type)


def grey_range(values):
    """(low, high) of a grey scale for `values`: [0, max] if none is negative, else [-m, m]."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    largest = float(np.abs(finite).max()) or 1.0
    if float(finite.min()) >= 0:
        return 0.0, largest
    return -largest, largest


def clean(values):
    """float64 with NaN -> 0 and +-inf -> the largest finite float (pictures and JSON)."""
    return np.nan_to_num(np.asarray(values, dtype=np.float64))


def rounded(value, digits=4):
    """A float with `digits` significant digits; None for NaN or infinity (JSON has neither)."""
    value = float(value)
    if not np.isfinite(value):
        return None
    return float("%.*g" % (digits, value))


def outputs(network, x):
    """Each layer's output for the batch x (already shaped for the network): the layers'
    own forward, in order, as Network.predict runs them."""
    results = []
    for layer in network.layers:
        x = layer.forward(x, training=False)
        results.append(x)
    return results


def _maps_view(view, output):
    channels = output.shape[-1]
    shown = min(channels, MAPS)
    low, high = grey_range(output)
    values = clean(output)
    view.update(kind="maps", low=rounded(low), high=rounded(high), shown=shown, total=channels,
                maps=[picture(values[:, :, channel], low, high) for channel in range(shown)])
    if shown < channels:
        view["note"] = "the first %d of %d channels" % (shown, channels)
    return view


def _strip_view(view, output):
    flat = output.reshape(-1)
    shown = min(flat.size, UNITS)
    low, high = grey_range(flat)
    view.update(kind="strip", low=rounded(low), high=rounded(high), shown=shown,
                total=int(flat.size), values=[rounded(value) for value in flat[:shown]])
    if shown < flat.size:
        view["note"] = "the first %d of %d units" % (shown, flat.size)
    return view


def activations(network, image):
    """One view per layer of what it outputs for `image` (one sample, any shape with as many
    values as the network's input, uint8 pixels or floats)."""
    x = tasks.shape_inputs(np.asarray(image)[None], network.input_shape)
    x = x.astype(network.dtype, copy=False)
    results = outputs(network, x)
    last = len(results) - 1
    views = []
    for index, (layer, output) in enumerate(zip(network.layers, results)):
        output = np.asarray(output[0])
        view = {"layer": index + 1, "type": layer.type, "title": title(index, layer),
                "shape": [int(size) for size in output.shape], "note": ""}
        if index == last and tasks.ends_in_softmax(network):
            # drawn once, as the answer's bars: the view only points there
            view.update(kind="probabilities", note="the probabilities shown above",
                        values=[float(value) for value in clean(output).reshape(-1)])
        elif output.ndim == 3:
            views.append(_maps_view(view, output))
            continue
        else:
            _strip_view(view, output)
        views.append(view)
    return views


def strip_rows(views):
    """The "strip" chart's rows for every strip view: {"layer", "title", "unit", "value",
    "level"}, level = value / the layer's largest |value| (so each layer fills the scale)."""
    rows = []
    for view in views:
        if view["kind"] != "strip":
            continue
        largest = max([abs(value) for value in view["values"] if value is not None] or [0.0])
        for unit, value in enumerate(view["values"]):
            level = 0.0 if value is None or largest == 0 else value / largest
            rows.append({"layer": view["layer"], "title": view["title"], "unit": unit,
                         "value": value, "level": round(level, 4)})
    return rows
