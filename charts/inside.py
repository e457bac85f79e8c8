"""The chart of nncore.lab.inside: each flat layer's output for one input, as a heat strip."""

from __future__ import annotations

from typing import Any, Dict, List

import altair as alt

Rows = List[Dict[str, Any]]


def strip_chart(rows: Rows) -> alt.Chart:
    """One row of cells per flat layer (dense, relu, flatten...), one cell per unit.

    rows: {"layer": number from 1, "title": "9 · dense", "unit": 0.., "value", "level"}, as
    nncore.lab.inside.strip_rows gives them; level = value / the layer's largest |value|,
    so every layer uses the whole colour scale (orange +, blue -, white 0) and the tooltip
    gives the value itself.
    """
    chart = (
        alt.Chart(alt.NamedData(name="strip"))
        .mark_rect()
        .encode(
            x=alt.X("unit:O", title="unit", axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("title:N", title=None, sort=alt.EncodingSortField("layer", order="ascending")),
            color=alt.Color("level:Q", title="value / largest",
                            scale=alt.Scale(scheme="blueorange", domain=[-1, 1], clamp=True)),
            tooltip=[alt.Tooltip("title:N", title="layer"), alt.Tooltip("unit:O"),
                     alt.Tooltip("value:Q", format=".4g")],
        )
        .properties(width=440, height=alt.Step(20), title="Flat layers, unit by unit")
    )
    return chart.properties(datasets={"strip": list(rows)})
