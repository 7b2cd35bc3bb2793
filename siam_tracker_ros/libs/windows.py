"""Cosine (Hann) windows that favour small motion between frames, for any score-map size."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

WINDOWS = ("hann", "hann_sqrt")


@lru_cache(maxsize=16)
def cosine_window(size: int, kind: str = "hann") -> np.ndarray:
    """(size, size) float32 window, peak 1 at the centre; read-only.

    hann: outer product of two Hann windows (SiamFC, pysot). hann_sqrt: its square root, what OpenCV's
    `createHanningWindow` returns (used by cv2.TrackerNano) — flatter, so it favours the centre less.
    """
    if kind not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}, got {kind!r}")
    hann = np.hanning(size)
    window = np.outer(hann, hann)
    if kind == "hann_sqrt":
        window = np.sqrt(window)
    window = window.astype(np.float32)
    window.setflags(write=False)
    return window
