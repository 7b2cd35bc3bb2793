"""Shared test fixtures."""

import os
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data/weights folder: $SIAM_TRACKER_SHARED, else <repo>/../shared.

    Skipped where it is absent on a developer machine; a failure under CI=true, where it must be present.
    """
    default = Path(__file__).resolve().parents[1].parent / "shared"
    path = Path(os.environ.get("SIAM_TRACKER_SHARED") or default)
    if not path.is_dir():
        reason = f"shared folder {path} not found; set SIAM_TRACKER_SHARED to its location"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def weights(shared_dir):
    """$SIAM_TRACKER_WEIGHTS pointed at ../shared/weights for one test module, torch on 2 threads."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIAM_TRACKER_WEIGHTS", str(shared_dir / "weights"))
        torch.set_num_threads(2)
        yield


@pytest.fixture(scope="session")
def oov(shared_dir):
    """vot_ball1 as the virtual camera films it with one short absence (12-20 frames, seed 3): the
    out-of-view clip of the long-term and precision tests."""
    from siam_tracker_ros.evaluation.datasets import load_sequence
    from siam_tracker_ros.evaluation.out_of_view import build_out_of_view

    seq = load_sequence(shared_dir / "data" / "sequences" / "vot_ball1")
    return build_out_of_view(seq, seed=3, min_absent=12, max_absent=20)
