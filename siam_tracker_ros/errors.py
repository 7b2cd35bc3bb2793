"""Errors the user can act on. Each message says what was wrong and what to do about it.

The command line prints these without a traceback; the ROS node logs them and keeps running.
"""


class SiamTrackerError(Exception):
    """Base class of every error caused by user input (files, boxes, names, images)."""


class InvalidBoxError(SiamTrackerError, ValueError):
    """A box that cannot be tracked: NaN, under 1x1 px, over twice the image's size, or outside it."""


class InvalidImageError(SiamTrackerError, ValueError):
    """An image that is empty, of an unsupported encoding, or otherwise not a BGR uint8 frame."""


class FrameSizeChangedError(InvalidImageError):
    """A frame of another size than the one tracking started on: the box's pixels do not apply to it."""

    def __init__(self, tracker: str, started: tuple[int, int], now: tuple[int, int]) -> None:
        self.started, self.now = started, now  # (width, height) px
        super().__init__(f"this frame is {now[0]}x{now[1]} px but {tracker} started on "
                         f"{started[0]}x{started[1]} px frames, so its box does not apply; start it again on "
                         "the new frames")


class UnknownTrackerError(SiamTrackerError, KeyError):
    """A tracker name that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class WeightsError(SiamTrackerError):
    """Missing, corrupt or mismatched weights file."""


class SourceError(SiamTrackerError):
    """A frame source (video, folder, sequence, rosbag2) that cannot be opened or read."""


class ConfigError(SiamTrackerError, ValueError):
    """A tracker config or parameter value that is out of range or malformed."""


class TrackerFailure(SiamTrackerError):
    """Tracking had to stop (the tracker failed: CUDA, numerics; or the frames changed size); a new box
    restarts it."""
