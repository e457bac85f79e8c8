"""The trainer pool (app.trainers): N slots, a first-come-first-served line, stale release.

Pure Python, no Streamlit: the clock is a number the test moves by hand.
"""
from __future__ import annotations

import threading

import pytest

from app.trainers import TrainerPool, configured_slots, default_slots


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def pool(slots, stale_seconds=10.0):
    clock = Clock()
    return TrainerPool(slots, stale_seconds=stale_seconds, clock=clock), clock


def test_one_trainer_the_second_session_waits_one_ahead():
    trainers, _ = pool(1)
    assert trainers.request("a") == 0
    assert trainers.request("b") == 1
    assert trainers.request("b") == 1  # asking again keeps its place
    assert trainers.request("a") == 0  # the holder keeps its slot
    assert trainers.snapshot() == {"slots": 1, "training": ["a"], "waiting": ["b"]}


def test_first_come_first_served_and_n_ahead_counts_down():
    trainers, _ = pool(1)
    assert [trainers.request(name) for name in "abcd"] == [0, 1, 2, 3]
    trainers.release("a")
    assert [trainers.ahead(name) for name in "abcd"] == [None, 0, 1, 2]
    assert trainers.request("d") == 2  # asking does not jump the line
    trainers.release("b")
    assert trainers.request("c") == 0
    assert trainers.request("d") == 1


def test_two_trainers_two_train_and_the_third_waits_for_either():
    trainers, _ = pool(2)
    assert [trainers.request(name) for name in "abcd"] == [0, 0, 1, 2]
    trainers.release("b")  # either slot freeing lets the head of the line in
    assert trainers.request("c") == 0
    assert trainers.request("d") == 1
    trainers.release("a")
    assert trainers.request("d") == 0
    assert sorted(trainers.snapshot()["training"]) == ["c", "d"]


def test_training_counts_the_sessions_that_hold_a_slot_not_those_in_line():
    trainers, _ = pool(2)
    assert trainers.training() == 0
    trainers.request("a")
    assert trainers.training() == 1
    trainers.request("b"), trainers.request("c")
    assert trainers.training() == 2
    trainers.release("a"), trainers.release("b"), trainers.release("c")
    assert trainers.training() == 0


@pytest.mark.parametrize("why", ["finished", "paused", "stopped"])
def test_a_run_that_ends_pauses_or_stops_gives_its_slot_to_the_next(why):
    # the app calls release() for all three; they differ only in why the run is not active
    trainers, _ = pool(1)
    trainers.request("a")
    trainers.request("b")
    trainers.release("a")
    assert trainers.request("b") == 0
    # a paused run that resumes joins the back of the line
    assert trainers.request("a") == 1


def test_a_waiting_session_that_gives_up_leaves_the_line():
    trainers, _ = pool(1)
    for name in "abc":
        trainers.request(name)
    trainers.release("b")  # paused while waiting
    assert trainers.request("c") == 1
    trainers.release("nobody")  # harmless


def test_a_closed_tab_holding_a_slot_is_released_after_the_stale_time():
    trainers, clock = pool(1, stale_seconds=10)
    trainers.request("closed")
    clock.now = 5
    assert trainers.request("b") == 1
    clock.now = 10  # exactly 10 s since "closed" asked: still its slot
    assert trainers.request("b") == 1
    clock.now = 10.5
    assert trainers.request("b") == 0
    assert trainers.ahead("closed") is None
    assert trainers.request("closed") == 1  # came back: the back of the line


def test_a_closed_tab_waiting_in_line_loses_its_place():
    trainers, clock = pool(1, stale_seconds=10)
    trainers.request("a")
    trainers.request("closed")
    trainers.request("c")
    for second in range(1, 12):  # a and c keep asking, "closed" does not
        clock.now = second
        trainers.request("a")
        trainers.request("c")
    assert trainers.snapshot()["waiting"] == ["c"]
    assert trainers.request("c") == 1


def test_a_stale_slot_goes_to_the_head_of_the_line():
    trainers, clock = pool(2, stale_seconds=10)
    trainers.request("a")
    trainers.request("closed")
    trainers.request("c")
    trainers.request("d")
    clock.now = 9  # everyone but "closed" keeps asking
    for name in "acd":
        trainers.request(name)
    clock.now = 11
    assert trainers.request("d") == 1  # c came first: it has the freed slot
    assert trainers.snapshot()["training"] == ["a", "c"]


def test_many_threads_never_hold_more_slots_than_there_are():
    trainers = TrainerPool(2)
    most = []

    def student(name):
        for _ in range(200):
            if trainers.request(name) == 0:
                most.append(len(trainers.snapshot()["training"]))
                trainers.release(name)

    threads = [threading.Thread(target=student, args=(str(n),)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most and max(most) <= 2


def test_the_number_of_trainers_comes_from_nncore_trainers():
    assert configured_slots({}) == default_slots() >= 1
    assert configured_slots({"NNCORE_TRAINERS": "3"}) == 3
    assert configured_slots({"NNCORE_TRAINERS": " "}) == default_slots()
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ValueError, match="NNCORE_TRAINERS"):
            configured_slots({"NNCORE_TRAINERS": bad})
    with pytest.raises(ValueError):
        TrainerPool(0)
