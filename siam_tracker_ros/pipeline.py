"""The processing pipeline between frames and published results, shared by the ROS node and the offline
command line (so `siam-track track` on a bag gives exactly what the node would publish). No ROS here.

- `FrameRingBuffer` keeps the last frames by stamp, so a box drawn on a frame the operator saw a moment
  ago is applied to that very frame and the tracker then catches up on the frames received since.
- `LatestFrameSlot` hands frames from the receiving thread to the tracking thread with a keep-the-newest
  policy: a follow controller needs the newest position, never a queue of old ones.
- `TrackingPipeline` owns the tracker, the target and the IDLE / TRACKING / UNCERTAIN / LOST output.
- `NodeParams` is the node's configuration with one table of descriptions and ranges that the node
  declares its ROS parameters from and that `validate()` checks against.
"""

from __future__ import annotations

import contextlib
import enum
import math
import numbers
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields, replace
from typing import Any, Generic, TypeVar

import numpy as np

from siam_tracker_ros.errors import (
    ConfigError,
    FrameSizeChangedError,
    InvalidBoxError,
    SiamTrackerError,
    TrackerFailure,
)
from siam_tracker_ros.libs.boxes import validate_box
from siam_tracker_ros.trackers.base import Tracker, TrackResult, TrackState, check_image
from siam_tracker_ros.trackers.registry import CPU_BACKENDS, DEFAULT_TRACKER
from siam_tracker_ros.trackers.state import StateThresholds

T = TypeVar("T")

DEFAULT_STAMP_TOLERANCE_NS = 10_000_000  # 10 ms: well below a frame period up to 50 Hz


class TargetState(enum.IntEnum):
    """Published state; the values are the constants of siam_tracker_ros/msg/TrackedBox."""

    IDLE = 0
    TRACKING = 1
    UNCERTAIN = 2
    LOST = 3


_FROM_TRACK_STATE = {
    TrackState.TRACKING: TargetState.TRACKING,
    TrackState.UNCERTAIN: TargetState.UNCERTAIN,
    TrackState.LOST: TargetState.LOST,
}
_TO_TRACK_STATE = {v: k for k, v in _FROM_TRACK_STATE.items()}


# -- frame handling ------------------------------------------------------------------------------------
class FrameRingBuffer:
    """The last `capacity` frames as (stamp_ns, image), oldest first. Thread-safe.

    Memory: capacity x one frame (60 frames of 640x480 BGR are 55 MB).
    """

    def __init__(self, capacity: int) -> None:
        if int(capacity) < 1:
            raise ConfigError(f"frame buffer capacity must be at least 1, got {capacity}")
        self._frames: deque[tuple[int, np.ndarray]] = deque(maxlen=int(capacity))
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._frames.maxlen or 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def add(self, stamp_ns: int, image: np.ndarray) -> bool:
        """Buffer a frame. A stamp already held is ignored (the same frame offered twice). A stamp older
        than the newest one means time jumped back (a bag played in a loop, a restarted simulation): the
        old timeline is dropped and True returned."""
        stamp_ns = int(stamp_ns)
        with self._lock:
            if self._frames:
                newest = self._frames[-1][0]
                if stamp_ns <= newest:
                    if any(s == stamp_ns for s, _ in self._frames):
                        return False
                    self._frames.clear()
                    self._frames.append((stamp_ns, image))
                    return True
            self._frames.append((stamp_ns, image))
            return False

    def find(self, stamp_ns: int, tolerance_ns: int) -> tuple[int, np.ndarray] | None:
        """The frame nearest to `stamp_ns` if it lies within `tolerance_ns`, else None."""
        with self._lock:
            if not self._frames:
                return None
            best = min(self._frames, key=lambda f: abs(f[0] - stamp_ns))
        return best if abs(best[0] - stamp_ns) <= tolerance_ns else None

    def newest(self) -> tuple[int, np.ndarray] | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def after(self, stamp_ns: int) -> list[tuple[int, np.ndarray]]:
        """Frames newer than `stamp_ns`, oldest first."""
        with self._lock:
            return [f for f in self._frames if f[0] > stamp_ns]

    def span(self) -> tuple[int, int] | None:
        """(oldest, newest) stamp held, or None when empty."""
        with self._lock:
            return (self._frames[0][0], self._frames[-1][0]) if self._frames else None

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()


