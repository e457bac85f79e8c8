"""charts/: the chart contract shared by the Streamlit app and the static web site."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dependencies import require

require("altair")
import charts  # noqa: E402
from app import chart_view  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "loss": ["loss"],
    "accuracy": ["accuracy"],
    "boundary": ["grid", "points"],
    "hidden": ["hidden"],
    "probabilities": ["probabilities"],
    "confusion": ["confusion"],
    "strip": ["strip"],
}
SAMPLE_ROWS = {
    "loss": [{"step": 0.5, "loss": 0.7, "series": "batch"},
             {"step": 1.0, "loss": 0.5, "series": "train"},
             {"step": 1.0, "loss": 0.6, "series": "validation"}],
    "accuracy": [{"epoch": 1, "accuracy": 0.8, "series": "train"},
                 {"epoch": 1, "accuracy": 0.7, "series": "validation"}],
    "grid": [{"x1": a / 2, "x2": b / 2, "output": (a + b) / 4} for a in range(3) for b in range(3)],
    "points": [{"x1": 0, "x2": 0, "label": 0}, {"x1": 1, "x2": 0, "label": 1},
               {"x1": 1, "x2": 1, "label": 0, "split": "test"}],
    "hidden": [{"layer": 2, "title": "2 · tanh", "unit": u, "x1": a - 1, "x2": b - 1,
                "value": (a - b) / 2} for u in (1, 2) for a in range(3) for b in range(3)],
    "probabilities": [{"digit": d, "probability": 0.1} for d in range(10)],
    "confusion": [{"actual": a, "predicted": p, "count": int(a == p) * 9 + 1}
                  for a in range(10) for p in range(10)],
    "strip": [{"layer": 9, "title": "9 · dense", "unit": u, "value": u - 1.0, "level": u - 1.0}
              for u in range(3)],
}


def named_sources(node) -> set:
    """Every {"data": {"name": ...}} anywhere in a Vega-Lite dict."""
    found = set()
    if isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, dict) and "name" in data:
            found.add(data["name"])
        for value in node.values():
            found |= named_sources(value)
    elif isinstance(node, list):
        for value in node:
            found |= named_sources(value)
    return found


def test_export_specs_are_json_with_every_named_source_and_no_data():
    specs = charts.export_specs()
    assert set(specs) == set(SOURCES) == set(charts.CHARTS)
    for name, spec in specs.items():
        text = json.dumps(spec)  # JSON-serialisable, as the web build writes it
        assert named_sources(json.loads(text)) == set(SOURCES[name]), name
        assert "datasets" not in spec and '"values"' not in text, name
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_chart_carries_its_rows_in_its_named_datasets(name):
    rows = [SAMPLE_ROWS[source] for source in SOURCES[name]]
    spec = charts.CHARTS[name](*rows).to_dict()
    assert spec["datasets"] == {source: SAMPLE_ROWS[source] for source in SOURCES[name]}
    assert named_sources(spec) == set(SOURCES[name])


def test_streamlit_view_uses_the_exported_spec_with_the_rows():
    exported = charts.export_specs()["boundary"]
    spec = chart_view.spec("boundary", grid=SAMPLE_ROWS["grid"], points=SAMPLE_ROWS["points"])
    assert {key: value for key, value in spec.items() if key != "datasets"} == exported
    outputs = [row["output"] for row in SAMPLE_ROWS["grid"]]
    assert list(spec["datasets"]["grid"]["output"]) == outputs
    with pytest.raises(ValueError, match="takes data sources"):
        chart_view.spec("boundary", grid=SAMPLE_ROWS["grid"])


def test_charts_module_imports_without_streamlit():
    code = "import sys, charts; assert 'streamlit' not in sys.modules, 'streamlit imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_confusion_legend_of_an_empty_run_has_a_finite_domain():
    # With no rows a data-driven colour domain is [null, null] and the legend reads "NaN";
    # a domain united with [0, 1] is [0, 1] then, and [0, largest count] once counts arrive.
    for spec in (charts.export_specs()["confusion"], charts.confusion_chart([]).to_dict()):
        (cells,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rect"]
        scale = cells["encoding"]["color"]["scale"]
        assert scale["domain"] == {"unionWith": [0, 1]}
        assert "domainMin" not in scale and "domainMax" not in scale
