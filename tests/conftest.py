"""Shared test fixtures."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared weights/data folder: $SIAM_TRACKER_SHARED, else <repo>/../shared.

    Skipped when absent on a developer machine; a hard failure under CI=true, where it must be provided.
    """
    path = Path(os.environ.get("SIAM_TRACKER_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
    if not path.is_dir():
        reason = f"shared folder {path} not found (set SIAM_TRACKER_SHARED)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path