class LatestFrameSlot(Generic[T]):
    """A one-item hand-over between threads: `put` replaces a pending item (counted in `dropped`),
    `take` waits for the newest one. Never a queue, so a slow consumer always works on the newest
    frame instead of falling further behind."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Items replaced before anyone took them."""
        with self._cond:
            return self._dropped

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    @property
    def pending(self) -> bool:
        """An item waits to be taken."""
        with self._cond:
            return self._full

    def put(self, item: T) -> bool:
        """Offer the newest item; returns True when it replaced one nobody took."""
        with self._cond:
            replaced = self._full
            if replaced:
                self._dropped += 1
            self._item, self._full = item, True
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to `timeout` seconds (None: until one comes or `close()`).
        Returns None on timeout or once closed and empty."""
        with self._cond:
            self._cond.wait_for(lambda: self._full or self._closed, timeout)
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        """Wake every waiting `take` (for shutdown); later puts are still accepted."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


# -- outputs -------------------------------------------------------------------------------------------
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class TrackerOutput:
    """What is published for one frame.

    stamp_ns: stamp of the frame the result was computed on. box: (x, y, w, h) px, zeros while IDLE.
    confidence: [0, 1]. response: float32 score map covering `search_region` (x, y, w, h) px, or None
    (IDLE, and the frame a target was initialised on). latency_s: time spent computing it.
    """

    stamp_ns: int
    box: Box
    confidence: float
    state: TargetState
    tracker_name: str
    response: np.ndarray | None = None
    search_region: Box | None = None
    latency_s: float = 0.0

    @classmethod
    def idle(cls, stamp_ns: int, tracker_name: str = "") -> TrackerOutput:
        return cls(int(stamp_ns), (0.0, 0.0, 0.0, 0.0), 0.0, TargetState.IDLE, tracker_name)

    def as_track_result(self) -> TrackResult | None:
        """The result in the trackers' own type (for `visualization.draw_result`); None while IDLE."""
        if self.state is TargetState.IDLE:
            return None
        return TrackResult(
            box=np.asarray(self.box, dtype=np.float64),
            confidence=self.confidence,
            state=_TO_TRACK_STATE[self.state],
            response=self.response,
            search_region=None if self.search_region is None else np.asarray(self.search_region),
        )


def _as_box(values) -> Box:
    x, y, w, h = (float(v) for v in np.asarray(values, dtype=np.float64).reshape(4))
    return (x, y, w, h)


def _clip_confidence(value: float) -> float:
    value = float(value)
    return min(max(value, 0.0), 1.0) if math.isfinite(value) else 0.0


