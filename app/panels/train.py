"""Train tab: dataset and optimiser settings, Train / Stop, and the live training view.

`render()` draws the settings and empty placeholders. The training loop itself runs in
`run_pending()`, called at the very end of the script, so the other tabs are already on the
page while it trains. The loop iterates `Network.train_iter` and redraws the placeholders at
most every REDRAW_SECONDS, so a 1,000-epoch XOR run costs a handful of chart updates.

Stopping: a click on Stop (or any other widget) makes Streamlit rerun the script, which
interrupts the loop at its next redraw. The weights are whatever the last finished batch
left, the history so far is in session_state, and the next run marks the run as stopped.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from app import chart_view, resources, state
from app.fitting import DataMismatch, check_fits, one_hot, shape_inputs
from app.panels import build, results
from nncore import LOSSES, Network, SpecError
from nncore.metrics import decision_grid
from nncore.optimizers import OPTIONS

REDRAW_SECONDS = 0.25
MAX_BATCH_POINTS = 1500  # per-batch points drawn; longer runs are thinned evenly
# Per-batch losses are drawn for real mini-batch runs only: with a handful of batches per
# epoch (XOR, one sample each) they are single-sample losses, spread over ten decades.
MIN_BATCHES_FOR_BATCH_LINE = 8
DATASET_LABELS = {"xor": "XOR (4 points)", "mnist": "MNIST subset"}


# ----------------------------------------------------------------------------- callbacks


def _request_training() -> None:
    st.session_state.train_requested = True


def _stop() -> None:
    run = st.session_state.run
    if run and run.get("running"):
        run["running"] = False
        run["status"] = "stopped"
        run["message"] = _stopped_message(run)


def _stopped_message(run) -> str:
    return (f"Stopped at epoch {run['epoch']} of {run['epochs']}, batch {run['batch']} of "
            f"{run['batches']}. The model keeps the weights it had reached.")


# ----------------------------------------------------------------------------- settings


def _settings() -> None:
    first = st.columns(4)
    first[0].radio("Dataset", list(DATASET_LABELS), format_func=DATASET_LABELS.get,
                   key="dataset", horizontal=True)
    if st.session_state.dataset == "mnist":
        first[1].slider("Training digits", 500, 10_000, step=500, key="train_size",
                        help="Taken from the 10,000-digit MNIST training subset")
        first[2].slider("Validation split", 0.0, 0.5, step=0.05, key="validation_split",
                        help="The last fraction of the training digits, held out to "
                             "measure validation error")
    first[3].number_input("Seed", min_value=0, step=1, key="seed",
                          help="Same seed, same settings: the same run")

    second = st.columns(4)
    second[0].selectbox("Loss", LOSSES, key="loss")
    second[1].selectbox("Optimizer", list(OPTIONS), key="optimizer")
    second[2].number_input("Learning rate", min_value=0.0, format="%g", step=0.001, key="lr")
    second[3].number_input("Batch size", min_value=1, max_value=10_000, step=1, key="batch_size")

    options = OPTIONS[st.session_state.optimizer]
    third = st.columns(4)
    third[0].number_input("Epochs", min_value=1, max_value=100_000, step=1, key="epochs")
    for column, (option, default) in zip(third[1:], options.items()):
        key = f"option-{st.session_state.optimizer}-{option}"
        st.session_state.setdefault(key, float(default))
        column.number_input(option, min_value=0.0, format="%g", step=0.01, key=key)


def optimizer_options() -> dict:
    name = st.session_state.optimizer
    return {option: float(st.session_state.get(f"option-{name}-{option}", default))
            for option, default in OPTIONS[name].items()}


def fit_problem():
    """Why the current stack cannot train on the chosen dataset, or None."""
    network, error = build.validate(state.current_spec())
    if error is not None:
        return f"The stack in the Build tab is not valid: {error}. Fix it there first."
    try:
        check_fits(network.input_shape, network.output_shape, st.session_state.dataset)
    except DataMismatch as mismatch:
        return str(mismatch)
    return None


def render() -> dict:
    st.subheader("Train")
    _settings()
    problem = fit_problem()
    run = st.session_state.run
    if run and run.get("running") and not st.session_state.train_requested:
        # the script was rerun while training: that interrupted the loop
        run["running"] = False
        run["status"] = "stopped"
        run["message"] = _stopped_message(run)
    starting = st.session_state.train_requested and problem is None
    if problem is not None:
        st.session_state.train_requested = False
        st.error(problem, icon=":material/warning:")

    buttons = st.container(horizontal=True)
    buttons.button("Train", type="primary", on_click=_request_training,
                      disabled=problem is not None or starting, key="train_button")
    buttons.button("Stop", on_click=_stop, disabled=not starting, key="stop_button")

    places = {"status": st.empty(), "progress": st.empty()}
    left, right = st.columns(2)
    places["loss"], places["accuracy"] = left.empty(), right.empty()
    left, right = st.columns(2)
    places["boundary"], places["answers"] = left.empty(), right.empty()
    places["results"] = st.empty()
    if not starting:
        _draw_status(places)
        _draw_charts(places, final=True)
        with places["answers"].container():
            results.render_answers(st.session_state.run)
        with places["results"].container():
            results.render(st.session_state.run)
    return places


# ----------------------------------------------------------------------------- drawing


def _thin(rows):
    step = -(-len(rows) // MAX_BATCH_POINTS)
    return rows[::step] if step > 1 else rows


def _draw_status(places) -> None:
    run = st.session_state.run
    if not run:
        places["status"].info("Press **Train** to train the network built in the Build tab.")
        return
    if run["status"] == "diverged":
        places["status"].error(run["message"], icon=":material/local_fire_department:")
    elif run["status"] == "stopped":
        places["status"].warning(run["message"], icon=":material/stop_circle:")
    elif run["status"] == "done":
        places["status"].success(run["message"], icon=":material/check_circle:")


def _draw_progress(places, run) -> None:
    total = run["epochs"] * run["batches"]
    finished = (run["epoch"] - 1) * run["batches"] + run["batch"]
    fraction = min(finished / total, 1.0) if total else 0.0
    elapsed = time.perf_counter() - run["started"]
    left = elapsed / fraction * (1 - fraction) if fraction > 0 else 0.0
    places["progress"].progress(
        fraction,
        text=(f"Epoch {run['epoch']}/{run['epochs']} · batch {run['batch']}/{run['batches']} · "
              f"{elapsed:.1f} s elapsed · about {left:.0f} s left"),
    )


def _draw_charts(places, final=False) -> None:
    history = st.session_state.history
    if not history["epochs"] and not history["batches"]:
        return
    rows = _thin(history["batches"]) + history["epochs"]
    chart_view.show(places["loss"], "loss", loss=rows)
    if history.get("accuracy"):
        chart_view.show(places["accuracy"], "accuracy", accuracy=history["accuracy"])
    run = st.session_state.run
    network = st.session_state.network
    if run and run["dataset"] == "xor" and network is not None:
        grid, points = boundary_rows(network)
        chart_view.show(places["boundary"], "boundary", grid=grid, points=points)


def boundary_rows(network):
    """Rows of the XOR decision boundary chart: the output over a grid, and the 4 points."""
    xs, ys, outputs = decision_grid(network, resolution=40)
    grid = [{"x1": float(a), "x2": float(b), "output": float(o)}
            for a, b, o in zip(xs, ys, outputs)]
    x, y = resources.xor()
    points = [{"x1": float(a), "x2": float(b), "label": int(round(float(t)))}
              for (a, b), t in zip(x, y[:, 0])]
    return grid, points


# ----------------------------------------------------------------------------- training


def training_data(dataset: str, input_shape):
    """(x, y, validation_split) for the dataset, x reshaped to the network's input."""
    if dataset == "xor":
        x, y = resources.xor()
        return shape_inputs(x, input_shape), y, 0.0
    x_train, y_train, _, _ = resources.mnist()
    # A random subset (seeded): the stored digits are grouped by label, so the first N would
    # be mostly zeros, and validation_split takes the *last* fraction before shuffling.
    size = int(st.session_state.train_size)
    chosen = np.random.default_rng(int(st.session_state.seed)).permutation(len(x_train))[:size]
    x = shape_inputs(x_train[chosen], input_shape)
    return x, one_hot(y_train[chosen]), float(st.session_state.validation_split)


