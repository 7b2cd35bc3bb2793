"""The one tracker interface: `init(image, box)` then `track(image)` per frame (as OpenCV's trackers).

Images are BGR uint8 arrays (H, W, 3) of any size; boxes are (x, y, w, h) in pixels and may cross
the image border. `track` returns a `TrackResult` that carries everything the ROS node publishes.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from siam_tracker_ros.errors import FrameSizeChangedError, InvalidImageError, SiamTrackerError
from siam_tracker_ros.libs.boxes import validate_box


class TrackState(str, enum.Enum):
    """What the tracker believes about the target; the string values are written to result files."""

    TRACKING = "tracking"
    UNCERTAIN = "uncertain"
    LOST = "lost"


@dataclass(frozen=True)
class TrackResult:
    """One frame's output.

    box: (x, y, w, h) in pixels of the frame; held at the last good box while `state` is LOST.
    confidence: in [0, 1], low when the target is absent.
    response: the response (score) map, float32 (H, W), values in [0, 1].
    search_region: (x, y, w, h) in image pixels that `response` covers, cell (0, 0) top-left.
    """

    box: np.ndarray
    confidence: float
    state: TrackState
    response: np.ndarray
    search_region: np.ndarray


def check_image(image: np.ndarray) -> np.ndarray:
    """Reject what is not a non-empty BGR uint8 frame, with a message that says what was received."""
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(f"expected a numpy image, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidImageError(f"expected a BGR image of shape (H, W, 3), got shape {image.shape}")
    if image.dtype != np.uint8:
        raise InvalidImageError(f"expected a uint8 image, got {image.dtype}")
    return image


class Tracker(ABC):
    """Single-object tracker. Implementations keep all their state on the instance, so several
    trackers (even of the same kind) can live side by side in one process."""

    name: str = "tracker"

    def __init__(self) -> None:
        self._initialized = False

    @property
    def initialized(self) -> bool:
        return self._initialized

    def init(self, image: np.ndarray, box) -> None:
        """Start tracking the target in `box` (x, y, w, h) on `image`; raises InvalidBoxError."""
        check_image(image)
        b = validate_box(box, image.shape)
        self._init(image, b)
        self._initialized = True
        self._frame_size = image.shape[:2]

    def track(self, image: np.ndarray) -> TrackResult:
        """Locate the target in the next frame, which must have the size of the first. A camera that
        changes resolution (or a different source) gives frames the box's pixels do not apply to: an
        error, never a box in the wrong coordinates."""
        if not self._initialized:
            raise SiamTrackerError(f"{self.name}: call init(image, box) before track(image)")
        check_image(image)
        if image.shape[:2] != self._frame_size:
            (h0, w0), (h, w) = self._frame_size, image.shape[:2]
            raise FrameSizeChangedError(self.name, (w0, h0), (w, h))
        return self._track(image)

    @abstractmethod
    def _init(self, image: np.ndarray, box: np.ndarray) -> None: ...

    @abstractmethod
    def _track(self, image: np.ndarray) -> TrackResult: ...
