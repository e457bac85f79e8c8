"""Show a chart of the charts package in Streamlit, fast, however many rows it has.

Altair validates every row of inline data against the Vega-Lite JSON schema, which takes
seconds for a few thousand loss points. The charts' specs do not depend on the rows, so we
take each chart's spec once (`export_specs`, the very spec the web site uses) and hand the
rows to Streamlit as the named datasets; Streamlit ships them as Arrow tables.
"""

from __future__ import annotations

import copy
import functools

import pandas as pd

import charts


@functools.lru_cache(maxsize=None)
def _specs():
    return charts.export_specs()


def warm_up() -> None:
    _specs()


def spec(name: str, **sources) -> dict:
    """The Vega-Lite spec of chart `name` with `sources` ({source name: rows}) as its data."""
    result = copy.deepcopy(_specs()[name])
    expected = charts.DATA_SOURCES[name]
    if sorted(sources) != sorted(expected):
        raise ValueError(f"chart {name!r} takes data sources {expected}, got {sorted(sources)}")
    result["datasets"] = {source: pd.DataFrame(rows) for source, rows in sources.items()}
    return result


# Near-square charts keep about their own size (axes and legend included), narrower when the
# column is; the others are as wide as their column. Either way Vega fits the whole chart,
# legend included, into that width, so nothing is cut off on a narrow screen.
# Streamlit fits the whole chart (axes, title and legend too) into the width and the height
# it is given, so a square plot needs a total height a little under its width (the legend
# to the right takes width, the x axis below takes less height).
SQUARE_SIZES = {"boundary": (420, 405), "confusion": (460, 440)}


def show(container, name: str, **sources) -> None:
    """Draw chart `name` into a Streamlit container or placeholder."""
    chart = spec(name, **sources)
    faceted = "facet" in chart or "facet" in chart.get("encoding", {})
    if name in SQUARE_SIZES:
        width, height = SQUARE_SIZES[name]
        container.vega_lite_chart(chart, width=width, height=height)
    else:
        # small multiples keep their cells' size: Vega cannot fit a facet to a width
        container.vega_lite_chart(chart, width="content" if faceted else "stretch")
