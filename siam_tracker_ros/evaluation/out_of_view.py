"""A synthetic OUT-OF-VIEW test set made from the real sequences.

Real footage rarely shows the target leaving the view, yet that is when a follow controller most needs
the tracker to say LOST and, later, to find the target again. Here a virtual camera (a crop window
moving over the real frames) produces such footage:

* Crop: a fixed window, 60% of the frame width and height by default. Where the target is too large or
  too central for a 60% window to look past it without leaving the frame, the next smaller of 50%, 40%
  and 30% is used (the window never leaves the real frame, so no padding is ever visible).
* Follow: the window centre follows the ground-truth centre with exponential smoothing (factor 0.3),
  and is pulled so the target centre stays in the middle half of the window, then clamped to the frame.
* Event: after at least 15 follow frames the camera pans away in 3 to 6 frames (cosine ease, like a
  drone yaw: typically 40-100 px per frame on 640 px frames) to a window that does not overlap the
  target box (with a margin) during the whole event, holds there, then pans back onto the moving target
  in 3 to 6 frames. The target is fully out of the window for N frames, N drawn from
  [min_absent, max_absent] (10..60); the hold is shortened so that pan frames where the target is already
  out count in N. There are two events when the real sequence is long enough for both (plus 20 follow
  frames after each), else one.
* Frames are reused: output frame k shows real frame `ping_pong(k)` (0, 1, ..., n-1, n-2, ..., 0, 1, ...),
  so a sequence too short for its event plays backwards rather than jumping; motion stays continuous.
* Ground truth: the real box in window coordinates, kept whole (it may cross the border) while any part
  of it is inside the window, NaN while it is entirely outside (touching edges count as outside).

Everything is drawn from `numpy.random.default_rng([seed, crc32(name)])`: the same seed gives the same
set, and sequences get independent draws.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from siam_tracker_ros.errors import ConfigError, SourceError
from siam_tracker_ros.evaluation.datasets import (
    GROUNDTRUTH_FILE,
    Sequence,
    default_dataset_dir,
    find_sequences,
    load_sequence,
    write_boxes,
)
from siam_tracker_ros.libs.boxes import iou_xywh
from siam_tracker_ros.trackers.base import TrackState

CROP_FRACTIONS = (0.6, 0.5, 0.4, 0.3)
FOLLOW_SMOOTHING = 0.3  # share of the offset to the target centre closed each frame
FOLLOW_KEEP = 0.25  # target centre kept within +-25% of the window size from its centre
PAN_FRAMES = (3, 6)  # inclusive range of frames one pan takes
LEAD_FRAMES = 15  # follow frames before the first pan (the tracker settles after init)
TRAIL_FRAMES = 20  # follow frames after each pan back (room for the re-acquisition window)
OUT_COUNT_FROM = 2  # absent frames counted from the 3rd of each event: a tracker needs a frame or two
REACQUIRE_WITHIN = 10  # frames, from the first visible frame after an event
REACQUIRE_IOU = 0.3
ON_TARGET_FRAMES = 5  # frames before an event over which the tracker must have been on the target
EVENTS_FILE = "events.txt"
EVENT_OUTCOMES_FILE = "out_of_view_events.csv"  # what `siam-track eval` writes per event
TIMELINES_DIR = "timelines"  # where `siam-track eval` draws each out-of-view sequence over time
CAMERA_FILE = "camera.txt"


class FrameList:
    """A lazy, indexable list of frames: `frames[k]` loads (and crops) frame k only when asked."""

    def __init__(self, length: int, load: Callable[[int], np.ndarray]) -> None:
        self._length = int(length)
        self._load = load

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> np.ndarray:
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(f"frame {index} of a {self._length}-frame sequence")
        return self._load(index)

    def __iter__(self) -> Iterator[np.ndarray]:
        for k in range(self._length):
            yield self._load(k)


@dataclass
class OutOfViewSequence:
    """One synthetic sequence; `events` are [start, end) frame ranges (0-based) of full absence.

    source_index, crop_boxes (x,y,w,h in real-frame pixels) and following (True where the camera
    follows the target, False while panning or away) describe the virtual camera; they are None for a
    sequence read back from disk without its camera.txt.
    """

    name: str
    frames: FrameList
    groundtruth: np.ndarray
    absent: np.ndarray
    events: list[tuple[int, int]]
    source_index: np.ndarray | None = field(default=None, repr=False)
    crop_boxes: np.ndarray | None = field(default=None, repr=False)
    following: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.groundtruth)


def ping_pong(k: np.ndarray, n: int) -> np.ndarray:
    """Real frame shown at output frame k: forwards, then backwards, and so on."""
    k = np.asarray(k, dtype=np.int64)
    if n <= 1:
        return np.zeros_like(k)
    period = 2 * (n - 1)
    r = k % period
    return np.where(r < n, r, period - r)


def _ease(f: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * f)


def _outside(box: np.ndarray, x: float, y: float, cw: int, ch: int) -> bool:
    """True when `box` (x,y,w,h) has no area inside the window at (x, y); NaN boxes count as outside."""
    bx, by, bw, bh = box
    if not np.all(np.isfinite(box)):
        return True
    return bx + bw <= x or bx >= x + cw or by + bh <= y or by >= y + ch


class _Camera:
    """Simulates the crop window over an output timeline of real boxes `boxes` (L x 4)."""

    def __init__(self, boxes: np.ndarray, frame_w: int, frame_h: int, cw: int, ch: int) -> None:
        self.boxes = boxes
        self.size = np.array([cw, ch], dtype=np.float64)
        self.limit = np.array([frame_w - cw, frame_h - ch], dtype=np.float64)

    def clamp(self, pos: np.ndarray) -> np.ndarray:
        return np.round(np.clip(pos, 0.0, self.limit))

    def centred(self, k: int, fallback: np.ndarray) -> np.ndarray:
        b = self.boxes[k]
        if not np.all(np.isfinite(b)):
            return fallback
        return self.clamp(b[:2] + b[2:] / 2.0 - self.size / 2.0)

    def follow(self, k: int, prev: np.ndarray) -> np.ndarray:
        b = self.boxes[k]
        if not np.all(np.isfinite(b)):
            return prev
        centre = b[:2] + b[2:] / 2.0
        target = centre - self.size / 2.0
        pos = prev + FOLLOW_SMOOTHING * (target - prev)
        slack = FOLLOW_KEEP * self.size
        return self.clamp(np.clip(pos, target - slack, target + slack))


@dataclass
class _Event:
    absent: int  # frames the target is to be fully out of view
    pan_out: int
    pan_back: int

    @property
    def length(self) -> int:
        return self.pan_out + self.absent + self.pan_back


def _away_options(boxes: np.ndarray, frame_w: int, frame_h: int, cw: int, ch: int) -> list[tuple[int, float]]:
    """(axis, position) of windows that miss every box of `boxes`: left/right (axis 0), up/down (axis 1)."""
    finite = boxes[np.all(np.isfinite(boxes), axis=1)]
    if len(finite) == 0:
        return []
    x1, y1 = finite[:, 0].min(), finite[:, 1].min()
    x2, y2 = (finite[:, 0] + finite[:, 2]).max(), (finite[:, 1] + finite[:, 3]).max()
    margin = 2.0 + 0.1 * float(np.max(finite[:, 2:]))
    options = []
    if math.ceil(x2 + margin) + cw <= frame_w:
        options.append((0, float(math.ceil(x2 + margin))))
    if math.floor(x1 - margin) - cw >= 0:
        options.append((0, float(math.floor(x1 - margin) - cw)))
    if math.ceil(y2 + margin) + ch <= frame_h:
        options.append((1, float(math.ceil(y2 + margin))))
    if math.floor(y1 - margin) - ch >= 0:
        options.append((1, float(math.floor(y1 - margin) - ch)))
    return options


def _simulate_event(
    cam: _Camera, start: int, pos: np.ndarray, axis: int, away: float, ev: _Event, hold: int
) -> list[np.ndarray]:
    """Window positions of frames start+1 ...: pan out, hold, pan back onto the target."""
    away_pos = pos.copy()
    away_pos[axis] = away
    out = []
    for i in range(1, ev.pan_out + 1):
        out.append(np.round(pos + (away_pos - pos) * _ease(i / ev.pan_out)))
    out += [away_pos.copy() for _ in range(hold)]
    k = start + len(out)
    for j in range(1, ev.pan_back + 1):
        k += 1
        home = cam.centred(k, away_pos)
        out.append(np.round(away_pos + (home - away_pos) * _ease(j / ev.pan_back)))
    return out


def _plan(
    boxes: np.ndarray,
    frame_w: int,
    frame_h: int,
    cw: int,
    ch: int,
    events: list[_Event],
    rng: np.random.Generator,
    min_absent: int,
    max_absent: int,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]] | None:
    """Camera positions (L x 2), follow mask and absence events, or None if the events do not fit."""
    length = len(boxes)
    cam = _Camera(boxes, frame_w, frame_h, cw, ch)
    positions = np.zeros((length, 2))
    following = np.ones(length, dtype=bool)
    positions[0] = cam.centred(0, cam.clamp(cam.limit / 2.0))
    done = 0  # frames 0..done have positions
    placed: list[tuple[int, int]] = []
    for i, ev in enumerate(events):
        reserve = sum(e.length + TRAIL_FRAMES for e in events[i + 1 :])
        earliest = max(LEAD_FRAMES, done + TRAIL_FRAMES) if placed else LEAD_FRAMES
        latest = length - 1 - reserve - ev.length - TRAIL_FRAMES
        candidates = []
        for start in range(earliest, latest + 1):
            for axis, away in _away_options(
                boxes[start + 1 : start + ev.length + 1], frame_w, frame_h, cw, ch
            ):
                candidates.append((start, axis, away))
        if not candidates:
            return None
        result = None
        for c in rng.permutation(len(candidates))[:30]:
            start, axis, away = candidates[int(c)]
            pos = positions[done]
            follow_pos = [pos]
            for k in range(done + 1, start + 1):
                follow_pos.append(cam.follow(k, follow_pos[-1]))
            result = _fit_event(cam, start, follow_pos[-1], axis, away, ev, min_absent, max_absent)
            if result is not None:
                positions[done + 1 : start + 1] = follow_pos[1:]
                break
        if result is None:
            return None
        path, run = result
        positions[start + 1 : start + 1 + len(path)] = path
        following[start + 1 : start + 1 + len(path)] = False
        placed.append(run)
        done = start + len(path)
    for k in range(done + 1, length):
        positions[k] = cam.follow(k, positions[k - 1])
    return positions, following, placed


def _fit_event(
    cam: _Camera,
    start: int,
    pos: np.ndarray,
    axis: int,
    away: float,
    ev: _Event,
    min_absent: int,
    max_absent: int,
) -> tuple[list[np.ndarray], tuple[int, int]] | None:
    """Shorten the hold until the target is out for exactly `ev.absent` frames in one run."""
    hold = ev.absent
    for _ in range(6):
        if hold < 0:
            return None
        path = _simulate_event(cam, start, pos, axis, away, ev, hold)
        out = [
            _outside(cam.boxes[k], p[0], p[1], int(cam.size[0]), int(cam.size[1]))
            for k, p in enumerate(path, start=start + 1)
        ]
        idx = np.flatnonzero(out)
        if len(idx) == 0:
            return None
        contiguous = idx[-1] - idx[0] + 1 == len(idx)
        if not contiguous:
            return None
        if len(idx) == ev.absent:
            break
        hold -= len(idx) - ev.absent
    if not contiguous or not min_absent <= len(idx) <= max_absent or out[-1]:
        return None
    return path, (start + 1 + int(idx[0]), start + 2 + int(idx[-1]))


def _crop_sizes(crop_size, frame_w: int, frame_h: int) -> list[tuple[int, int]]:
    if crop_size is None:
        return [(int(round(f * frame_w)), int(round(f * frame_h))) for f in CROP_FRACTIONS]
    if np.isscalar(crop_size):
        f = float(crop_size)
        if not 0.0 < f <= 1.0:
            raise ConfigError(f"crop_size as a fraction must lie in (0, 1], got {f}")
        return [(int(round(f * frame_w)), int(round(f * frame_h)))]
    w, h = (int(v) for v in crop_size)
    if not (0 < w <= frame_w and 0 < h <= frame_h):
        raise ConfigError(f"crop_size {w}x{h} px must be positive and fit in the {frame_w}x{frame_h} frames")
    return [(w, h)]


def build_out_of_view(
    sequence: Sequence,
    seed: int,
    crop_size=None,
    min_absent: int = 10,
    max_absent: int = 60,
) -> OutOfViewSequence:
    """Turn one real sequence into an out-of-view sequence (see the module docstring).

    crop_size: None (60%, smaller if the events need it), a fraction of the frame, or (width, height) px.
    """
    if not 1 <= min_absent <= max_absent:
        raise ConfigError(f"need 1 <= min_absent ({min_absent}) <= max_absent ({max_absent})")
    first = sequence.frame(0)
    frame_h, frame_w = first.shape[:2]
    n = len(sequence)
    rng = np.random.default_rng([int(seed), zlib.crc32(sequence.name.encode())])
    draws = []
    for _ in range(2):  # always two draws, so the first event does not depend on whether a second fits
        absent = int(rng.integers(min_absent, max_absent, endpoint=True))
        pan_out, pan_back = (
            int(v) for v in rng.integers(PAN_FRAMES[0], PAN_FRAMES[1], size=2, endpoint=True)
        )
        draws.append(_Event(absent, pan_out, pan_back))
    both = LEAD_FRAMES + 1 + sum(e.length + TRAIL_FRAMES for e in draws)
    counts = (2, 1) if both <= n else (1,)
    for cw, ch in _crop_sizes(crop_size, frame_w, frame_h):
        for count in counts:
            events = draws[:count]
            length = max(n, LEAD_FRAMES + 1 + sum(e.length + TRAIL_FRAMES for e in events))
            source = ping_pong(np.arange(length), n)
            boxes = sequence.groundtruth[source]
            plan = _plan(boxes, frame_w, frame_h, cw, ch, events, rng, min_absent, max_absent)
            if plan is not None:
                return _assemble(sequence, source, boxes, plan, cw, ch)
    raise SourceError(
        f"{sequence.name}: cannot pan the target out of view inside its {frame_w}x{frame_h} frames "
        "(target too large for the crop window); give a smaller crop_size"
    )


def _assemble(sequence: Sequence, source: np.ndarray, boxes: np.ndarray, plan, cw: int, ch: int):
    positions, following, events = plan
    crops = np.column_stack([positions, np.full(len(positions), cw), np.full(len(positions), ch)])
    gt = boxes.copy()
    gt[:, :2] -= positions
    outside = np.array([_outside(b, p[0], p[1], cw, ch) for b, p in zip(boxes, positions)])
    gt[outside] = np.nan
    crop_xy = positions.astype(np.int64)

    def load(k: int) -> np.ndarray:
        x, y = crop_xy[k]
        return np.ascontiguousarray(sequence.frame(int(source[k]))[y : y + ch, x : x + cw])

    return OutOfViewSequence(
        name=f"{sequence.name}_oov",
        frames=FrameList(len(source), load),
        groundtruth=gt,
        absent=outside,
        events=events,
        source_index=source,
        crop_boxes=crops,
        following=following,
    )


def build_out_of_view_set(dataset_dir, seed: int, **kwargs) -> list[OutOfViewSequence]:
    """An out-of-view sequence per real sequence of `dataset_dir` (None: the shared sequences).

    Only boxes and camera paths are held; frames are read and cropped when indexed.
    """
    root = default_dataset_dir() if dataset_dir is None else dataset_dir
    return [build_out_of_view(seq, seed, **kwargs) for seq in find_sequences(root)]


def write_out_of_view_set(
    dest_dir, seed: int, dataset_dir=None, on_skip: Callable[[str, str], None] | None = None, **kwargs
) -> list[Path]:
    """Write the set as OTB-style folders `<dest>/<name>_oov/` that the ordinary evaluation reads.

    Frames are written as PNG: a second JPEG compression of the crops changed which absences a tracker
    detects (its decisions sit close to thresholds), so the written set must equal the built one.
    Each holds img/000001.png ..., groundtruth_rect.txt (nan rows while the target is out of view),
    events.txt (one `start,end` line per absence: 0-based frame indices, end exclusive) and camera.txt
    (one `source_frame,x,y,w,h` line per frame: the 0-based real frame and the crop window on it).
    One sequence is in memory at a time. A sequence the camera cannot pan away from (its target too
    large for the crop window) raises, or with `on_skip(name, reason)` is reported there and left out.
    """
    root = default_dataset_dir() if dataset_dir is None else dataset_dir
    dest = Path(dest_dir)
    written = []
    for seq in find_sequences(root):
        try:
            oov = build_out_of_view(seq, seed, **kwargs)
        except SourceError as err:
            if on_skip is None:
                raise
            on_skip(seq.name, str(err))
            continue
        folder = dest / oov.name
        img = folder / "img"
        img.mkdir(parents=True, exist_ok=True)
        for old in [*img.glob("*.jpg"), *img.glob("*.png")]:  # a previous, longer run must not leave frames
            old.unlink()
        for k, frame in enumerate(oov.frames):
            path = img / f"{k + 1:06d}.png"
            if not cv2.imwrite(str(path), frame, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
                raise SourceError(f"cannot write {path}")
        write_boxes(folder / GROUNDTRUTH_FILE, oov.groundtruth)
        write_events(folder / EVENTS_FILE, oov.events)
        lines = [
            f"{int(s)},{int(c[0])},{int(c[1])},{int(c[2])},{int(c[3])}\n"
            for s, c in zip(oov.source_index, oov.crop_boxes)
        ]
        (folder / CAMERA_FILE).write_text(
            "# source_frame,x,y,w,h (0-based real frame; crop window on it)\n" + "".join(lines)
        )
        written.append(folder)
    return written


def write_events(path, events: list[tuple[int, int]]) -> None:
    text = (
        "# start,end: 0-based frame indices of full absence, end exclusive (frame i is img/{i+1:06d}.png)\n"
    )
    Path(path).write_text(text + "".join(f"{int(s)},{int(e)}\n" for s, e in events))


EVENT_COLUMNS = ("tracker", "sequence", "start", "end", "on_target", "absent_frames", "lost_frames",
                 "reacquired", "delay", "outcome")


def write_event_outcomes(path, rows: list[dict]) -> None:
    """One CSV line per (tracker, sequence, event) of `out_of_view_metrics` (its event dicts with
    `tracker` and `sequence` added): which events were missed, and how. Empty fields for None."""
    lines = [",".join(EVENT_COLUMNS)]
    lines += [",".join("" if row.get(c) is None else str(row[c]) for c in EVENT_COLUMNS) for row in rows]
    Path(path).write_text("\n".join(lines) + "\n")


def read_events(path) -> list[tuple[int, int]]:
    events = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            start, end = (int(v) for v in text.replace("\t", ",").replace(" ", ",").split(",") if v)
        except ValueError:
            raise SourceError(
                f"{path}, line {number}: expected 'start,end' frame indices, got {text!r}"
            ) from None
        events.append((start, end))
    return events


def load_out_of_view(path) -> OutOfViewSequence:
    """Read back a folder written by `write_out_of_view_set` (frames stay on disk until indexed)."""
    seq = load_sequence(path)
    events_file = Path(path) / EVENTS_FILE
    if not events_file.is_file():
        raise SourceError(f"{path} has no {EVENTS_FILE}; it is not an out-of-view sequence")
    gt = seq.groundtruth
    source = crops = None
    camera_file = Path(path) / CAMERA_FILE
    if camera_file.is_file():
        camera = _read_camera(camera_file)
        if len(camera) == len(gt):
            source, crops = camera[:, 0].astype(np.int64), camera[:, 1:]
    return OutOfViewSequence(
        name=seq.name,
        frames=FrameList(len(seq), seq.frame),
        groundtruth=gt,
        absent=~np.all(np.isfinite(gt), axis=1),
        events=read_events(events_file),
        source_index=source,
        crop_boxes=crops,
    )


def _read_camera(path) -> np.ndarray:
    """camera.txt -> L x 5 array (source frame, x, y, w, h)."""
    rows = [
        [float(v) for v in line.split(",")]
        for line in Path(path).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return np.array(rows, dtype=np.float64).reshape(-1, 5)


def _state_value(state) -> str:
    return state.value if isinstance(state, TrackState) else str(state).lower()


def out_of_view_metrics(pred_boxes, states, seq: OutOfViewSequence) -> dict:
    """How a tracker handles the absences of one out-of-view sequence.

    lost_when_absent: share of absent frames reported LOST, counting from the 3rd absent frame of each
    event (the first two are grace frames). For each event: reacquired when, within the 10 frames from
    the first visible frame after it, some frame is not reported LOST and has IoU >= 0.3 with the ground
    truth (a LOST box is a held box, not a detection); delay is the frames from that first visible frame.
    reacquisition_rate: share of events re-acquired (events that end with the sequence are left out).
    lost_when_visible: share of frames with the target (partly) in view, frame 0 excluded, reported LOST.
    lost_on_target: share of those frames reported LOST while the box still has IoU >= 0.3 with the
    target: false alarms (a controller stops following a target the box covers); the rest of
    lost_when_visible is LOST with the box off the target, which is true.
    Per event also: on_target, whether the tracker was on the target as it left (mean IoU >= 0.3 over
    the 5 frames before the absence; an event after a tracking failure tests the failure, not the
    absence handling), its counted absent frames and how many of them were reported LOST, and its
    outcome: "re-acquired"; "stayed lost" (LOST through the whole window); "box off" (boxes reported in
    the window, none with IoU >= 0.3: a look-alike taken while absent or at the return, or the target
    with a box of the wrong size); None for an event that ends with the sequence.
    """
    pred = np.asarray(pred_boxes, dtype=np.float64).reshape(-1, 4)
    names = [_state_value(s) for s in states]
    n = len(seq.groundtruth)
    if len(pred) != n or len(names) != n:
        raise ValueError(
            f"{len(pred)} boxes and {len(names)} states for a {n}-frame sequence; need one per frame"
        )
    lost = np.array([s == TrackState.LOST.value for s in names], dtype=bool)
    gt = seq.groundtruth

    counted = np.zeros(n, dtype=bool)
    per_event = []
    for start, end in seq.events:
        span = slice(min(start + OUT_COUNT_FROM, end), end)
        counted[span] = True
        lead = slice(max(0, start - ON_TARGET_FRAMES), start)
        before = np.nan_to_num(iou_xywh(pred[lead], gt[lead]), nan=0.0)
        on_target = bool(before.size) and float(before.mean()) >= REACQUIRE_IOU
        event = {"start": start, "end": end, "on_target": on_target,
                 "absent_frames": int(end - span.start), "lost_frames": int(lost[span].sum()),
                 "reacquired": None, "delay": None, "outcome": None}
        per_event.append(event)
        if end >= n:
            continue
        window = np.arange(end, min(end + REACQUIRE_WITHIN, n))
        iou = np.nan_to_num(iou_xywh(pred[window], gt[window]), nan=0.0)
        good = np.flatnonzero((iou >= REACQUIRE_IOU) & ~lost[window])
        event["reacquired"] = bool(good.size)
        event["delay"] = int(good[0]) if good.size else None
        event["outcome"] = ("re-acquired" if good.size else "stayed lost" if lost[window].all()
                            else "box off")
    visible = ~np.asarray(seq.absent, dtype=bool)
    visible[:1] = False
    judged = [e["reacquired"] for e in per_event if e["reacquired"] is not None]

    def share(mask: np.ndarray, of=lost) -> float:
        return float(of[mask].mean()) if mask.any() else float("nan")

    on_box = np.nan_to_num(iou_xywh(pred, gt), nan=0.0) >= REACQUIRE_IOU

    return {
        "absent_frames": int(counted.sum()),
        "lost_when_absent": share(counted),
        "events": per_event,
        "reacquisition_rate": float(np.mean(judged)) if judged else float("nan"),
        "visible_frames": int(visible.sum()),
        "lost_when_visible": share(visible),
        "lost_on_target": share(visible, lost & on_box),
    }