# -- the pipeline --------------------------------------------------------------------------------------
class TrackingPipeline:
    """Tracker + target + frame buffer; thread-safe (the node feeds frames from one thread, boxes and
    tracker changes from others).

    Initialisation (`request_init`):
    - a box of width 0 and height 0 stops tracking (IDLE);
    - a box drawn on an older frame (stamp given) is applied to the buffered frame with that stamp
      (nearest within `stamp_tolerance_ns`), then the frames buffered after it are tracked up to the
      newest, so the target is followed from the frame the operator actually saw;
    - stamp None: the newest frame;
    - before any frame has arrived (or for a stamp newer than every buffered frame) the request is kept
      pending and applied to the first processed frame at or after that stamp. A pending request does not
      interrupt the current target until it is applied.
    """

    def __init__(self, tracker: Tracker | None, buffer_size: int = 60,
                 stamp_tolerance_ns: int = DEFAULT_STAMP_TOLERANCE_NS) -> None:
        self._tracker = tracker
        self._buffer = FrameRingBuffer(buffer_size)
        self.stamp_tolerance_ns = stamp_tolerance_ns
        self._lock = threading.RLock()
        self._box: np.ndarray | None = None  # current target, None while IDLE
        self._last: TrackerOutput | None = None  # output of the newest tracked frame
        self._pending: tuple[np.ndarray, int | None] | None = None
        self._time_jumped = False

    # -- state ------------------------------------------------------------------------------------
    @property
    def stamp_tolerance_ns(self) -> int:
        return self._tolerance_ns

    @stamp_tolerance_ns.setter
    def stamp_tolerance_ns(self, value: int) -> None:
        if value < 0:
            raise ConfigError(f"stamp tolerance must be >= 0 ns, got {value}")
        self._tolerance_ns = int(value)

    @property
    def tracker(self) -> Tracker | None:
        return self._tracker

    @property
    def tracker_name(self) -> str:
        return self._tracker.name if self._tracker is not None else ""

    # The two reads below take no lock, so that status queries (diagnostics) never wait for a frame or
    # a catch-up being tracked: the attributes are replaced, never changed in place.
    @property
    def target_box(self) -> np.ndarray | None:
        """The current target (x, y, w, h) in px, None while IDLE."""
        box = self._box
        return None if box is None else box.copy()

    @property
    def init_pending(self) -> bool:
        """A box waits for its frame (sent before the first image or for a frame not received yet)."""
        return self._pending is not None

    @property
    def buffer(self) -> FrameRingBuffer:
        return self._buffer

    # -- frames -----------------------------------------------------------------------------------
    def add_frame(self, image: np.ndarray, stamp_ns: int) -> None:
        """Buffer a frame without tracking it. The node calls this for every received frame, so a box
        can be matched to a frame that the tracking thread skipped. `process` buffers too."""
        check_image(image)
        if self._buffer.add(stamp_ns, image):
            self._time_jumped = True

    def process(self, image: np.ndarray, stamp_ns: int, buffered: bool = False) -> TrackerOutput:
        """Track the target in this frame (IDLE output when there is none).

        A frame at or before the newest one already tracked (e.g. one caught up on by `request_init`)
        is not tracked twice: the newest output is returned, with its own stamp. `buffered`: the frame
        went through `add_frame` on receipt (the node), so it is not offered again; a frame that waited
        longer than the buffer holds would otherwise look like time jumping back. Raises InvalidBoxError
        when a pending box does not fit this frame (the request is dropped), InvalidImageError for a frame
        that is not BGR uint8, and TrackerFailure when the tracker itself fails (tracking stops: IDLE).
        """
        start = time.perf_counter()
        stamp_ns = int(stamp_ns)
        if buffered:
            check_image(image)
        else:
            self.add_frame(image, stamp_ns)
        with self._lock:
            if self._time_jumped:
                self._time_jumped = False
                self._last = None
            if self._pending is not None and self._tracker is not None:
                box, wanted = self._pending
                if wanted is None or stamp_ns >= wanted - self._tolerance_ns:
                    self._pending = None
                    with self._stop_on_failure("start on the box"):
                        out = self._start(image, stamp_ns, box)
                    return replace(out, latency_s=time.perf_counter() - start)
            if self._box is None or self._tracker is None:
                return TrackerOutput.idle(stamp_ns, self.tracker_name)
            if self._last is not None and stamp_ns <= self._last.stamp_ns:
                return self._last
            with self._stop_on_failure("track"):
                out = self._track(image, stamp_ns)
            return replace(out, latency_s=time.perf_counter() - start)

    # -- target -----------------------------------------------------------------------------------
    def request_init(self, box, stamp_ns: int | None = None) -> TrackerOutput | None:
        """Start (or stop) tracking; see the class docstring. Returns the output for the newest frame
        after initialising and catching up, or None while the request is pending (no frame yet).

        Raises InvalidBoxError for NaN, boxes under 1x1 px (other than the 0x0 stop), over twice the
        image's size or outside it (the current target is kept), SiamTrackerError when no tracker is loaded or
        the box's frame is no longer buffered, TrackerFailure when the tracker fails on it (IDLE).
        """
        start = time.perf_counter()
        b = np.asarray(box, dtype=np.float64).reshape(-1)
        if b.size == 4 and b[2] == 0 and b[3] == 0:
            self.reset()
            newest = self._buffer.newest()
            return None if newest is None else TrackerOutput.idle(newest[0], self.tracker_name)
        # The image size is not known yet here: check all but the right/bottom bounds.
        b = validate_box(b, (math.inf, math.inf))
        with self._lock:
            if self._tracker is None:
                raise SiamTrackerError("no tracker is loaded; cannot start tracking")
            frame = self._init_frame(b, stamp_ns)
            if frame is None:
                self._pending = (b, None if stamp_ns is None else int(stamp_ns))
                return None
            self._pending = None
            with self._stop_on_failure("start on the box"):
                out = self._start(frame[1], frame[0], b)
                for stamp, image in self._buffer.after(frame[0]):
                    out = self._track(image, stamp)
            return replace(out, latency_s=time.perf_counter() - start)

    def _init_frame(self, box: np.ndarray, stamp_ns: int | None) -> tuple[int, np.ndarray] | None:
        """The buffered frame a box refers to; None when it has not arrived yet."""
        if stamp_ns is None:
            return self._buffer.newest()
        stamp_ns = int(stamp_ns)
        frame = self._buffer.find(stamp_ns, self._tolerance_ns)
        span = self._buffer.span()
        if frame is not None or span is None or stamp_ns > span[1]:
            return frame
        oldest, newest = span
        if stamp_ns < oldest:
            raise SiamTrackerError(
                f"the box was drawn on the frame stamped {stamp_ns / 1e9:.3f} s, which is no longer buffered "
                f"(the buffer holds {len(self._buffer)} frames, {oldest / 1e9:.3f} to {newest / 1e9:.3f} s); "
                "draw it again, or raise the buffer size"
            )
        raise SiamTrackerError(
            f"no buffered frame within {self._tolerance_ns / 1e6:.1f} ms of the box's stamp "
            f"{stamp_ns / 1e9:.3f} s; send the stamp of the image the box was drawn on, or zero for the "
            "newest frame"
        )

    def reset(self) -> None:
        """Stop tracking (IDLE); buffered frames are kept for the next box."""
        with self._lock:
            self._box = None
            self._pending = None
            self._last = None

    def set_tracker(self, tracker: Tracker | None) -> None:
        """Switch trackers live. When a target is followed, the new tracker is initialised with the
        current box on the frame that box was found in (while LOST: the last good box), so following
        continues without a new box. None unloads the tracker (IDLE). Raises InvalidBoxError or
        TrackerFailure when the current box cannot start the new tracker; the pipeline is then IDLE with
        the new tracker."""
        with self._lock:
            self._tracker = tracker
            if tracker is None:
                self.reset()
                return
            if self._box is None:
                return
            last = self._last
            frame = self._buffer.find(last.stamp_ns, 0) if last is not None else None
            frame = frame or self._buffer.newest()
            if frame is None:
                self._pending = (self._box, None)
                return
            with self._stop_on_failure("take over the target", refused_box_keeps_target=False):
                tracker.init(frame[1], self._box)
            if last is not None:
                self._last = replace(last, tracker_name=tracker.name)

    # -- internals (lock held) ------------------------------------------------------------------
    @contextlib.contextmanager
    def _stop_on_failure(self, what: str, refused_box_keeps_target: bool = True):
        """A box the tracker refuses (InvalidBoxError, checked before the tracker changes) leaves the
        current target as it was, unless the tracker was just swapped. Anything else the tracker
        raises leaves it in an unknown state: stop (IDLE), so nobody is told TRACKING about a box that
        is no longer updated, and raise TrackerFailure, which says so."""
        try:
            yield
        except InvalidBoxError:
            if not refused_box_keeps_target:
                self.reset()
            raise
        except FrameSizeChangedError as exc:  # a camera that changed resolution, or another source
            self.reset()
            (w0, h0), (w, h) = exc.started, exc.now
            raise TrackerFailure(f"the frames changed size from {w0}x{h0} to {w}x{h} px, so the target's box "
                                 "does not apply to them; tracking stopped, send the target's box again"
                                 ) from exc
        except Exception as exc:
            self.reset()
            raise TrackerFailure(f"{self.tracker_name} failed to {what} ({exc!r}); tracking stopped, "
                                 "send the target's box again") from exc

    def _start(self, image: np.ndarray, stamp_ns: int, box: np.ndarray) -> TrackerOutput:
        self._tracker.init(image, box)
        self._box = np.asarray(box, dtype=np.float64).copy()
        self._last = TrackerOutput(int(stamp_ns), _as_box(box), 1.0, TargetState.TRACKING, self._tracker.name)
        return self._last

    def _track(self, image: np.ndarray, stamp_ns: int) -> TrackerOutput:
        result = self._tracker.track(image)
        if not np.all(np.isfinite(result.box)):  # never handed to a controller (see _stop_on_failure)
            raise FloatingPointError(f"the tracker returned the box {np.asarray(result.box).tolist()}")
        self._box = np.asarray(result.box, dtype=np.float64).copy()
        self._last = TrackerOutput(
            stamp_ns=int(stamp_ns),
            box=_as_box(result.box),
            confidence=_clip_confidence(result.confidence),
            state=_FROM_TRACK_STATE[TrackState(result.state)],
            tracker_name=self._tracker.name,
            response=None if result.response is None else np.asarray(result.response, dtype=np.float32),
            search_region=None if result.search_region is None else _as_box(result.search_region),
        )
        return self._last


