"""siam_tracker_ros: Siamese attention trackers for drone follow controllers.

The package root and everything below it, except `siam_tracker_ros.ros`, import without ROS: the
trackers, the processing pipeline, message conversion and evaluation are plain Python.
"""

from siam_tracker_ros.errors import SiamTrackerError
from siam_tracker_ros.trackers.base import Tracker, TrackResult, TrackState
from siam_tracker_ros.trackers.registry import available_trackers, build_tracker

__all__ = [
    "SiamTrackerError",
    "TrackResult",
    "TrackState",
    "Tracker",
    "available_trackers",
    "build_tracker",
]
__version__ = "0.1.0"
