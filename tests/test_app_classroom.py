"""A classroom on one server: two AppTest sessions share one process's trainer pool.

AppTest runs the script in this process, so st.cache_resource (and with it the pool of
app.state.trainer_pool) is shared by every AppTest instance, as it is by every browser
session of one `streamlit run`. With NNCORE_TRAINERS=1 the second session waits in line.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from dependencies import require

require("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from app import state  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


@pytest.fixture
def one_trainer(monkeypatch):
    monkeypatch.setenv("NNCORE_TRAINERS", "1")
    state.trainer_pool.clear()  # the next call builds a pool of the new size
    yield
    state.trainer_pool.clear()


def start() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def status(app: AppTest) -> str:
    return next(str(m.value) for m in app.markdown if "train-status" in str(m.value))


def tick(app: AppTest) -> AppTest:
    """What the live fragment's timer does in a browser: one rerun with the step due."""
    app.session_state["last_step"] = 0.0
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def train_long(app: AppTest) -> AppTest:
    app.number_input(key="epochs").set_value(100_000).run()
    app.selectbox(key="speed").select("full speed").run()
    app.button(key="train_button").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_with_one_trainer_a_second_session_waits_and_starts_when_the_first_stops(one_trainer):
    first, second = start(), start()
    assert state.trainer_pool().slots == 1
    assert first.session_state.trainer_id != second.session_state.trainer_id

    tick(train_long(first))
    assert first.session_state.session.curves.epoch_count > 0
    assert "Waiting" not in status(first)

    train_long(second)
    for _ in range(3):
        tick(second)
        tick(first)  # the first keeps training meanwhile
    assert "Waiting for a free trainer (1 ahead)" in status(second)
    assert second.session_state.session.status == "running"
    assert second.session_state.session.curves.epoch_count == 0

    # the other tabs never wait: a Build edit goes through while the run waits
    layers = len(second.session_state.layers)
    second.button(key="add_layer").click().run()
    assert not second.exception
    assert len(second.session_state.layers) == layers + 1
    assert "Waiting for a free trainer (1 ahead)" in status(second)

    first.button(key="stop_button").click().run()
    assert first.session_state.session.status == "finished"
    tick(second)
    tick(second)
    assert "Waiting" not in status(second)
    assert second.session_state.session.curves.epoch_count > 0
    assert state.trainer_pool().snapshot()["training"] == [second.session_state.trainer_id]

    second.button(key="pause_button").click().run()  # a paused run gives its slot back
    assert state.trainer_pool().snapshot() == {"slots": 1, "training": [], "waiting": []}

