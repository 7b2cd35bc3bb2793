"""Square crops around a target, padded with the image mean: the input of every Siamese network.

Follows the SiamFC/pysot convention: a square of side `size_in_image` centred on `center` (pixel
coordinates), parts outside the image filled with the per-channel mean, resized to `out_size`. Its
top-left pixel is round(centre - (side + 1) / 2) (pysot), or with `corner="truncate"` int(centre) -
(side + 1) // 2, the integer arithmetic of OpenCV's TrackerNano (a pixel apart for odd sides).
"""

from __future__ import annotations

import cv2
import numpy as np


def crop_square(
    image: np.ndarray,
    center: np.ndarray,
    size_in_image: float,
    out_size: int,
    pad_value: np.ndarray,
    corner: str = "round",
) -> np.ndarray:
    """Return an (out_size, out_size, 3) uint8 crop of side round(size_in_image) centred on `center`."""
    sz = max(int(round(size_in_image)), 1)
    height, width = image.shape[:2]
    x_min, y_min = _top_left(center, sz, corner)
    x_max = x_min + sz  # exclusive
    y_max = y_min + sz
    left = max(0, -x_min)
    top = max(0, -y_min)
    right = max(0, x_max - width)
    bottom = max(0, y_max - height)
    if left or top or right or bottom:
        # Pad only the part that is needed; a crop far outside the image is all padding.
        # Every bound clamped into the image: a negative end would index from the far side.
        inner = image[min(max(y_min, 0), height) : min(max(y_max, 0), height),
                      min(max(x_min, 0), width) : min(max(x_max, 0), width)]
        patch = np.empty((sz, sz, image.shape[2]), dtype=image.dtype)
        patch[...] = np.asarray(pad_value, dtype=np.float64).round().astype(image.dtype)
        if inner.size:
            patch[top : top + inner.shape[0], left : left + inner.shape[1]] = inner
    else:
        patch = image[y_min:y_max, x_min:x_max]
    if sz != out_size:
        patch = cv2.resize(patch, (out_size, out_size))
    return np.ascontiguousarray(patch)


def _top_left(center: np.ndarray, sz: int, corner: str) -> tuple[int, int]:
    if corner == "truncate":
        return int(center[0]) - (sz + 1) // 2, int(center[1]) - (sz + 1) // 2
    c = (sz + 1) / 2.0
    return int(np.floor(center[0] - c + 0.5)), int(np.floor(center[1] - c + 0.5))

