"""Gaussian label maps for online classifiers, on the same cell grid as the Siamese score maps.

Cell j of an S-cell map sits at (j - S // 2) * stride crop pixels from the crop centre (the convention
of `SiameseTracker._decode`), so a label built here lines up with the Siamese scores without resampling.
"""

from __future__ import annotations

import numpy as np


def gaussian_label(size: int, center_offset, sigma: float) -> np.ndarray:
    """(size, size) float32 Gaussian, peak 1 at `center_offset` (dx, dy) in cells from the map centre."""
    idx = np.arange(size, dtype=np.float64) - size // 2
    gx = np.exp(-0.5 * ((idx - center_offset[0]) / sigma) ** 2)
    gy = np.exp(-0.5 * ((idx - center_offset[1]) / sigma) ** 2)
    return np.outer(gy, gx).astype(np.float32)


def label_sigma(target_size_crop, stride: float, sigma_factor: float = 0.25) -> float:
    """sigma in cells = sigma_factor * sqrt(target area) in cells (ATOM/DROL output_sigma_factor)."""
    w, h = np.asarray(target_size_crop, dtype=np.float64) / stride
    return float(max(sigma_factor * np.sqrt(max(w * h, 1e-6)), 0.25))
