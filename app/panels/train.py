"""Train tab: dataset and optimiser settings, Train / Stop, and the live training view.

`render()` draws the settings and empty placeholders. The training loop itself runs in
`run_pending()`, called at the very end of the script, so the other tabs are already on the
page while it trains. The loop iterates `Network.train_iter`, redraws the progress bar at
most every PROGRESS_SECONDS and the charts every CHART_SECONDS (with thinned rows, see
app.history), so even a 100,000-epoch XOR run costs the browser a few updates a second.

Stopping: a click on Stop (or any other widget) makes Streamlit start a new script run. That
run sets the training run's stop flag and waits; the loop sees the flag after its current
batch, closes `train_iter` and records where it stopped. The weights are whatever the last
finished batch left, and the history so far stays in session_state for the charts.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import streamlit as st

from app import chart_view, resources, state
from app import history as history_module
from app.panels import build, results
from nncore import LOSSES, Network, SpecError, tasks
from nncore.metrics import decision_grid
from nncore.optimizers import OPTIONS
from nncore.tasks import DataMismatch, check_fits

# While training, the progress bar is redrawn at most every PROGRESS_SECONDS and the charts
# every CHART_SECONDS: each chart redraw costs the browser real work (the decision boundary
# is 1,600 cells), and a browser that falls behind would not deliver a click on Stop.
PROGRESS_SECONDS = 0.25
CHART_SECONDS = 0.5
# The decision boundary is one SVG rectangle per grid point (Streamlit draws Vega as SVG):
# 40 x 40 once a run ends, a coarser 20 x 20 while it trains, a quarter of the browser work.
BOUNDARY_FINAL = 40
BOUNDARY_LIVE = 20
STOP_WAIT_SECONDS = 10.0  # longest a Stop waits for the batch in progress to finish
DATASET_LABELS = {"xor": "XOR (4 points)", "mnist": "MNIST subset"}


# ----------------------------------------------------------------------------- callbacks


def _request_training() -> None:
    st.session_state.train_requested = True


def _stop() -> None:
    end_run(st.session_state.run)


def end_run(run) -> None:
    """Ask a running training loop to stop, and wait until it has.

    A click while the script runs makes Streamlit start a new script run at once, on another
    thread, while the old one goes on until its next Streamlit call. So the loop checks a
    flag after every batch, and this run waits for the loop to finish before drawing: the
    page then shows the epoch the weights really stopped at.
    """
    if run and run.get("running"):
        run["stop_requested"] = True
        run["finished"].wait(timeout=STOP_WAIT_SECONDS)


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
    if not st.session_state.train_requested:
        # any rerun while training (Stop, or another widget) ends the run
        end_run(run)
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
        if st.session_state.run and st.session_state.run["batch"]:
            _draw_progress(places, st.session_state.run)
        _draw_charts(places, final=True)
        with places["answers"].container():
            results.render_answers(st.session_state.run)
        with places["results"].container():
            results.render(st.session_state.run)
    return places


# ----------------------------------------------------------------------------- drawing


def _draw_status(places) -> None:
    run = st.session_state.run
    if not run:
        places["status"].info("Press **Train** to train the network built in the Build tab.")
        return
    if run["status"] == "diverged":
        places["status"].error(run["message"], icon=":material/local_fire_department:")
    elif run["status"] == "error":
        places["status"].error(run["message"], icon=":material/error:")
    elif run["status"] == "stopped":
        places["status"].warning(run["message"], icon=":material/stop_circle:")
    elif run["status"] == "done":
        places["status"].success(run["message"], icon=":material/check_circle:")


def _draw_progress(places, run) -> None:
    """The progress bar: live while running, then frozen where the run ended."""
    total = run["epochs"] * run["batches"]
    finished = (run["epoch"] - 1) * run["batches"] + run["batch"]
    fraction = min(finished / total, 1.0) if total else 0.0
    where = f"Epoch {run['epoch']}/{run['epochs']} · batch {run['batch']}/{run['batches']}"
    if run.get("running"):
        elapsed = time.perf_counter() - run["started"]
        left = elapsed / fraction * (1 - fraction) if fraction > 0 else 0.0
        text = f"{where} · {elapsed:.1f} s elapsed · about {left:.0f} s left"
    else:
        text = f"{where} · {run['seconds']:.1f} s"
    places["progress"].progress(fraction, text=text)


def _draw_charts(places, final=False) -> None:
    history = st.session_state.history
    if not history["epochs"] and not history["batches"]:
        return
    chart_view.show(places["loss"], "loss", loss=history_module.loss_rows(history))
    if history.get("accuracy"):
        chart_view.show(places["accuracy"], "accuracy",
                        accuracy=history_module.accuracy_rows(history))
    run = st.session_state.run
    network = st.session_state.network
    if run and run["dataset"] == "xor" and network is not None:
        grid, points = boundary_rows(network, BOUNDARY_FINAL if final else BOUNDARY_LIVE)
        chart_view.show(places["boundary"], "boundary", grid=grid, points=points)


def boundary_rows(network, resolution=None):
    """Rows of the XOR decision boundary chart: the output over a grid, and the 4 points."""
    xs, ys, outputs = decision_grid(network, resolution=resolution or BOUNDARY_FINAL)
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
        x, y = tasks.training_data("xor", input_shape)
        return x, y, 0.0
    x, y = tasks.training_data("mnist", input_shape, size=int(st.session_state.train_size),
                               seed=int(st.session_state.seed), mnist=resources.mnist())
    return x, y, float(st.session_state.validation_split)


def first_weights(network):
    """A copy of the first weighted layer's weights before training (for the results)."""
    for layer in network.layers:
        if layer.params:
            return np.array(layer.params[0], dtype=np.float64)
    return None


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
        # train_iter checks the data and settings at the call, before any training
        events = network.train_iter(x, y, int(st.session_state.epochs),
                                    batch_size=int(st.session_state.batch_size),
                                    validation_split=validation_split,
                                    seed=int(st.session_state.seed))
    except (SpecError, ValueError, TypeError) as error:
        places["status"].error(f"Training could not start: {error}", icon=":material/warning:")
        return

    state.set_model(network, "trained")
    history = history_module.new()
    st.session_state.history = history
    run = {"running": True, "status": "running", "message": "", "dataset": dataset,
           "epoch": 1, "epochs": int(st.session_state.epochs), "batch": 0, "batches": 1,
           "started": time.perf_counter(), "seconds": 0.0, "loss": None,
           "stop_requested": False, "finished": threading.Event(),
           "initial_weights": first_weights(network)}
    st.session_state.run = run
    places["status"].info("Training…", icon=":material/hourglass_top:")

    last_progress = last_charts = 0.0
    try:
        for event in events:
            if run["stop_requested"]:
                break
            history_module.record(event, history)
            kind = event["type"]
            if kind == "batch":
                run.update(epoch=event["epoch"], batch=event["batch"], batches=event["batches"])
            elif kind == "epoch":
                run["loss"] = float(event["loss"])
            elif kind == "diverged":
                run.update(status="diverged", message=event["message"])
            elif kind == "done" and run["status"] == "running":
                run.update(status="done")
            now = time.perf_counter()
            if now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                _draw_progress(places, run)
            if now - last_charts >= CHART_SECONDS and (history["epochs"] or history["batches"]):
                last_charts = now
                _draw_charts(places)
    except Exception as error:  # noqa: BLE001 - a message in the page, never a traceback
        run.update(status="error", message=f"Training stopped with an error: {error}")
    finally:
        # Reached on Stop, and when Streamlit abandons this script run (a rerun, a closed tab).
        events.close()
        run["seconds"] = time.perf_counter() - run["started"]
        if run["status"] == "running":
            run.update(status="stopped", message=_stopped_message(run))
        run["running"] = False
        run["finished"].set()
    if run["status"] == "stopped":
        return  # a newer script run, the one the Stop click started, draws the page
    if run["status"] == "error":
        _draw_progress(places, run)
        _draw_status(places)
        return
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
