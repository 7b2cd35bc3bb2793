"""OpenCV's `cv2.TrackerNano` behind our interface: the reference for NanoTrack in eval and bench.

It loads the ONNX graphs shipped with the NanoTrack weights. OpenCV reports only a box and a score,
so the response map is a 1x1 map of that score over the box.
"""

from __future__ import annotations

import contextlib
from typing import Any

import cv2
import numpy as np

from siam_tracker_ros import weights as weights_lib
from siam_tracker_ros.errors import ConfigError, WeightsError
from siam_tracker_ros.trackers.base import Tracker, TrackResult
from siam_tracker_ros.trackers.state import StateMachine, StateThresholds


class OpenCVNanoTracker(Tracker):
    def __init__(self, name: str, backbone: str, neckhead: str, thresholds: StateThresholds) -> None:
        super().__init__()
        self.name = name
        params = cv2.TrackerNano_Params()
        params.backbone = backbone
        params.neckhead = neckhead
        try:
            with _opencv_errors_only():  # OpenCV 5 warns on every load that its graph engine ignores targets
                self._tracker = cv2.TrackerNano_create(params)
        except cv2.error as exc:
            raise WeightsError(f"OpenCV could not load {backbone} / {neckhead}: {exc}") from exc
        self._state = StateMachine(thresholds)

    def _init(self, image: np.ndarray, box: np.ndarray) -> None:
        self._tracker.init(image, tuple(int(round(v)) for v in box))
        self._state.reset()

    def _track(self, image: np.ndarray) -> TrackResult:
        _, rect = self._tracker.update(image)
        score = float(np.clip(self._tracker.getTrackingScore(), 0.0, 1.0))
        box = np.array(rect, dtype=np.float64)
        return TrackResult(box=box, confidence=score, state=self._state.update(score),
                           response=np.full((1, 1), score, np.float32), search_region=box.copy())


@contextlib.contextmanager
def _opencv_errors_only():
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(level)


def build(config: dict[str, Any], device: str | None = None, fp16: bool = False,
          weights: str | None = None) -> OpenCVNanoTracker:
    if device not in (None, "auto", "cpu") or fp16:
        raise WeightsError(f"{config['name']} runs on the CPU only, in full precision (OpenCV DNN); use "
                           "device 'cpu' without fp16")
    if weights:
        raise WeightsError(f"{config['name']} loads its ONNX graphs by name; --weights is not supported")
    if not hasattr(cv2, "TrackerNano_create"):  # Ubuntu's python3-opencv 4.5 / 4.6 (Humble, Jazzy)
        raise ConfigError(f"{config['name']} needs OpenCV >= 4.7 (this is {cv2.__version__}); use nano, the "
                          "same tracker in PyTorch")
    backbone = weights_lib.resolve(config["backbone"])
    neckhead = weights_lib.resolve(config["neckhead"])
    thresholds = StateThresholds(**config.get("tracking", {}).get("state", {}))
    return OpenCVNanoTracker(config["name"], str(backbone), str(neckhead), thresholds)
