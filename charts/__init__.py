"""Every chart of nncore, as a function of plain data (lists of dicts) returning an Altair chart.

Both hosts draw these charts. The Streamlit app calls the functions with rows; the static web
site calls `export_specs()` at build time and feeds the rows from JavaScript. To make that
possible every data source is a *named* Vega-Lite source ("loss", "accuracy", "grid",
"points", "hidden", "probabilities", "confusion"): the rows travel in the top-level
`datasets` map, so the web page can drop them and stream its own with `view.data(name, rows)`.

This module imports only Altair: the web build imports it without Streamlit.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import altair as alt

from .inside import strip_chart
from .plane import hidden_chart

Rows = List[Dict[str, Any]]

# One palette for both hosts: the series of the error / accuracy charts.
SERIES_COLORS = {"train": "#1f77b4", "validation": "#ff7f0e"}
BATCH_COLOR = "#9aa5b1"
HIGHLIGHT_COLOR = "#e4572e"
PLAIN_COLOR = "#8da0cb"
CHART_WIDTH = 440
CHART_HEIGHT = 260


def _source(name: str) -> alt.NamedData:
    return alt.NamedData(name=name)


def _with_rows(chart: alt.TopLevelMixin, **sources: Rows) -> alt.TopLevelMixin:
    """Attach the rows of each named source as the chart's top-level `datasets`."""
    return chart.properties(datasets={name: list(rows) for name, rows in sources.items()})


def _series_scale() -> alt.Scale:
    # The domain comes from the data (sorted: "train" < "validation"), so the legend lists
    # only the series a run has; the colours stay the same either way.
    return alt.Scale(range=list(SERIES_COLORS.values()))


def loss_chart(rows: Rows) -> alt.LayerChart:
    """The error while training.

    rows: {"step": epoch position (1.25 = a quarter into epoch 2), "loss", "series"} with
    series "batch" (every batch, a faint line) or "train" / "validation" (one point per
    epoch, solid lines). The y axis is logarithmic: a loss falling from 1 to 0.001 stays
    readable. Non-positive losses cannot sit on a log axis, so they are filtered out.
    """
    source = _source("loss")
    x = alt.X("step:Q", title="epoch", scale=alt.Scale(zero=False))
    y = alt.Y("loss:Q", title="error (loss)", scale=alt.Scale(type="log"))
    tooltip = [
        alt.Tooltip("series:N"),
        alt.Tooltip("step:Q", format=".2f", title="epoch"),
        alt.Tooltip("loss:Q", format=".4g"),
    ]
    batches = (
        alt.Chart(source)
        .transform_filter("datum.series === 'batch' && datum.loss > 0")
        .mark_line(color=BATCH_COLOR, opacity=0.45, strokeWidth=1)
        .encode(x=x, y=y)
    )
    epochs = (
        alt.Chart(source)
        .transform_filter("datum.series !== 'batch' && datum.loss > 0")
        .mark_line(point=alt.OverlayMarkDef(size=16), strokeWidth=2)
        .encode(
            x=x,
            y=y,
            color=alt.Color("series:N", scale=_series_scale(), title=None),
            tooltip=tooltip,
        )
    )
    chart = alt.layer(batches, epochs).properties(
        width=CHART_WIDTH, height=CHART_HEIGHT, title="Error"
    )
    return _with_rows(chart, loss=rows)


def accuracy_chart(rows: Rows) -> alt.Chart:
    """Accuracy per epoch.

    rows: {"epoch": int, "accuracy": 0..1, "series": "train"|"validation"}.
    """
    chart = (
        alt.Chart(_source("accuracy"))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%")),
            color=alt.Color("series:N", scale=_series_scale(), title=None),
            tooltip=[alt.Tooltip("series:N"), alt.Tooltip("epoch:Q"),
                     alt.Tooltip("accuracy:Q", format=".1%")],
        )
        .properties(width=CHART_WIDTH, height=CHART_HEIGHT, title="Accuracy")
    )
    return _with_rows(chart, accuracy=rows)


