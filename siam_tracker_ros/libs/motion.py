"""Camera motion between consecutive frames, and where it puts a target the tracker cannot see.

A drone camera pans and yaws; when the target leaves the view this way, the image shift tells where it
went. `CameraMotion` measures the frame-to-frame translation of the whole image by phase correlation
on a small grey copy (about 0.5 ms at 160 px wide) — the global motion compensation of moving-camera
trackers, restricted to translation. `ExpectedTarget` carries the last confidently tracked box along
with that motion (a target at rest in the scene moves with the image), so a long-term tracker knows
when the target has gone out of the frame and near which place it should come back.
"""

from __future__ import annotations

import cv2
import numpy as np


class CameraMotion:
    """Translation (dx, dy) in pixels of frame t relative to frame t-1; zero when unreliable.

    `width`: the grey copy's width (height keeps the aspect). `min_response`: phase-correlation peak
    below which the shift is taken as unknown (low texture, large moving objects, cuts) and reported
    as zero, so a bad estimate never moves the expected target.
    """

    def __init__(self, width: int = 160, min_response: float = 0.1) -> None:
        self.width = int(width)
        self.min_response = float(min_response)
        self._previous: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self._scale = 1.0
        self.response = 0.0

    def _small(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        self._scale = width / float(self.width)
        size = (self.width, max(8, int(round(height / self._scale))))
        grey = cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        return grey.astype(np.float32)

    def reset(self, image: np.ndarray) -> None:
        """Start over at `image` (a new target, or a camera that changed resolution)."""
        self._previous = None
        self.update(image)

    def update(self, image: np.ndarray) -> np.ndarray:
        """Shift of `image` relative to the previous one (image content moved by +dx, +dy)."""
        current = self._small(image)
        if self._previous is None or self._previous.shape != current.shape:
            self._previous = current
            self._window = cv2.createHanningWindow(current.shape[::-1], cv2.CV_32F)
            self.response = 0.0
            return np.zeros(2)
        previous, self._previous = self._previous, current
        if float(current.std()) < 1.0 or float(previous.std()) < 1.0:  # no texture: no evidence
            self.response = 0.0
            return np.zeros(2)
        (dx, dy), self.response = cv2.phaseCorrelate(previous, current, self._window)
        if not np.isfinite([dx, dy, self.response]).all() or self.response < self.min_response:
            return np.zeros(2)
        return np.array([dx, dy]) * self._scale


class ExpectedTarget:
    """Where the target should be: the last confident box, moved with the camera since then.

    The tracker calls `follow(motion)` every frame (camera shift plus the target's own velocity) and
    `observe(box)` on confident frames; `frames_unseen` counts the frames since the last observation.
    """

    def __init__(self) -> None:
        self.box = np.zeros(4)  # cx, cy, w, h
        self.frames_unseen = 0

    def observe(self, box_cxcywh: np.ndarray) -> None:
        self.box = np.asarray(box_cxcywh, dtype=np.float64).copy()
        self.frames_unseen = 0

    def follow(self, shift: np.ndarray) -> None:
        self.box[:2] += shift
        self.frames_unseen += 1
