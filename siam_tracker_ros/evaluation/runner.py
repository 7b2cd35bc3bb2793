"""Run a tracker over a sequence of frames, timing only the tracker (not frame decoding)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from siam_tracker_ros.trackers.base import Tracker, TrackState


@dataclass
class RunResult:
    """Per-frame outputs; frame 0 holds the initial box with confidence 1 and state tracking."""

    boxes: list[np.ndarray] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # tracker time per frame (init included)

    @property
    def fps(self) -> float:
        total = sum(self.seconds)
        return len(self.seconds) / total if total > 0 else float("nan")

    def boxes_array(self) -> np.ndarray:
        return np.array(self.boxes, dtype=np.float64).reshape(-1, 4)


def run_tracker(tracker: Tracker, frames: Iterable[np.ndarray], init_box: np.ndarray,
                progress=None) -> RunResult:
    """Initialise on the first frame with `init_box`, then track every following frame.

    `progress` is an optional callable called once per frame (e.g. a tqdm bar's `update`).
    """
    result = RunResult()
    for index, image in enumerate(frames):
        start = time.perf_counter()
        if index == 0:
            tracker.init(image, init_box)
            box, confidence, state = np.asarray(init_box, dtype=np.float64), 1.0, TrackState.TRACKING
        else:
            out = tracker.track(image)
            box, confidence, state = out.box, out.confidence, out.state
        result.seconds.append(time.perf_counter() - start)
        result.boxes.append(np.asarray(box, dtype=np.float64))
        result.confidences.append(float(confidence))
        result.states.append(TrackState(state).value)
        if progress is not None:
            progress()
    return result
