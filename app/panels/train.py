"""Train tab: the training settings, the run's controls, and the live view.

The training itself is the session's (nncore.lab.Session), stepped by `live`, a fragment
that Streamlit reruns on a timer while a run is active: each rerun trains for a share of
LIVE_SECONDS (TRAINING_SHARE), then draws the status and the charts from the session's rows.
Between two reruns the server is free, so every other tab stays live while the network
trains (a digit drawn mid-run is answered at once), and a Build edit never ends a run.

One server holds a whole class, so an active run trains only while it holds one of the
server's trainer slots (app.trainers: NNCORE_TRAINERS of them, one per core by default).
Without one it waits in line, says "Waiting for a free trainer (n ahead)" and starts by
itself when a slot frees; a run that finishes, pauses or stops gives its slot back. Only the
live fragment asks the pool: drawing and the other tabs never wait for a trainer.
"""

from __future__ import annotations

import time

import streamlit as st

from app import state
from app.panels import results
from nncore import LOSSES, optimizers
from nncore.lab import SPEEDS, ExperimentError
from nncore.lab import experiment as experiment_module

LIVE_SECONDS = 0.4  # the live fragment reruns this often while a run trains
# ... and this often while it waits in line for a trainer: a waiting session only asks the
# pool and redraws its status line, and a class of them should not keep the server busy
WAITING_SECONDS = 1.0
# Every session's training runs in this one Python process, one thread at a time (the GIL):
# together the runs that hold a trainer train for this share of the time, each for
# LIVE_SECONDS * TRAINING_SHARE / (runs training) per rerun (0.2 s alone, 0.1 s each for
# two). The rest is for everything else: a digit drawn in any session meanwhile is answered
# within ~0.1-0.2 s (at 0.2 s each for two runs, a drawing waited twice as long).
TRAINING_SHARE = 0.5
ACTIVE = ("running", "evaluating")


# ----------------------------------------------------------------------------- settings


def _optimizer_changed() -> None:
    """A new optimizer starts from its own textbook learning rate."""
    st.session_state.lr = experiment_module.default_lr(st.session_state.optimizer)


def _settings() -> None:
    st.radio("Dataset", list(experiment_module.DATASETS),
             format_func=experiment_module.DATASETS.get, key="dataset", horizontal=True)
    first = st.columns(4)
    dataset = st.session_state.dataset
    if dataset == "mnist":
        first[0].slider("Training digits", 500, 10_000, step=500, key="train_size",
                        help="Drawn at random (with the seed) from the 10,000-digit subset")
        first[1].slider("Validation split", 0.0, 0.5, step=0.05, key="validation_split",
                        help="The last fraction of the training digits, held out to "
                             "measure validation error")
    elif dataset in experiment_module.PLANE_DATASETS:
        low, high = experiment_module.LIMITS["points"]
        first[0].number_input("Points", min_value=low, max_value=high, step=50, key="points",
                              help="How many points the problem has, train and test together")
        low, high = experiment_module.LIMITS["noise"]
        first[1].slider("Noise", float(low), float(high), step=0.05, key="noise",
                        help="The standard deviation of the jitter added to every coordinate")
        low, high = experiment_module.LIMITS["test_split"]
        first[2].slider("Test split", float(low), float(high), step=0.1, key="test_split",
                        help="The fraction of the points held out and never trained on: "
                             "the hollow points of the decision boundary")
    first[3].number_input("Seed", min_value=0, step=1, key="seed",
                          help="Same seed, same settings: the same run (and the same points)")

    second = st.columns(4)
    second[0].selectbox("Loss", LOSSES, key="loss")
    second[1].selectbox("Optimizer", list(optimizers.OPTIONS), key="optimizer",
                        on_change=_optimizer_changed)
    second[2].number_input("Learning rate", min_value=0.0, format="%g", step=0.001, key="lr")
    second[3].number_input("Batch size", min_value=1, max_value=10_000, step=1, key="batch_size")

    name = st.session_state.optimizer
    third = st.columns(4)
    third[0].number_input("Epochs", min_value=1, max_value=100_000, step=1, key="epochs")
    for column, (option, default) in zip(third[1:], optimizers.OPTIONS[name].items()):
        key = state.option_key(name, option)
        st.session_state.setdefault(key, float(default))
        column.number_input(option, min_value=0.0, format="%g", step=0.01, key=key)


def problem():
    """Why the experiment cannot be trained as it stands, or None."""
    try:
        experiment_module.check(state.experiment())
    except ExperimentError as error:
        if error.field == "spec":
            return f"The stack in the Build tab cannot train on this dataset: {error}"
        return str(error)
    return None


# ----------------------------------------------------------------------------- controls


# A click that lands while the live fragment reruns can reach its callback twice (Streamlit
# replays a click when the run that handled it is interrupted). Pause, Resume and Stop are
# harmless twice; Train, Continue and Step ignore a repeat within REPEAT_SECONDS.
REPEAT_SECONDS = 0.3


