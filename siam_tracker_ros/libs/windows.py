"""Cosine (Hann) windows that favour small motion between frames, for any score-map size."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=16)
def cosine_window(size: int) -> np.ndarray:
    """Outer product of two Hann windows, (size, size) float32, peak 1 at the centre; read-only."""
    hann = np.hanning(size)
    window = np.outer(hann, hann).astype(np.float32)
    window.setflags(write=False)
    return window
