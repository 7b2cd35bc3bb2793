"""Box conversion, validation, clipping and overlap: the one place boxes change representation.

Conventions: `xywh` is (x, y, width, height) of the top-left corner in pixels, as in OTB ground truth
and on the `/tracker/box` topic; `cxcywh` is (centre x, centre y, width, height); `xyxy` is corners.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from siam_tracker_ros.errors import InvalidBoxError


def xywh_to_cxcywh(box: Sequence[float]) -> np.ndarray:
    x, y, w, h = (float(v) for v in box)
    return np.array([x + w / 2.0, y + h / 2.0, w, h])


def cxcywh_to_xywh(box: Sequence[float]) -> np.ndarray:
    cx, cy, w, h = (float(v) for v in box)
    return np.array([cx - w / 2.0, cy - h / 2.0, w, h])


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:4]], axis=-1)


def parse_box(text: str) -> np.ndarray:
    """Parse 'x,y,w,h' (commas, spaces or tabs) as typed on a command line or found in a text file."""
    parts = [p for p in text.replace("\t", ",").replace(" ", ",").split(",") if p]
    if len(parts) != 4:
        raise InvalidBoxError(f"a box needs four numbers x,y,w,h; got {text!r}")
    try:
        return np.array([float(p) for p in parts])
    except ValueError as exc:
        raise InvalidBoxError(f"a box needs four numbers x,y,w,h; got {text!r}") from exc


def validate_box(box: Sequence[float], image_shape: tuple[int, ...]) -> np.ndarray:
    """Check an initial box against an image; return it as float array or raise InvalidBoxError.

    A box may cross the image border (the target is partly out of view) but must overlap the image by a
    pixel, be at least 1x1 px and at most twice the image's size (beyond, it describes no target in the
    image and the crops around it would need gigabytes), and hold only finite numbers.
    """
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.size != 4:
        raise InvalidBoxError(f"a box needs four numbers x,y,w,h; got {b.size}")
    if not np.all(np.isfinite(b)):
        raise InvalidBoxError(f"box {b.tolist()} holds NaN or infinite values")
    x, y, w, h = b
    if w < 1 or h < 1:
        raise InvalidBoxError(f"box {b.tolist()} has a zero, negative or sub-pixel size; draw a box of at "
                              "least 1x1 px")
    height, width = image_shape[:2]
    if w > 2 * width or h > 2 * height:
        raise InvalidBoxError(f"box {b.tolist()} is more than twice the size of the {width}x{height} image; "
                              "draw a box around the target")
    if min(x + w, width) - max(x, 0.0) < 1 or min(y + h, height) - max(y, 0.0) < 1:
        raise InvalidBoxError(
            f"box {b.tolist()} lies (all but less than a pixel) outside the {width}x{height} image; "
            "boxes are x,y,w,h in pixels of that image (top-left corner, width, height)"
        )
    return b


def clip_center_size(
    center: np.ndarray, size: np.ndarray, image_shape: tuple[int, ...], min_size: float = 10.0
) -> tuple[np.ndarray, np.ndarray]:
    """Keep a tracked centre inside the image and its size between `min_size` and the image size."""
    height, width = image_shape[:2]
    cx = min(max(float(center[0]), 0.0), float(width))
    cy = min(max(float(center[1]), 0.0), float(height))
    w = min(max(float(size[0]), min_size), float(width))
    h = min(max(float(size[1]), min_size), float(height))
    return np.array([cx, cy]), np.array([w, h])


def visible_fraction(box_cxcywh: np.ndarray, image_shape: tuple[int, ...]) -> float:
    """Share of a box's area that lies inside the image (0 when it is entirely outside)."""
    cx, cy, w, h = (float(v) for v in box_cxcywh)
    height, width = image_shape[:2]
    iw = max(0.0, min(cx + w / 2, width) - max(cx - w / 2, 0.0))
    ih = max(0.0, min(cy + h / 2, height) - max(cy - h / 2, 0.0))
    area = w * h
    return iw * ih / area if area > 0 else 0.0


def iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes (..., 4) in xywh; NaN rows give NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ax1, ay1 = a[..., 0], a[..., 1]
    ax2, ay2 = ax1 + a[..., 2], ay1 + a[..., 3]
    bx1, by1 = b[..., 0], b[..., 1]
    bx2, by2 = bx1 + b[..., 2], by1 + b[..., 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    missing = np.isnan(a).any(axis=-1) | np.isnan(b).any(axis=-1)
    return np.where(missing, np.nan, iou)


def context_size(size: Sequence[float], context_amount: float) -> float:
    """Side of the square crop around a target of `size` with SiamFC-style context: sqrt((w+p)(h+p))."""
    w, h = float(size[0]), float(size[1])
    pad = context_amount * (w + h)
    return math.sqrt((w + pad) * (h + pad))
