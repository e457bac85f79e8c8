"""Charts of the plane: what a network with two inputs computes over its input square.

`hidden_chart` draws every hidden unit's output over the square as a small heatmap, one per
unit, as TensorFlow Playground does (rows: nncore.lab.plane.hidden_rows). Like every chart
of the package it reads a named data source ("hidden"), so the web page streams its rows in.

This module imports only Altair.
"""

from __future__ import annotations

from typing import Any, Dict, List

import altair as alt

Rows = List[Dict[str, Any]]

HIDDEN_CELL = 72  # pixels per side of one unit's heatmap
HIDDEN_COLUMNS = 8  # heatmaps per line before the chart wraps


def hidden_chart(rows: Rows) -> alt.Chart:
    """One small heatmap per hidden unit, titled "<layer> · <type> · unit <n>".

    rows: {"layer": 1-based layer number, "title": "2 · tanh", "unit": 1-based, "x1", "x2",
    "value"} on one regular grid (any resolution). Units are ordered by layer, then unit.
    The colours are the decision boundary's: blue for -1 (tanh) or 0, orange for +1, so a
    unit that answers like the output (label 1 orange) looks like it.
    """
    cell_x = "(datum.x1_max - datum.x1_min) / max(datum.x1_count - 1, 1) / 2"
    cell_y = "(datum.x2_max - datum.x2_min) / max(datum.x2_count - 1, 1) / 2"
    chart = (
        alt.Chart(alt.NamedData(name="hidden"))
        .transform_joinaggregate(
            x1_min="min(x1)", x1_max="max(x1)", x1_count="distinct(x1)",
            x2_min="min(x2)", x2_max="max(x2)", x2_count="distinct(x2)",
        )
        .transform_calculate(
            left=f"datum.x1 - {cell_x}", right=f"datum.x1 + {cell_x}",
            bottom=f"datum.x2 - {cell_y}", top=f"datum.x2 + {cell_y}",
            name="datum.title + ' · unit ' + datum.unit",
            order="datum.layer * 100000 + datum.unit",
        )
        .mark_rect()
        .encode(
            x=alt.X("left:Q", axis=None, scale=alt.Scale(zero=False, nice=False)),
            x2="right:Q",
            y=alt.Y("bottom:Q", axis=None, scale=alt.Scale(zero=False, nice=False)),
            y2="top:Q",
            color=alt.Color(
                "value:Q",
                title="unit output",
                scale=alt.Scale(scheme="blueorange", domain=[-1, 1], clamp=True),
            ),
            facet=alt.Facet(
                "name:N", title=None, columns=HIDDEN_COLUMNS,
                sort=alt.EncodingSortField(field="order", op="min"),
                header=alt.Header(labelFontSize=10, labelPadding=2),
                spacing=6,
            ),
            tooltip=[alt.Tooltip("title:N", title="layer"), alt.Tooltip("unit:Q"),
                     alt.Tooltip("x1:Q", format=".2f"), alt.Tooltip("x2:Q", format=".2f"),
                     alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=HIDDEN_CELL, height=HIDDEN_CELL,
                    title="Hidden units over the input square")
    )
    return chart.properties(datasets={"hidden": list(rows)})
