"""How many trainings run at once on one Streamlit server: a pool of trainer slots.

Every browser session of one `streamlit run` shares one process (and its cores). A session
whose run is active asks the pool before each slice of training; it trains when it holds one
of the pool's slots, else it waits in line, first come first served:

    pool = TrainerPool(slots=2)
    pool.request("a"), pool.request("b"), pool.request("c")   # -> 0, 0, 1
    pool.release("a")                                         # a's run ended
    pool.request("c")                                         # -> 0: c trains now

`request` returns how many slots must still free before the session may train: 0 means it
holds a slot; n means n runs ahead of it (the n-th slot to free is its). A session gives its
slot back when its run finishes, pauses or stops (`release`). A browser tab closed mid-run
never says so: a session that has not asked for `stale_seconds` loses its slot or its place
in line, and joins the back of the line if it ever asks again.

Plain Python and a lock (Streamlit runs each session in its own thread); the clock is
injectable so the tests need no sleeping. The app keeps one pool per process in
st.cache_resource (app.state.trainer_pool); the size comes from NNCORE_TRAINERS.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

ENVIRONMENT_VARIABLE = "NNCORE_TRAINERS"
STALE_SECONDS = 10.0  # no request for this long: the tab is gone, its slot is freed


def default_slots() -> int:
    """One training per usable core: each slice of training keeps one core busy."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def configured_slots(environment=None) -> int:
    """NNCORE_TRAINERS (a whole number >= 1), or one per core when it is not set."""
    environment = os.environ if environment is None else environment
    text = environment.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return default_slots()
    try:
        slots = int(text)
    except ValueError:
        slots = 0
    if slots < 1:
        raise ValueError(f"{ENVIRONMENT_VARIABLE} must be a whole number of trainings "
                         f"(1 or more), not {text!r}")
    return slots


class TrainerPool:
    """`slots` trainers shared first come first served by the sessions that want to train."""

    def __init__(self, slots: int, stale_seconds: float = STALE_SECONDS, clock=time.monotonic):
        if slots < 1:
            raise ValueError(f"a trainer pool needs at least one slot, not {slots}")
        self.slots = slots
        self.stale_seconds = stale_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._training = {}              # session id -> when it last asked
        self._waiting = OrderedDict()    # session id -> when it last asked, in arrival order

    def __repr__(self) -> str:
        with self._lock:
            return (f"TrainerPool(slots={self.slots}, training={list(self._training)}, "
                    f"waiting={list(self._waiting)})")

    def request(self, session: str) -> int:
        """Ask to train now: 0 when `session` holds a slot, else how many runs are ahead."""
        with self._lock:
            now = self._clock()
            self._forget_stale(now)
            if session in self._training:
                self._training[session] = now
            else:
                self._waiting[session] = now  # joins the back, or keeps its place
                self._fill()
            if session in self._training:
                return 0
            return list(self._waiting).index(session) + 1

    def release(self, session: str) -> None:
        """`session` does not train any more (its run finished, paused or stopped)."""
        with self._lock:
            self._training.pop(session, None)
            self._waiting.pop(session, None)
            self._fill()

    def ahead(self, session: str):
        """Where `session` stands without asking: 0 training, n waiting, None neither."""
        with self._lock:
            if session in self._training:
                return 0
            if session in self._waiting:
                return list(self._waiting).index(session) + 1
            return None

    def training(self) -> int:
        """How many sessions hold a slot now."""
        with self._lock:
            return len(self._training)

    def snapshot(self) -> dict:
        """{'slots', 'training': [ids], 'waiting': [ids in order]}."""
        with self._lock:
            return {"slots": self.slots, "training": list(self._training),
                    "waiting": list(self._waiting)}

    # the lock is held by the callers of these two
    def _forget_stale(self, now: float) -> None:
        for table in (self._training, self._waiting):
            for session, seen in list(table.items()):
                if now - seen > self.stale_seconds:
                    del table[session]
        self._fill()

    def _fill(self) -> None:
        """Free slots go to the longest waiting sessions."""
        while self._waiting and len(self._training) < self.slots:
            session, seen = self._waiting.popitem(last=False)
            self._training[session] = seen