def _control(name: str, action) -> None:
    """Run a session control once; a refusal becomes a message above the charts."""
    now = time.monotonic()
    last = st.session_state.get("last_control")
    if last is not None and last[0] == name and now - last[1] < REPEAT_SECONDS:
        return
    st.session_state.last_control = (name, now)
    st.session_state.train_message = None
    try:
        action()
    except (ExperimentError, ValueError) as error:
        st.session_state.train_message = str(error)


def _train() -> None:
    _control("train", lambda: state.session().train(state.experiment()))


def _continue() -> None:
    _control("continue", lambda: state.session().continue_training(state.experiment()))


def _give_back_trainer() -> None:
    """This session does not train any more: its trainer slot (or place in line) is free."""
    state.trainer_pool().release(state.trainer_id())


def _pause() -> None:
    state.session().pause()
    _give_back_trainer()


def _resume() -> None:
    state.session().resume()


def _step() -> None:
    _control("step", lambda: state.session().step_epoch(state.experiment()))


def _stop() -> None:
    state.session().stop()
    _give_back_trainer()


def _speed() -> None:
    state.session().speed = SPEEDS[st.session_state.speed]


def _controls(blocked) -> None:
    session = state.session()
    status = session.status
    running = status in ("running", "paused")
    buttons = st.container(horizontal=True, vertical_alignment="bottom")
    buttons.button("Train", type="primary", on_click=_train, key="train_button",
                   disabled=blocked is not None, help="Train from fresh weights")
    buttons.button("Continue", on_click=_continue, key="continue_button",
                   disabled=blocked is not None or session.network is None or running,
                   help="Train the current model on, from the weights it has")
    paused = status == "paused"
    buttons.button("Resume" if paused else "Pause", on_click=_resume if paused else _pause,
                   key="pause_button", disabled=not running)
    buttons.button("Step", on_click=_step, key="step_button",
                   disabled=blocked is not None and not running, help="Train one epoch")
    buttons.button("Stop", on_click=_stop, key="stop_button",
                   disabled=status not in ("running", "paused", "evaluating"))
    buttons.selectbox("Speed", list(SPEEDS), key="speed", on_change=_speed, width=160,
                      help="How fast a run goes: 100 epochs/s spreads the articles' "
                           "1000-epoch XOR run over ten seconds to watch")


def render() -> None:
    st.subheader("Train")
    _settings()
    blocked = problem()
    if blocked is not None:
        st.error(blocked, icon=":material/warning:")
    _controls(blocked)
    if st.session_state.train_message:
        st.error(st.session_state.train_message, icon=":material/warning:")


# ----------------------------------------------------------------------------- live view


def live_view(visible) -> None:
    """The live part of the tab: a fragment that steps the session while it is active.

    `visible`: whether the Train tab is the one on screen (None: unknown). While a run is
    active behind another tab, only the status line is redrawn, not the charts: a browser
    busy redrawing hidden charts would be slow to answer a digit drawn meanwhile.
    """
    every = None
    if state.session().status in ACTIVE:
        # asking here (not only in the fragment) sets the pace from the first rerun on
        waiting = state.trainer_pool().request(state.trainer_id())
        every = WAITING_SECONDS if waiting else LIVE_SECONDS
    st.fragment(_live, run_every=every)(visible is not False, every)


def waiting_text(ahead: int, text: str) -> str:
    return f"Waiting for a free trainer ({ahead} ahead) · {text}"


def _live(visible: bool, every) -> None:
    session = state.session()
    active = session.status in ACTIVE
    pool, me = state.trainer_pool(), state.trainer_id()
    # every rerun of an active run asks: that keeps its slot (or its place in line) alive
    ahead = pool.request(me) if active else 0
    if not active:
        pool.release(me)
    # a full rerun (a click, a stroke) also runs this fragment: only step when the timer is
    # due, so a drawn digit is not kept waiting behind a slice of training
    last = st.session_state.get("last_step", 0.0)
    if active and ahead == 0 and time.perf_counter() - last >= LIVE_SECONDS * 0.8:
        session.step(LIVE_SECONDS * TRAINING_SHARE / max(1, pool.training()))
        st.session_state.last_step = time.perf_counter()
    report = session.report()
    if ahead:
        report = dict(report, text=waiting_text(ahead, report["text"]))
    if active and (every == WAITING_SECONDS) != bool(ahead):
        # a trainer has just freed for this session (or it lost its slot): a full rerun
        # sets the fragment's pace
        st.rerun(scope="app")
    results.render_status(report)
    if visible or session.status not in ACTIVE:
        results.render_charts(session, report)
    if active and session.status not in ACTIVE:
        # the run has ended: the next in line may train, and a full rerun stops the timer
        # and refreshes the other tabs
        pool.release(me)
        st.rerun(scope="app")
