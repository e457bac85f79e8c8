"""What every benchmark shares: the machine header, thread settings, data and table printing.

Run the scripts from the repository root (`python -m benchmarks.throughput`) so that
`import nncore` finds the working tree.
"""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time

import numpy as np

# ----------------------------------------------------------------------------- machine


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info():
    """NumPy's BLAS as threadpoolctl sees it: {'name', 'version', 'architecture', 'threads'}."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"name": "unknown (pip install threadpoolctl)", "version": "", "architecture": "",
                "threads": os.cpu_count() or 1}
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return {
                "name": pool.get("internal_api", "?"),
                "version": pool.get("version", "?"),
                "architecture": pool.get("architecture", "?"),
                "threads": pool.get("num_threads", 1),
            }
    return {"name": "none found", "version": "", "architecture": "", "threads": 1}


def configure_threads(threads=None):
    """Pin NumPy's BLAS to `threads` (default: leave its own setting) and give PyTorch the
    same count; returns the torch module, or None when it is not installed."""
    if threads is not None:
        try:
            from threadpoolctl import threadpool_limits

            # kept alive for the whole process: the limit lasts while the object exists
            configure_threads.limit = threadpool_limits(limits=threads, user_api="blas")
        except ImportError:
            raise SystemExit("--threads needs threadpoolctl: pip install threadpoolctl") from None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(blas_info()["threads"])
    return torch


def load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "n/a"


def header(title, notes=(), load_at_start=None):
    """The block printed above every table: what ran, where, with which versions."""
    blas = blas_info()
    try:
        import torch

        torch_version = "%s (threads %d)" % (torch.__version__, torch.get_num_threads())
    except ImportError:
        torch_version = "not installed"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    env = " ".join(
        "%s=%s" % (key, os.environ[key])
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if key in os.environ
    )
    lines = [
        "=" * 78,
        title,
        "=" * 78,
        "date      %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine   %s, %s logical cores (%s usable)" % (cpu_model(), os.cpu_count(), affinity),
        "python    %s  numpy %s  torch %s" % (platform.python_version(), np.__version__, torch_version),
        "blas      %s %s (%s), %s threads" % (blas["name"], blas["version"], blas["architecture"],
                                              blas["threads"]),
        "env       %s" % (env or "(no BLAS/OpenMP variables set)"),
        "load avg  %s at start (1/5/15 min; other engineers share this machine)"
        % (load_at_start or load_average()),
    ]
    lines += ["note      %s" % note for note in notes]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- data


def load_mnist():
    """(x_train, y_train, x_test, y_test, source): the bundled 10k subset, or random data
    of the same shapes when the data file is missing (development only)."""
    try:
        import nncore

        x_train, y_train, x_test, y_test = nncore.datasets.load_mnist()
        return x_train, y_train, x_test, y_test, "nncore.datasets.load_mnist() (10k subset)"
    except (ImportError, OSError, AttributeError) as error:
        rng = np.random.default_rng(0)
        x_train = rng.random((10000, 28, 28), dtype=np.float32)
        y_train = rng.integers(0, 10, 10000)
        x_test = rng.random((10000, 28, 28), dtype=np.float32)
        y_test = rng.integers(0, 10, 10000)
        return x_train, y_train, x_test, y_test, "RANDOM data (%s)" % error


# ----------------------------------------------------------------------------- timing


def timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def median(values):
    return statistics.median(values)


# ----------------------------------------------------------------------------- tables


def table(headers, rows):
    """Plain-text table, columns padded to the widest cell."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        lines.append("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def emit(text, path=None):
    """Print, and append to a results file when one is given."""
    print(text)
    sys.stdout.flush()
    if path:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as handle:
            handle.write(text + "\n")
