"""OTB-style sequence folders and the plain-text result files of the evaluation.

A sequence folder holds `img/000001.jpg ...` and `groundtruth_rect.txt` (one `x,y,w,h` line per frame,
top-left corner, pixels; `NaN,NaN,NaN,NaN` where the target is out of view). Result files use the same
box format (`<name>.txt`) plus `<name>_state.txt` with one `confidence,state` line per frame.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from siam_tracker_ros.errors import SourceError
from siam_tracker_ros.io.sources import IMAGE_EXTENSIONS, list_images
from siam_tracker_ros.trackers.base import TrackState

GROUNDTRUTH_FILE = "groundtruth_rect.txt"
_SEPARATORS = re.compile(r"[,\s]+")


def default_dataset_dir() -> Path:
    """The shared evaluation sequences: `$SIAM_TRACKER_SHARED/data/sequences`, else `<repo>/../shared/...`.

    The fallback only makes sense in a source checkout (this file lives three levels below the repo root).
    """
    env = os.environ.get("SIAM_TRACKER_SHARED")
    shared = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"
    return shared / "data" / "sequences"


@dataclass
class Sequence:
    """One sequence on disk; frames are read on demand, so holding many sequences costs little memory."""

    name: str
    path: Path
    frame_paths: list[Path]
    groundtruth: np.ndarray  # N x 4, x,y,w,h, NaN rows where the target is out of view

    def __len__(self) -> int:
        return len(self.frame_paths)

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` (0-based) as a BGR uint8 image."""
        path = self.frame_paths[index]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"cannot read frame {path}; the file is missing or not an image")
        return image

    def frames(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.frame(i)


def load_sequence(path) -> Sequence:
    """Read an OTB-style folder; the number of frames must match the number of ground-truth rows."""
    path = Path(path)
    img_dir = path / "img"
    gt_file = path / GROUNDTRUTH_FILE
    if not img_dir.is_dir() or not gt_file.is_file():
        raise SourceError(
            f"{path} is not a sequence folder: it needs an img/ folder of frames and a {GROUNDTRUTH_FILE}"
        )
    frame_paths = list_images(img_dir)
    if not frame_paths:
        raise SourceError(f"{img_dir} holds no frames ({', '.join(IMAGE_EXTENSIONS)})")
    gt = read_boxes(gt_file)
    if len(gt) != len(frame_paths):
        raise SourceError(
            f"{path.name}: {len(frame_paths)} frames in img/ but {len(gt)} boxes in {GROUNDTRUTH_FILE}; "
            "there must be one ground-truth line per frame"
        )
    return Sequence(name=path.name, path=path, frame_paths=frame_paths, groundtruth=gt)


def find_sequences(dataset_dir) -> list[Sequence]:
    """Every sub-folder of `dataset_dir` with `img/` and `groundtruth_rect.txt`, sorted by name."""
    root = Path(dataset_dir)
    if not root.is_dir():
        raise SourceError(f"dataset folder {root} does not exist")
    found = [
        load_sequence(d)
        for d in sorted(root.iterdir())
        if d.is_dir() and (d / "img").is_dir() and (d / GROUNDTRUTH_FILE).is_file()
    ]
    if not found:
        raise SourceError(
            f"no sequences in {root}: expected sub-folders <name>/ holding img/000001.jpg... "
            f"and {GROUNDTRUTH_FILE}"
        )
    return found


def _records(path: Path, what: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, stripped text, fields) of each non-blank, non-comment line of a result file;
    fields split on commas, tabs or spaces."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise SourceError(f"cannot read {what} file {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            yield number, text, [p for p in _SEPARATORS.split(text) if p]


def read_boxes(path) -> np.ndarray:
    """Boxes file -> N x 4 float array; fields split on commas, tabs or spaces, `nan` accepted."""
    path = Path(path)
    rows = []
    for number, text, parts in _records(path, "boxes"):
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 4:
            raise SourceError(f"{path}, line {number}: expected four numbers x,y,w,h, got {text!r}")
        rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def _number(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.4f}".rstrip("0").rstrip(".")


def write_boxes(path, boxes) -> None:
    """One `x,y,w,h` line per frame; NaN boxes are written as `nan,nan,nan,nan`."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(_number(v) for v in row) + "\n" for row in b))


def _state_name(state) -> str:
    try:
        return TrackState(state.value if isinstance(state, TrackState) else str(state)).value
    except ValueError:
        names = ", ".join(s.value for s in TrackState)
        raise ValueError(f"unknown tracker state {state!r}; expected one of {names}") from None


def write_states(path, confidences: Iterable[float], states: Iterable) -> None:
    """The `<name>_state.txt` file: one `confidence,state` line per frame."""
    confidences = list(confidences)
    states = [_state_name(s) for s in states]
    if len(confidences) != len(states):
        raise ValueError(f"{len(confidences)} confidences for {len(states)} states; need one pair per frame")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{_number(float(c))},{s}\n" for c, s in zip(confidences, states)))


def read_states(path) -> tuple[np.ndarray, list[TrackState]]:
    """Read a `<name>_state.txt` file -> (confidences, states)."""
    path = Path(path)
    confidences, states = [], []
    for number, text, parts in _records(path, "state"):
        try:
            if len(parts) != 2:
                raise ValueError
            confidences.append(float(parts[0]))
            states.append(TrackState(parts[1].lower()))
        except ValueError:
            raise SourceError(
                f"{path}, line {number}: expected 'confidence,state' with state tracking, uncertain or lost; "
                f"got {text!r}"
            ) from None
    return np.array(confidences, dtype=np.float64), states
