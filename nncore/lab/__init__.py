"""What both hosts show, written once: the experiment, the stepped training session, the
verdict, every chart's rows and the layer vocabulary. Pure NumPy, so it runs in CPython and
in Pyodide alike. The core library (nncore.*) never imports this package.

    experiment  spec + training settings + presets <-> a URL-safe string
    session     train fresh / continue; step(seconds); pause, step one epoch, stop; the
                stepped evaluation on the test set
    curves      the loss and accuracy curves, thinned once as they are recorded
    verdict     learned / did not learn / diverged, with a sentence of advice
    views       rows for every chart and picture
    vocabulary  layer types, options, defaults and help, derived from the layer classes
    code        the experiment as a script: nncore (the same run) or PyTorch (approximate)
    reading     a drawn digit's answer, or "not sure" (too little ink, low probability)
"""
from __future__ import annotations

from . import code, curves, experiment, reading, session, verdict, views, vocabulary
from .experiment import ExperimentError
from .session import DEFAULT_SPEED, SPEEDS, Session

__all__ = ["DEFAULT_SPEED", "ExperimentError", "SPEEDS", "Session", "code", "curves", "experiment",
           "reading", "session", "verdict", "views", "vocabulary"]