def _record(event, history) -> None:
    """Turn a train_iter event into chart rows. Steps are epoch positions: batch 1 of 4 in
    epoch 2 sits at 1.25, the epoch's own point at 2.0."""
    if event["type"] == "batch" and event["batches"] >= MIN_BATCHES_FOR_BATCH_LINE:
        step = event["epoch"] - 1 + event["batch"] / event["batches"]
        history["batches"].append({"step": step, "loss": float(event["loss"]), "series": "batch"})
    elif event["type"] == "epoch":
        epoch = event["epoch"]
        history["epochs"].append({"step": float(epoch), "loss": float(event["loss"]),
                                  "series": "train"})
        if event.get("val_loss") is not None:
            history["epochs"].append({"step": float(epoch), "loss": float(event["val_loss"]),
                                      "series": "validation"})
        for key, series in (("accuracy", "train"), ("val_accuracy", "validation")):
            if event.get(key) is not None:
                history["accuracy"].append({"epoch": epoch, "accuracy": float(event[key]),
                                            "series": series})


def run_pending(places) -> None:
    """Run the training the Train button asked for (called last in the script)."""
    if not st.session_state.train_requested:
        return
    st.session_state.train_requested = False
    dataset = st.session_state.dataset
    spec = state.current_spec()
    try:
        network = Network.from_spec(spec, seed=int(st.session_state.seed))
        network.compile(loss=st.session_state.loss, optimizer=st.session_state.optimizer,
                        lr=float(st.session_state.lr), **optimizer_options())
        x, y, validation_split = training_data(dataset, network.input_shape)
    except (SpecError, ValueError, TypeError) as error:
        places["status"].error(f"Training could not start: {error}", icon=":material/warning:")
        return

    state.set_model(network, "trained")
    history = {"batches": [], "epochs": [], "accuracy": []}
    st.session_state.history = history
    run = {"running": True, "status": "running", "message": "", "dataset": dataset,
           "epoch": 1, "epochs": int(st.session_state.epochs), "batch": 0, "batches": 1,
           "started": time.perf_counter(), "seconds": 0.0, "loss": None}
    st.session_state.run = run
    places["status"].info("Training…", icon=":material/hourglass_top:")

    events = network.train_iter(x, y, run["epochs"], batch_size=int(st.session_state.batch_size),
                                validation_split=validation_split,
                                seed=int(st.session_state.seed))
    last_draw = 0.0
    try:
        for event in events:
            _record(event, history)
            kind = event["type"]
            if kind == "batch":
                run.update(epoch=event["epoch"], batch=event["batch"], batches=event["batches"])
            elif kind == "epoch":
                run["loss"] = float(event["loss"])
            elif kind == "diverged":
                run.update(status="diverged", message=event["message"])
            elif kind == "done":
                run.update(status="done")
            now = time.perf_counter()
            if now - last_draw >= REDRAW_SECONDS:
                last_draw = now
                _draw_progress(places, run)
                _draw_charts(places)
    finally:
        events.close()
    run["running"] = False
    run["seconds"] = time.perf_counter() - run["started"]
    if run["status"] == "done":
        run["message"] = (f"Trained {run['epochs']} epochs in {run['seconds']:.1f} s; "
                          f"final error {run['loss']:.4g}.")
    _draw_progress(places, run)
    _draw_status(places)
    _draw_charts(places, final=True)
    if dataset == "mnist":
        with st.spinner("Reading the 10,000 test digits…"):
            results.evaluate_current_model()
    # Draw the whole page again from the final state (the Model tab shows the new model).
    st.rerun()
