"""What a trained model does: XOR predictions, or MNIST test accuracy, confusion, mistakes,
and the patterns the first layer learned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import chart_view, resources
from app.images import enlarge, first_layer_images
from nncore import metrics
from nncore.tasks import DataMismatch, check_fits, shape_inputs

GALLERY_SIZE = 24
XOR_TARGET_ERROR = 0.01


def fits(network, dataset: str) -> bool:
    try:
        check_fits(network.input_shape, network.output_shape, dataset)
    except DataMismatch:
        return False
    return True


def evaluate_current_model() -> None:
    """Score the session's model on the official 10,000 MNIST test digits (once per model)."""
    network = st.session_state.network
    _, _, x_test, y_test = resources.mnist()
    outputs = network.predict(shape_inputs(x_test, network.input_shape))
    predicted = outputs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_test)
    st.session_state.evaluation = {
        "model_version": st.session_state.model_version,
        "accuracy": metrics.accuracy(y_test, predicted),
        "confusion": metrics.confusion_matrix(y_test, predicted, num_classes=10),
        "wrong": wrong[:GALLERY_SIZE],
        "wrong_count": len(wrong),
        "predicted": predicted[wrong[:GALLERY_SIZE]],
    }


def _xor_predictions(network) -> None:
    x, y = resources.xor()
    outputs = network.predict(shape_inputs(x, network.input_shape)).reshape(-1)
    table = pd.DataFrame({
        "x1": x[:, 0].astype(int), "x2": x[:, 1].astype(int), "target": y[:, 0].astype(int),
        "output": np.round(outputs.astype(float), 4),
        "prediction": (outputs > 0.5).astype(int),
    })
    table["right"] = np.where(table["prediction"] == table["target"], "✓", "✗")
    error = float(np.mean((outputs - y[:, 0]) ** 2))
    st.markdown("#### What the network answers")
    st.dataframe(table, hide_index=True, width="content")
    if error < XOR_TARGET_ERROR and (table["right"] == "✓").all():
        st.success(f"Error {error:.5f} < {XOR_TARGET_ERROR}: the network has learned XOR.")
    else:
        st.caption(f"Mean squared error on the four points: {error:.5f}")


def _mnist_results(evaluation) -> None:
    _, _, x_test, y_test = resources.mnist()
    st.markdown("#### On the official MNIST test set (10,000 digits)")
    left, right = st.columns([1, 2])
    left.metric("Test accuracy", f"{evaluation['accuracy']:.2%}")
    left.caption(f"{evaluation['wrong_count']:,} digits misread")
    confusion = evaluation["confusion"]
    rows = [{"actual": actual, "predicted": predicted, "count": int(confusion[actual, predicted])}
            for actual in range(10) for predicted in range(10)]
    with right:
        chart_view.show(st, "confusion", confusion=rows)
    if len(evaluation["wrong"]):
        st.markdown("#### Misread digits")
        st.caption("Under each digit: what it is → what the network read.")
        images = [enlarge(x_test[index], 2) for index in evaluation["wrong"]]
        captions = [f"{y_test[index]} → {guess}"
                    for index, guess in zip(evaluation["wrong"], evaluation["predicted"])]
        st.image(images, caption=captions, width=56, clamp=True)
    run = st.session_state.run
    initial = run.get("initial_weights") if run else None
    patterns = first_layer_images(st.session_state.network, initial=initial)
    if patterns:
        st.markdown("#### What the first layer looks for")
        what = ("what training changed in one unit's (or filter's) weights" if initial is not None
                else "one unit's (or filter's) weights")
        st.caption(f"Each image is {what}: light = positive, dark = negative, grey = zero.")
        st.image(patterns, width=56, clamp=True)


def render_answers(run) -> None:
    """Beside the decision boundary: the XOR net's answer for each of the four points."""
    network = st.session_state.network
    if network is not None and run and run.get("dataset") == "xor" and fits(network, "xor"):
        _xor_predictions(network)


def render(run) -> None:
    """Below the charts: what an MNIST model does on the test set."""
    network = st.session_state.network
    if network is None or (run and run.get("dataset") == "xor"):
        return
    evaluation = st.session_state.evaluation
    if evaluation and evaluation["model_version"] == st.session_state.model_version:
        _mnist_results(evaluation)
    elif fits(network, "mnist") and not (run and run.get("running")):
        if st.button("Evaluate the current model on the MNIST test set", key="evaluate"):
            with st.spinner("Reading 10,000 test digits…"):
                evaluate_current_model()
            _mnist_results(st.session_state.evaluation)
