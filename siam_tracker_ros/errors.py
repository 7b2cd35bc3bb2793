"""Errors the user can act on. Each message says what was wrong and what to do about it.

The command line prints these without a traceback; the ROS node logs them and keeps running.
"""


class SiamTrackerError(Exception):
    """Base class of every error caused by user input (files, boxes, names, images)."""


class InvalidBoxError(SiamTrackerError, ValueError):
    """A box that cannot be tracked: NaN, under 1x1 px, over twice the image's size, or outside it."""


class InvalidImageError(SiamTrackerError, ValueError):
    """An image that is empty, of an unsupported encoding, or otherwise not a BGR uint8 frame."""


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
    """The tracker itself failed (CUDA, numerics): tracking stopped; a new box restarts it."""