def boundary_chart(grid_rows: Rows, point_rows: Rows) -> alt.LayerChart:
    """The network's output over the input square, with the data points on top.

    grid_rows: {"x1", "x2", "output"} on a regular grid (any resolution); point_rows:
    {"x1", "x2", "label", "split"}: split "train" points are filled, "test" points hollow
    (white, ringed in their label's colour); a row without a split is a training point. Each grid
    point becomes a cell centred on it: the cell width is the grid step,
    (max - min) / (distinct values - 1), computed inside the chart so the web page can send
    any grid. A few points (XOR's four) are drawn large, a cloud of them small.
    """
    cell_x = "(datum.x1_max - datum.x1_min) / max(datum.x1_count - 1, 1) / 2"
    cell_y = "(datum.x2_max - datum.x2_min) / max(datum.x2_count - 1, 1) / 2"
    heatmap = (
        alt.Chart(_source("grid"))
        .transform_joinaggregate(
            x1_min="min(x1)", x1_max="max(x1)", x1_count="distinct(x1)",
            x2_min="min(x2)", x2_max="max(x2)", x2_count="distinct(x2)",
        )
        .transform_calculate(
            left=f"datum.x1 - {cell_x}", right=f"datum.x1 + {cell_x}",
            bottom=f"datum.x2 - {cell_y}", top=f"datum.x2 + {cell_y}",
        )
        .mark_rect()
        .encode(
            x=alt.X("left:Q", title="x1", scale=alt.Scale(zero=False, nice=False)),
            x2="right:Q",
            y=alt.Y("bottom:Q", title="x2", scale=alt.Scale(zero=False, nice=False)),
            y2="top:Q",
            color=alt.Color(
                "output:Q",
                title="output",
                scale=alt.Scale(scheme="blueorange", domain=[0, 1], clamp=True),
            ),
        )
    )
    label_colors = alt.Scale(domain=[0, 1], range=["#2166ac", "#f4a582"])
    shapes = alt.Shape("label:N", legend=None,
                       scale=alt.Scale(domain=[0, 1], range=["circle", "square"]))
    tooltip = ["x1:Q", "x2:Q", "label:N", "split:N"]
    # size 180 for a handful of points, 30 for a cloud (scale None: the value is the area)
    point_base = (
        alt.Chart(_source("points"))
        .transform_joinaggregate(point_count="count()")
        .transform_calculate(dot="datum.point_count <= 16 ? 180 : 30")
    )
    size = alt.Size("dot:Q", scale=None, legend=None)
    train = (
        point_base.transform_filter("datum.split !== 'test'")
        .mark_point(filled=True, stroke="black", strokeWidth=1, opacity=1)
        .encode(x="x1:Q", y="x2:Q", size=size, shape=shapes, tooltip=tooltip,
                fill=alt.Fill("label:N", title="label", scale=label_colors))
    )
    test = (
        point_base.transform_filter("datum.split === 'test'")
        .mark_point(filled=True, fill="white", strokeWidth=2, opacity=1)
        .encode(x="x1:Q", y="x2:Q", size=size, shape=shapes, tooltip=tooltip,
                stroke=alt.Stroke("label:N", scale=label_colors, legend=None))
    )
    chart = (
        alt.layer(heatmap, train, test)
        .resolve_scale(color="independent")
        .properties(width=300, height=300, title="Decision boundary")
    )
    return _with_rows(chart, grid=grid_rows, points=point_rows)


def probability_chart(rows: Rows) -> alt.Chart:
    """The ten class probabilities as bars; the predicted digit (the tallest bar) highlighted.

    rows: {"digit": 0..9, "probability": 0..1}.
    """
    chart = (
        alt.Chart(_source("probabilities"))
        .transform_joinaggregate(best="max(probability)")
        .transform_calculate(predicted="datum.probability === datum.best")
        .mark_bar()
        .encode(
            x=alt.X("digit:O", title="digit", scale=alt.Scale(domain=list(range(10))),
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("probability:Q", title="probability", scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%")),
            color=alt.condition(
                "datum.predicted", alt.value(HIGHLIGHT_COLOR), alt.value(PLAIN_COLOR)
            ),
            tooltip=[alt.Tooltip("digit:O"), alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(width=CHART_WIDTH, height=200, title="Probabilities")
    )
    return _with_rows(chart, probabilities=rows)


def confusion_chart(rows: Rows) -> alt.LayerChart:
    """Confusion matrix: rows {"actual", "predicted", "count"}; the diagonal is right."""
    digits = list(range(10))
    base = alt.Chart(_source("confusion")).encode(
        x=alt.X("predicted:O", title="predicted", scale=alt.Scale(domain=digits),
                axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("actual:O", title="actual", scale=alt.Scale(domain=digits)),
    )
    cells = base.mark_rect().encode(
        # The colour domain is [0, largest count], and [0, 1] before there is any count:
        # a domain taken from no rows is [null, null], which the legend prints as "NaN".
        color=alt.Color("count:Q", title="count", scale=alt.Scale(
            scheme="blues", type="sqrt", domain=alt.DomainUnionWith(unionWith=[0, 1]))),
        tooltip=["actual:O", "predicted:O", "count:Q"],
    )
    # Dark cells (more than half the largest count) get white text.
    labels = (
        base.transform_joinaggregate(largest="max(count)")
        .transform_filter("datum.count > 0")
        .mark_text(fontSize=11)
        .encode(
            text="count:Q",
            color=alt.condition(
                "datum.count > datum.largest / 2", alt.value("white"), alt.value("black")
            ),
        )
    )
    chart = alt.layer(cells, labels).properties(width=360, height=360, title="Confusion matrix")
    return _with_rows(chart, confusion=rows)


CHARTS: Dict[str, Callable[..., alt.TopLevelMixin]] = {
    "loss": loss_chart,
    "accuracy": accuracy_chart,
    "boundary": boundary_chart,
    "hidden": hidden_chart,
    "probabilities": probability_chart,
    "confusion": confusion_chart,
    "strip": strip_chart,
}

# The named data sources of each chart, in the order its function takes them.
DATA_SOURCES: Dict[str, List[str]] = {
    "loss": ["loss"],
    "accuracy": ["accuracy"],
    "boundary": ["grid", "points"],
    "hidden": ["hidden"],
    "probabilities": ["probabilities"],
    "confusion": ["confusion"],
    "strip": ["strip"],
}


def export_specs() -> Dict[str, Dict[str, Any]]:
    """Each chart's Vega-Lite spec with no data: the page feeds the named sources itself.

    The `datasets` map is removed, so each source compiles to an empty Vega dataset with
    the same name (ready for `view.data(name, rows)`).
    """
    specs = {}
    for name, function in CHARTS.items():
        spec = function(*([] for _ in DATA_SOURCES[name])).to_dict()
        spec.pop("datasets", None)
        specs[name] = spec
    return specs
