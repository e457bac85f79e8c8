"""The answer a host shows for a drawn digit: the network's reading, or "not sure".

A network always names some digit, even for a dot (canvas_to_mnist enlarges it to a full
disc, which the pretrained MLP reads as an 8). So the reading is only "sure" when the
drawing has about as much ink as a real digit, is not flatter than any digit, and the top
probability is high enough. The thresholds come from the 10,000 MNIST test digits of
nncore's subset, each enlarged 10x to a 280x280 canvas and measured with
preprocess.measure_ink, then read by the two pretrained networks:

    strokes (ink pixels / stroke width^2): 0.2% of digits below 8; a dot is ~5, a dash a
        fifth of the pad long ~6.7; a full-width line ~13 (ink alone does not catch it)
    height_ratio (box height / width): no digit below 0.5; a horizontal line is ~0.1
    top probability >= 0.6: 98.2% of digits with the MLP, 99.0% with the CNN (counting the
        two ink rules as well); at 0.7 the MLP would keep only 96.9%. Re-measured with the
        retrained models of 2026-12-02 on the first 3,000 test digits: 98.8% (MLP), 99.1% (CNN)

Pure Python and NumPy, so the page (Pyodide) and the Streamlit app say the same words:
both hosts read a drawing with `read_drawing` and only lay out what it returns.
"""
from __future__ import annotations

import numpy as np

from .. import preprocess, tasks
from . import inside

MIN_STROKES = 8.0  # a drawing shorter than this many pen widths is too little ink
MIN_HEIGHT_RATIO = 0.3  # box height / width below this: flatter than any MNIST digit
MIN_CONFIDENCE = 0.6  # the top probability of a sure reading


def reading(probabilities, ink=None) -> dict:
    """probabilities (10,) and preprocess.measure_ink(drawing) -> what to tell the person.

    Returns {"digit": the most probable digit, "confidence": its probability, "sure": bool,
    "message": "It reads 7 (97% sure)" or "Not sure: ..."}. The digit is given even when
    unsure, so a host can still show the bars and the best guess.
    """
    chances = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    digit = int(chances.argmax())
    confidence = float(chances[digit])
    maybe = "maybe %d (%.0f%%)" % (digit, 100 * confidence)
    if ink is not None and ink["strokes"] < MIN_STROKES:
        message = "Not sure: too little ink to read"
    elif ink is not None and ink["height_ratio"] < MIN_HEIGHT_RATIO:
        message = "Not sure: flatter than any digit, " + maybe
    elif confidence < MIN_CONFIDENCE:
        message = "Not sure: " + maybe
    else:
        return {"digit": digit, "confidence": confidence, "sure": True,
                "message": "It reads %d (%.0f%% sure)" % (digit, 100 * confidence)}
    return {"digit": digit, "confidence": confidence, "sure": False, "message": message}


def read_drawing(network, image):
    """A drawing read by a digit network: everything the Draw tab shows, in both hosts.

    image: the pad's pixels, any canvas preprocess.canvas_to_mnist takes. Returns None when
    nothing is drawn, else {"digit_image": the (28, 28) float32 image the network sees,
    "probabilities": its 10 probabilities (floats), "reading": reading(...) for them and the
    drawing's ink, "views": inside.activations, every layer's output for this digit,
    "rows": the rows of its two charts, {"probabilities": [...], "strip": [...]}}.
    Raises tasks.DataMismatch when the network does not read 28x28 digits into 10 classes.
    """
    tasks.check_fits(network.input_shape, network.output_shape, "mnist")
    ink = preprocess.measure_ink(image)
    if ink["pixels"] == 0:
        return None
    digit = preprocess.canvas_to_mnist(image)
    chances = tasks.probabilities(network, digit[None])[0]  # (1, 28, 28) -> (10,)
    views = inside.activations(network, digit)
    probabilities = [float(p) for p in chances]
    rows = {"probabilities": [{"digit": digit_name, "probability": value}
                              for digit_name, value in enumerate(probabilities)],
            "strip": inside.strip_rows(views)}
    return {"digit_image": digit, "probabilities": probabilities,
            "reading": reading(chances, ink), "views": views, "rows": rows}