class RateWindow:
    """Rate and latency of recent events over a sliding time window (for /diagnostics)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = float(window_s)
        self._events: deque[tuple[float, float]] = deque()
        self._first: float | None = None
        self._lock = threading.Lock()

    def record(self, now_s: float, latency_s: float = 0.0) -> None:
        with self._lock:
            if self._first is None:
                self._first = now_s
            self._events.append((now_s, latency_s))
            self._trim(now_s)

    def _trim(self, now_s: float) -> None:
        while self._events and self._events[0][0] < now_s - self.window_s:
            self._events.popleft()

    def summary(self, now_s: float) -> tuple[float, float, float]:
        """(events per second, mean latency s, max latency s) over the window; zeros when empty. The rate
        falls to zero within one window after the events stop."""
        with self._lock:
            self._trim(now_s)
            if not self._events or self._first is None:
                return 0.0, 0.0, 0.0
            latencies = [lat for _, lat in self._events]
            observed = min(self.window_s, max(now_s - self._first, 1e-3))
            return len(self._events) / observed, sum(latencies) / len(latencies), max(latencies)


# -- node parameters -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParamInfo:
    """One ROS parameter: type from `default`, a description for `ros2 param describe`, and its limits."""

    name: str
    default: bool | int | float | str
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    read_only: bool = False  # fixed at start-up (the node must be restarted to change it)
    rebuilds_tracker: bool = False  # changing it at run time builds a new tracker

    @property
    def type(self) -> type:
        return type(self.default)


def _param(default, description: str, **info) -> Any:
    return field(default=default, metadata={"description": description, **info})


_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass(frozen=True)
class NodeParams:
    """Configuration of the tracker node; the field metadata is the parameter table (see PARAMETERS)."""

    tracker: str = _param(
        DEFAULT_TRACKER, "Tracker name: a file of config/trackers without .yaml (e.g. nano, nano_v1, "
        "nano_v3, drol_nano). Changing it at run time loads the new tracker and keeps following the target.",
        rebuilds_tracker=True)
    weights: str = _param(
        "", "Weights file of the tracker; empty: the file named in the tracker's config, looked up under "
        "$SIAM_TRACKER_WEIGHTS.", rebuilds_tracker=True)
    device: str = _param(
        "auto", "Where the network runs: auto (CUDA when available, else CPU), cpu, cuda or cuda:N. A CUDA "
        "request without CUDA falls back to the CPU with a warning.", rebuilds_tracker=True)
    fp16: bool = _param(
        False, "Half-precision inference (CUDA only; ignored with a warning on the CPU).",
        rebuilds_tracker=True)
    image_topic: str = _param(
        "/camera/image_raw", "Camera image topic (sensor_msgs/Image). With image_transport 'compressed' "
        "the node subscribes to <image_topic>/compressed; rqt_image_view clicks come on "
        "<image_topic>_mouse_left.",
        read_only=True)
    image_transport: str = _param(
        "raw", "raw: sensor_msgs/Image on image_topic; compressed: sensor_msgs/CompressedImage (JPEG/PNG) "
        "on <image_topic>/compressed.", choices=("raw", "compressed"), read_only=True)
    publish_heatmap: bool = _param(
        True, "Publish the response map on /tracker/heatmap (only computed while someone subscribes).")
    publish_debug_image: bool = _param(
        True, "Publish the image with box, state and heatmap inset on /tracker/debug_image, bgr8 (only "
        "drawn while someone subscribes).")
    init_from_clicks: bool = _param(
        True, "Start tracking from two clicks (opposite box corners) in rqt_image_view, published as "
        "geometry_msgs/Point on <image_topic>_mouse_left.", read_only=True)
    lost_below: float = _param(
        -1.0, "Confidence below which the target is reported LOST; -1: the tracker config's value "
        "(calibrated per tracker).", low=-1.0, high=1.0, rebuilds_tracker=True)
    uncertain_below: float = _param(
        -1.0, "Confidence below which the target is reported UNCERTAIN (>= lost_below); -1: the tracker "
        "config's value.", low=-1.0, high=1.0, rebuilds_tracker=True)
    found_above: float = _param(
        -1.0, "Confidence above which a LOST target is reported found again (>= lost_below; hysteresis); "
        "-1: the tracker config's value.", low=-1.0, high=1.0, rebuilds_tracker=True)
    stamp_tolerance: float = _param(
        0.010, "Largest difference [s] between an InitBox stamp and the buffered frame it is applied to.",
        low=0.0, high=1.0)
    cpu_threads: int = _param(
        1, "Threads for CPU inference (torch and onnxruntime). The networks are small: one thread is the "
        "fastest and keeps its speed when other processes load the CPU (more threads contend); CUDA is "
        "unaffected.", low=1, high=64, read_only=True)
    cpu_backend: str = _param(
        "auto", "How the network runs on the CPU: auto (onnxruntime when installed, about 2x faster, else "
        "TorchScript), onnxruntime, torchscript or eager.",
        choices=CPU_BACKENDS, rebuilds_tracker=True)
    buffer_size: int = _param(
        60, "Frames kept for initialising on the frame a box was drawn on (60 = 2 s at 30 Hz; memory: "
        "buffer_size x one frame).", low=1, high=1000, read_only=True)

    def validate(self) -> NodeParams:
        """Raise ConfigError naming the first bad value and what it must be; return self when valid."""
        for info in PARAMETERS:
            value = getattr(self, info.name)
            if info.type is bool:
                ok = isinstance(value, bool)
            elif info.type is float:
                ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
            elif info.type is int:
                ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
            else:
                ok = isinstance(value, str)
            name = info.name
            if not ok:
                raise ConfigError(f"parameter {name} must be a finite {info.type.__name__}, got {value!r}")
            if info.choices is not None and value not in info.choices:
                raise ConfigError(f"parameter {name} must be one of {', '.join(info.choices)}; got {value!r}")
            if (info.low is not None and value < info.low) or (info.high is not None and value > info.high):
                raise ConfigError(f"parameter {name} must lie in [{info.low}, {info.high}], got {value}")
        if not _DEVICE.match(self.device):
            raise ConfigError(f"parameter device must be auto, cpu, cuda or cuda:N; got {self.device!r}")
        if not self.image_topic.strip():
            raise ConfigError("parameter image_topic must name a topic, e.g. /camera/image_raw")
        from siam_tracker_ros.trackers.registry import available_trackers

        names = available_trackers()
        if self.tracker not in names:
            raise ConfigError(
                f"parameter tracker: unknown tracker {self.tracker!r}; available: {', '.join(names)}"
            )
        self.thresholds()
        return self

    def thresholds(self) -> StateThresholds:
        """The state thresholds in force: the tracker config's, with those set here (>= 0) replacing
        them; ConfigError when they are not ordered lost <= uncertain, lost <= found."""
        from siam_tracker_ros.trackers.registry import load_config

        state = {**load_config(self.tracker).get("tracking", {}).get("state", {}),
                 **self.tracker_overrides().get("state", {})}
        try:
            return StateThresholds(**state)
        except (ConfigError, TypeError) as exc:
            raise ConfigError(f"parameters lost_below / uncertain_below / found_above: {exc}") from None

    @property
    def stamp_tolerance_ns(self) -> int:
        return int(round(self.stamp_tolerance * 1e9))

    def tracker_overrides(self) -> dict[str, Any]:
        """The part of the tracker config these parameters replace (for `build_tracker(overrides=...)`)."""
        names = ("lost_below", "uncertain_below", "found_above")
        state = {name: float(getattr(self, name)) for name in names if getattr(self, name) >= 0}
        return {"state": state} if state else {}

    def tracker_spec(self) -> tuple:
        """The values that define the built tracker; a change in any of them needs a new tracker."""
        return tuple(getattr(self, p.name) for p in PARAMETERS if p.rebuilds_tracker)

    def changed(self, **values: Any) -> NodeParams:
        """A validated copy with some values replaced."""
        return replace(self, **values).validate()


#: The parameter table, in declaration order (one source of truth for the node and its docs).
PARAMETERS: tuple[ParamInfo, ...] = tuple(
    ParamInfo(name=f.name, default=f.default, **f.metadata) for f in fields(NodeParams)
)


def build_tracker_for(params: NodeParams) -> tuple[Tracker, list[str]]:
    """Build the tracker the parameters describe; returns it with warnings to log. A CUDA or fp16
    request that this machine cannot serve falls back to the CPU (a drone must not stay blind because of
    a device setting) instead of failing."""
    from siam_tracker_ros.trackers.registry import build_tracker, resolve_device

    notes = []
    device, fp16 = params.device, params.fp16
    try:
        resolve_device(device, fp16)
    except ConfigError as exc:
        notes.append(f"{exc}: running on the CPU in single precision instead")
        device, fp16 = "cpu", False
    tracker = build_tracker(params.tracker, device=device, fp16=fp16, weights=params.weights or None,
                            overrides=params.tracker_overrides(), cpu_backend=params.cpu_backend)
    return tracker, notes


def tracker_device(tracker: Tracker | None) -> str:
    """Where a tracker runs, for diagnostics ('cpu' for trackers that do not say)."""
    return str(getattr(tracker, "device", "cpu")) if tracker is not None else "none"
