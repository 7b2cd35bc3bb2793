"""The field values of the node's messages, without ROS: the ROS node (`siam_tracker_ros.ros.messages`)
and the rosbag2 writer (`siam_tracker_ros.io.bag_output`) both fill their message classes from these
plain dicts, so the two cannot drift apart and the conversion is tested in CI where rclpy is absent.

Message definitions: msg/InitBox.msg, msg/TrackedBox.msg, msg/Heatmap.msg.
"""

from __future__ import annotations

import math

import numpy as np

from siam_tracker_ros.errors import InvalidBoxError
from siam_tracker_ros.io.images import float_map_to_image_fields
from siam_tracker_ros.pipeline import TargetState, TrackerOutput

# Topic names (relative names resolve in the node's namespace; these are absolute as documented).
BOX_TOPIC = "/tracker/box"
CONFIDENCE_TOPIC = "/tracker/confidence"
HEATMAP_TOPIC = "/tracker/heatmap"
DEBUG_IMAGE_TOPIC = "/tracker/debug_image"
INIT_TOPIC = "/tracker/init"
RESET_SERVICE = "/tracker/reset"
CLICK_SUFFIX = "_mouse_left"  # rqt_image_view publishes clicks on <image topic>_mouse_left

PACKAGE = "siam_tracker_ros"
TRACKED_BOX_TYPE = f"{PACKAGE}/msg/TrackedBox"
INIT_BOX_TYPE = f"{PACKAGE}/msg/InitBox"
HEATMAP_TYPE = f"{PACKAGE}/msg/Heatmap"

# diagnostic_msgs/DiagnosticStatus levels
DIAG_OK, DIAG_WARN, DIAG_ERROR = 0, 1, 2


def stamp_to_ns(sec: int, nanosec: int) -> int:
    """builtin_interfaces/Time -> integer nanoseconds."""
    return int(sec) * 1_000_000_000 + int(nanosec)


def ns_to_stamp(stamp_ns: int) -> tuple[int, int]:
    """Integer nanoseconds -> (sec, nanosec) of builtin_interfaces/Time (nanosec in [0, 1e9))."""
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    return sec, nanosec


def tracked_box_fields(output: TrackerOutput) -> dict:
    """Fields of TrackedBox (without header) for one pipeline output."""
    x, y, w, h = output.box
    return {
        "x": float(x),
        "y": float(y),
        "width": float(w),
        "height": float(h),
        "confidence": float(output.confidence),
        "state": int(output.state),
        "tracker": str(output.tracker_name),
    }


def heatmap_fields(output: TrackerOutput) -> dict | None:
    """Fields of Heatmap (without headers; `image` holds the 32FC1 Image fields), or None when the output
    has no response map (IDLE, or the frame the target was initialised on)."""
    if output.response is None or output.search_region is None:
        return None
    x, y, w, h = output.search_region
    return {
        "image": float_map_to_image_fields(output.response),
        "x": float(x),
        "y": float(y),
        "width": float(w),
        "height": float(h),
    }


def init_request(x: float, y: float, width: float, height: float, sec: int = 0, nanosec: int = 0
                 ) -> tuple[np.ndarray, int | None]:
    """(box, stamp_ns) for `TrackingPipeline.request_init` from InitBox fields; a zero stamp means the
    newest frame (None)."""
    stamp_ns = stamp_to_ns(sec, nanosec)
    return np.array([x, y, width, height], dtype=np.float64), (stamp_ns or None)


def box_from_corners(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """(x, y, w, h) of the rectangle with opposite corners (x0, y0), (x1, y1), in either order."""
    return (min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))


class ClickBox:
    """A box from two clicks on opposite corners (rqt_image_view's mouse clicks). A first click older
    than `timeout_s` is forgotten, so a stray click does not pair with one made minutes later."""

    def __init__(self, min_size: float = 4.0, timeout_s: float = 10.0) -> None:
        self.min_size = float(min_size)
        self.timeout_s = float(timeout_s)
        self._first: tuple[float, float, float] | None = None

    @property
    def waiting(self) -> bool:
        """A first corner has been clicked."""
        return self._first is not None

    def click(self, x: float, y: float, now_s: float) -> tuple[float, float, float, float] | None:
        """Record a click; returns the box on the second one. Raises InvalidBoxError for non-finite
        clicks and for boxes smaller than `min_size` px on a side (the pair is then forgotten)."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InvalidBoxError(f"click at ({x}, {y}) is not a finite image position")
        first = self._first
        if first is None or now_s - first[2] > self.timeout_s:
            self._first = (float(x), float(y), float(now_s))
            return None
        self._first = None
        box = box_from_corners(first[0], first[1], float(x), float(y))
        if box[2] < self.min_size or box[3] < self.min_size:
            raise InvalidBoxError(
                f"the two clicks make a {box[2]:.0f}x{box[3]:.0f} px box; click two opposite corners "
                f"at least {self.min_size:.0f} px apart"
            )
        return box


def diagnostic_status_fields(
    *,
    name: str,
    tracker: str,
    device: str,
    state: TargetState,
    confidence: float,
    image_topic: str,
    input_rate_hz: float,
    output_rate_hz: float,
    latency_mean_s: float,
    latency_max_s: float,
    dropped_frames: int,
    processed_frames: int,
    recent_errors: int,
    seconds_since_image: float | None,
    init_pending: bool = False,
    stale_after_s: float = 2.0,
) -> dict:
    """Fields of one diagnostic_msgs/DiagnosticStatus (level as int; values as (key, value) strings).

    ERROR: no tracker loaded. WARN: no image yet or for `stale_after_s`, or frames failed since the
    last report. OK otherwise; LOST is a tracking state, not a fault of the node.
    """
    if not tracker:
        level, message = DIAG_ERROR, "no tracker loaded"
    elif seconds_since_image is None:
        level, message = DIAG_WARN, f"waiting for images on {image_topic}"
    elif seconds_since_image > stale_after_s:
        level, message = DIAG_WARN, f"no image on {image_topic} for {seconds_since_image:.1f} s"
    elif recent_errors:
        level, message = DIAG_WARN, f"{recent_errors} frames failed since the last report (see the log)"
    else:
        level, message = DIAG_OK, f"{state.name.lower()} at {output_rate_hz:.1f} Hz"
    values = [
        ("tracker", tracker or "none"),
        ("device", device),
        ("state", state.name),
        ("confidence", f"{confidence:.3f}"),
        ("image topic", image_topic),
        ("input rate [Hz]", f"{input_rate_hz:.2f}"),
        ("output rate [Hz]", f"{output_rate_hz:.2f}"),
        ("latency mean [ms]", f"{latency_mean_s * 1e3:.1f}"),
        ("latency max [ms]", f"{latency_max_s * 1e3:.1f}"),
        ("dropped frames", str(int(dropped_frames))),
        ("processed frames", str(int(processed_frames))),
        ("init pending", str(bool(init_pending)).lower()),
    ]
    return {"level": level, "name": name, "message": message, "hardware_id": device, "values": values}
