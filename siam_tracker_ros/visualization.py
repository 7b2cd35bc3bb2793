"""Drawing of tracking results: the one place that does it, so the command line's annotated MP4 and the
ROS node's `/tracker/debug_image` look the same and a fix here fixes both.

Everything tolerates boxes and search regions partly or fully outside the frame and very small frames,
because those are exactly the moments (target leaving the view, tiny test images) when a crash in a
debug overlay would hide what the tracker did.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from siam_tracker_ros.errors import InvalidImageError
from siam_tracker_ros.trackers.base import TrackResult, TrackState

#: Box colour per state (BGR): green tracking, yellow uncertain, red lost.
STATE_COLORS: dict[TrackState, tuple[int, int, int]] = {
    TrackState.TRACKING: (0, 255, 0),
    TrackState.UNCERTAIN: (0, 255, 255),
    TrackState.LOST: (0, 0, 255),
}
SEARCH_REGION_COLOR = (255, 255, 0)  # cyan: apart from every state colour
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def heatmap_to_bgr(response: np.ndarray) -> np.ndarray:
    """Colour (JET) BGR uint8 image of a response map; values are clipped to [0, 1], NaN shown as 0."""
    arr = np.asarray(response, dtype=np.float32)
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidImageError(f"expected a non-empty 2-D response map, got shape {arr.shape}")
    arr = np.clip(np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    return cv2.applyColorMap((arr * 255.0 + 0.5).astype(np.uint8), cv2.COLORMAP_JET)


def _finite_box(box) -> np.ndarray | None:
    try:
        b = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    if b.size != 4 or not np.all(np.isfinite(b)) or b[2] <= 0 or b[3] <= 0:
        return None
    return b


def _corners(image: np.ndarray, box: np.ndarray) -> tuple[int, int, int, int]:
    """Integer corners, clamped far outside the frame so OpenCV never sees an overflowing coordinate."""
    limit = 4 * max(image.shape[:2]) + 16
    x0, y0 = box[0], box[1]
    x1, y1 = box[0] + box[2], box[1] + box[3]
    return tuple(int(round(float(np.clip(v, -limit, limit)))) for v in (x0, y0, x1, y1))


def _thickness(image: np.ndarray) -> int:
    """Lines drawn crisp (LINE_8) and scaled with the frame, so box pixels keep the exact state colour."""
    return max(1, int(round(min(image.shape[:2]) / 240)))


def _dashed_rectangle(image, p0, p1, color, thickness, dash: int = 8, gap: int = 6) -> None:
    x0, y0 = p0
    x1, y1 = p1
    for (ax, ay), (bx, by) in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)),
                               ((x0, y1), (x0, y0))):
        length = math.hypot(bx - ax, by - ay)
        if length == 0:
            continue
        start = 0.0
        while start < length:
            end = min(start + dash, length)
            p = (int(round(ax + (bx - ax) * start / length)), int(round(ay + (by - ay) * start / length)))
            q = (int(round(ax + (bx - ax) * end / length)), int(round(ay + (by - ay) * end / length)))
            cv2.line(image, p, q, color, thickness, cv2.LINE_8)
            start += dash + gap


def _label(image, text: str, origin: tuple[int, int], color, scale: float) -> None:
    """Text on a dark filled background so it stays readable on any frame."""
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, 1)
    x, y = origin
    cv2.rectangle(image, (x - 1, y - th - 2), (x + tw + 1, y + base), (0, 0, 0), cv2.FILLED)
    cv2.putText(image, text, (x, y), _FONT, scale, color, 1, cv2.LINE_AA)


def _font_scale(image: np.ndarray) -> float:
    return float(np.clip(min(image.shape[:2]) / 720.0, 0.35, 1.0))


def draw_box(image: np.ndarray, box, color, label: str | None = None, thickness: int | None = None,
             dashed: bool = False) -> np.ndarray:
    """Draw `box` (x, y, w, h) on `image` in place and return it; NaN or empty boxes (target not visible
    in the ground truth) draw nothing."""
    b = _finite_box(box)
    if b is None:
        return image
    thickness = thickness or _thickness(image)
    x0, y0, x1, y1 = _corners(image, b)
    color = tuple(int(c) for c in color)
    if dashed:
        _dashed_rectangle(image, (x0, y0), (x1, y1), color, thickness)
    else:
        cv2.rectangle(image, (x0, y0), (x1, y1), color, thickness, cv2.LINE_8)
    if label:
        scale = _font_scale(image) * 0.8
        (_, th), _ = cv2.getTextSize(label, _FONT, scale, 1)
        ty = y0 - thickness - 2 if y0 - th - thickness - 4 >= 0 else y1 + th + thickness + 2
        _label(image, label, (x0, ty), color, scale)
    return image


def _blend_over_region(canvas: np.ndarray, response: np.ndarray, region, alpha: float = 0.45) -> None:
    """Blend the colour heatmap over the part of the search region that lies inside the frame.

    Only the visible part is resampled (cv2.remap), so a search region far larger than the frame costs
    no more than the frame itself.
    """
    r = _finite_box(region)
    if r is None:
        return
    height, width = canvas.shape[:2]
    sx, sy, sw, sh = r
    x0, y0 = max(0, math.floor(sx)), max(0, math.floor(sy))
    x1, y1 = min(width, math.ceil(sx + sw)), min(height, math.ceil(sy + sh))
    if x1 <= x0 or y1 <= y0:
        return
    rh, rw = response.shape
    map_x = ((np.arange(x0, x1, dtype=np.float64) + 0.5 - sx) * rw / sw - 0.5).astype(np.float32)
    map_y = ((np.arange(y0, y1, dtype=np.float64) + 0.5 - sy) * rh / sh - 0.5).astype(np.float32)
    map_x = np.ascontiguousarray(np.broadcast_to(map_x[None, :], (y1 - y0, x1 - x0)))
    map_y = np.ascontiguousarray(np.broadcast_to(map_y[:, None], (y1 - y0, x1 - x0)))
    values = cv2.remap(np.ascontiguousarray(response, dtype=np.float32), map_x, map_y, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    roi = canvas[y0:y1, x0:x1]
    canvas[y0:y1, x0:x1] = cv2.addWeighted(roi, 1.0 - alpha, heatmap_to_bgr(values), alpha, 0.0)


def _draw_inset(canvas: np.ndarray, response: np.ndarray) -> None:
    """Heatmap thumbnail in the top-right corner; skipped when the frame is too small to hold one."""
    height, width = canvas.shape[:2]
    side = min(160, min(height, width) // 4)
    if side < 12:
        return
    rh, rw = response.shape
    if rw >= rh:
        iw, ih = side, max(1, int(round(side * rh / rw)))
    else:
        iw, ih = max(1, int(round(side * rw / rh))), side
    margin = max(2, side // 16)
    x0, y0 = width - iw - margin, margin
    thumb = heatmap_to_bgr(cv2.resize(np.ascontiguousarray(response, dtype=np.float32), (iw, ih),
                                      interpolation=cv2.INTER_LINEAR))
    canvas[y0:y0 + ih, x0:x0 + iw] = thumb
    cv2.rectangle(canvas, (x0 - 1, y0 - 1), (x0 + iw, y0 + ih), (255, 255, 255), 1)


def draw_result(image: np.ndarray, result: TrackResult, tracker_name: str | None = None, inset: bool = True,
                overlay: bool = False) -> np.ndarray:
    """A copy of `image` with the result drawn: box coloured by state (dashed when lost), search region,
    `tracker  state  conf 0.87` text, and the response map as a corner inset and/or blended over the
    search region."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        raise InvalidImageError("draw_result expects a non-empty uint8 image")
    if image.ndim == 2:
        canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 3:
        canvas = image.copy()
    else:
        raise InvalidImageError(f"draw_result expects a BGR (H, W, 3) image, got shape {image.shape}")

    try:
        state = TrackState(result.state)
    except ValueError:
        state = TrackState.UNCERTAIN
    response = None
    if result.response is not None:
        response = np.asarray(result.response, dtype=np.float32)
        if response.ndim != 2 or response.size == 0:
            response = None

    if overlay and response is not None:
        _blend_over_region(canvas, response, result.search_region)
    region = _finite_box(result.search_region)
    if region is not None:
        x0, y0, x1, y1 = _corners(canvas, region)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), SEARCH_REGION_COLOR, 1, cv2.LINE_8)

    color = STATE_COLORS[state]
    if state is TrackState.LOST:
        draw_box(canvas, result.box, color, thickness=max(1, _thickness(canvas) - 1), dashed=True)
    else:
        draw_box(canvas, result.box, color)

    if inset and response is not None:
        _draw_inset(canvas, response)

    confidence = float(result.confidence)
    conf_text = f"conf {confidence:.2f}" if np.isfinite(confidence) else "conf n/a"
    text = "  ".join(p for p in (tracker_name, state.value, conf_text) if p)
    scale = _font_scale(canvas)
    (_, th), _ = cv2.getTextSize(text, _FONT, scale, 1)
    _label(canvas, text, (4, th + 4), color, scale)
    return canvas
