"""Camera motion between consecutive frames, and where it puts a target the tracker cannot see.

A drone camera pans and yaws; when the target leaves the view this way, the image shift tells where it
went. `CameraMotion` measures the frame-to-frame translation of the whole image on a small grey copy
(phase correlation, checked by how well the frames agree under each candidate shift; about 1 ms at
160 px wide) — the global motion compensation of moving-camera trackers, restricted to translation.
`ExpectedTarget` carries the last confidently tracked box along with that motion (a target at rest in
the scene moves with the image), so a long-term tracker knows when the target has gone out of the
frame and near which place it should come back.
"""

from __future__ import annotations

import cv2
import numpy as np


def shift_image(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """`image` with its content moved by `shift` (dx, dy) px, borders replicated."""
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    return cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def phase_correlate(previous: np.ndarray, current: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Shift (dx, dy) of `current` relative to `previous` by phase correlation. On copies: OpenCV 5's
    `phaseCorrelate` multiplies its inputs by the window in place."""
    (dx, dy), _ = cv2.phaseCorrelate(previous.copy(), current.copy(), window)
    return np.array([dx, dy])


def overlap_similarity(previous: np.ndarray, current: np.ndarray, shift: np.ndarray,
                       min_overlap: float = 0.25) -> float:
    """Zero-mean normalised cross-correlation of the two images where they overlap once `previous`'s
    content is moved by `shift` (rounded); -1 when they overlap on less than `min_overlap` of the area.
    Normalised, so a smooth patch (sky) does not beat a textured one just by being flat."""
    h, w = previous.shape[:2]
    dx, dy = int(round(shift[0])), int(round(shift[1]))
    if (h - abs(dy)) * (w - abs(dx)) < min_overlap * h * w or abs(dx) >= w or abs(dy) >= h:
        return -1.0
    a = previous[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    b = current[max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)]
    a = a - a.mean()
    b = b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / norm if norm > 0 else -1.0


class CameraMotion:
    """Translation (dx, dy) in pixels of frame t relative to frame t-1; zero when unreliable.

    Phase correlation alone fails on the fast pans that take a target out of view (a shift of a third
    of the frame leaves little overlap under its window) and on low texture. So several hypotheses
    are scored and the one under which the two frames agree best (`overlap_similarity`) wins: no
    motion, plain phase correlation, and the last motion (a pan is smooth) refined by phase
    correlation of the frames aligned by it (a small residual, which phase correlation measures well).
    `width`: the grey copy's width (height keeps the aspect). `min_similarity`: agreement below which
    the shift is taken as unknown and reported as zero, so a bad estimate never moves the expected
    target.
    """

    def __init__(self, width: int = 160, min_similarity: float = 0.2) -> None:
        self.width = int(width)
        self.min_similarity = float(min_similarity)
        self._previous: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self._scale = 1.0
        self._last = np.zeros(2)  # last shift, grey-copy px
        self.similarity = 0.0

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

    def _hypotheses(self, previous: np.ndarray, current: np.ndarray) -> list[np.ndarray]:
        shifts = [np.zeros(2), phase_correlate(previous, current, self._window)]
        if np.hypot(*self._last) > 0.5:
            aligned = shift_image(previous, self._last)
            shifts += [self._last.copy(), self._last + phase_correlate(aligned, current, self._window)]
        return [s for s in shifts if np.isfinite(s).all()]

    def update(self, image: np.ndarray) -> np.ndarray:
        """Shift of `image` relative to the previous one (image content moved by +dx, +dy)."""
        current = self._small(image)
        self._last, self.similarity = np.zeros(2), 0.0
        if self._previous is None or self._previous.shape != current.shape:
            self._previous = current
            self._window = cv2.createHanningWindow(current.shape[::-1], cv2.CV_32F)
            return np.zeros(2)
        previous, self._previous = self._previous, current
        if float(current.std()) < 1.0 or float(previous.std()) < 1.0:  # no texture: no evidence
            return np.zeros(2)
        scored = [(overlap_similarity(previous, current, s), s) for s in self._hypotheses(previous, current)]
        similarity, best = max(scored, key=lambda pair: pair[0])
        if similarity < self.min_similarity:
            return np.zeros(2)
        self._last, self.similarity = best, similarity
        return best * self._scale


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
