"""The Train tab's live view: where the run stands, its verdict, and every chart and picture
of the current model, all drawn from the session's report and rows (nncore.lab)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import chart_view
from app.images import enlarge

VERDICT_ICONS = {"learned": ":material/check_circle:", "did_not_learn": ":material/warning:",
                 "diverged": ":material/local_fire_department:", "error": ":material/error:",
                 "stopped": ":material/stop_circle:"}


def render_status(report: dict) -> None:
    st.markdown(f'<div class="train-status">{report["text"]}</div>', unsafe_allow_html=True)
    if report["progress"] is not None and report["status"] != "finished":
        st.progress(report["progress"])
    verdict = report["verdict"]
    if verdict is None:
        return
    text = verdict["title"] + (f" {verdict['advice']}" if verdict["advice"] else "")
    kind = verdict["kind"]
    show = {"learned": st.success, "stopped": st.info}.get(kind, st.warning)
    if kind == "error":
        show = st.error
    show(text, icon=VERDICT_ICONS.get(kind))


def picture_array(picture: dict) -> np.ndarray:
    """A lab picture {width, height, pixels 0..255} as a (height, width) uint8 image."""
    return np.asarray(picture["pixels"], dtype=np.uint8).reshape(picture["height"],
                                                                 picture["width"])


def render_charts(session, report: dict) -> None:
    rows = session.rows()
    if not rows["loss"] and not rows["grid"] and not rows["test"]:
        return
    left, right = st.columns(2)
    if rows["loss"]:
        chart_view.show(left, "loss", loss=rows["loss"])
    if rows["accuracy"]:
        chart_view.show(right, "accuracy", accuracy=rows["accuracy"])
    if rows["grid"]:
        left, right = st.columns(2)
        chart_view.show(left, "boundary", grid=rows["grid"], points=rows["points"])
        with right:
            if rows["plane"]:
                _plane_scores(rows["plane"])
            else:
                _xor_answers(rows["answers"])
    if rows["hidden"]:
        st.markdown("#### What each hidden unit computes")
        st.caption("Each square is one hidden unit's output over the input square, titled by "
                   "its layer (numbered as in Build) and unit: orange +1, blue -1 (or 0).")
        chart_view.show(st, "hidden", hidden=rows["hidden"])
    if rows["test"]:
        _test_results(rows)
    if rows["weights"]:
        st.markdown("#### What the first layer looks for")
        what = ("what training changed in one unit's (or filter's) weights"
                if rows["weights"][0]["changed"] else "one unit's (or filter's) weights")
        st.caption(f"Each image is {what}: light = positive, dark = negative, grey = zero.")
        images = [enlarge(picture_array(p), max(1, 56 // p["width"])) for p in rows["weights"]]
        st.image(images, width=56, clamp=True)


def _xor_answers(answers) -> None:
    st.markdown("#### What the network answers")
    table = pd.DataFrame([{"x1": a["x1"], "x2": a["x2"], "target": a["target"],
                           "output": a["output"], "answer": a["answer"],
                           "right": "✓" if a["right"] else "✗"} for a in answers])
    st.dataframe(table, hide_index=True, width="content")


def _plane_scores(scores) -> None:
    st.markdown("#### How many points it gets right")
    first, second = st.columns(2)
    first.metric("Train accuracy", f"{scores['train_accuracy']:.1%}")
    first.caption(f"{scores['train_samples']} training points (filled)")
    second.metric("Test accuracy", f"{scores['test_accuracy']:.1%}")
    second.caption(f"{scores['test_samples']} test points (hollow), never trained on")


def _test_results(rows) -> None:
    test = rows["test"]
    st.markdown(f"#### On the official MNIST test set ({test['samples']:,} digits)")
    left, right = st.columns([1, 2])
    left.metric("Test accuracy", f"{test['accuracy']:.2%}")
    left.caption(f"{test['wrong']:,} digits misread")
    with right:
        chart_view.show(st, "confusion", confusion=rows["confusion"])
    if rows["misread"]:
        st.markdown("#### Misread digits")
        st.caption("Under each digit: what it is → what the network read.")
        images = [enlarge(picture_array(item["picture"]), 2) for item in rows["misread"]]
        captions = [f"{item['actual']} → {item['predicted']}" for item in rows["misread"]]
        st.image(images, caption=captions, width=56, clamp=True)
