"""Optional test dependencies: skipped on a developer's machine, a failure under CI=true.

`./scripts/test` installs every one of them (the dev extras), so in CI a missing module is
a broken install, and a silent skip would hide it.
"""
from __future__ import annotations

import importlib
import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(name: str):
    """Import `name`; when it is missing, fail under CI and skip elsewhere."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if in_ci():
            pytest.fail(f"{name} is not installed ({error}); ./scripts/test installs it",
                        pytrace=False)
        pytest.skip(f"{name} is not installed", allow_module_level=True)
