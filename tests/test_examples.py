"""The articles' XOR experiment runs as a script and learns XOR, in both spellings.

(examples/mnist_mlp.py and examples/mnist_cnn.py take about a minute each, too slow for the
test suite; run them by hand.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_xor_example_reaches_the_articles_error_in_both_spellings():
    result = subprocess.run(
        [sys.executable, os.path.join(REPOSITORY, "examples", "xor.py")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    errors = re.findall(r"error after 1000 epochs: ([0-9.]+)", result.stdout)
    assert len(errors) == 2
    assert all(float(error) < 0.001 for error in errors), result.stdout
    # The printed predictions are XOR: near 0, 1, 1, 0.
    line = re.search(r"predictions: \[(.*)\]", result.stdout).group(1)
    predictions = [float(value) for value in line.split(",")]
    assert [round(value) for value in predictions] == [0, 1, 1, 0]
    assert "epoch 1000/1000" in result.stdout  # the articles' own per-epoch log line
