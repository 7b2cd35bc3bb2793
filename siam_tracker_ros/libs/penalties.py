"""Scale and aspect-ratio change penalties and size smoothing (SiamRPN/pysot formulation).

A candidate box whose size or aspect ratio differs much from the previous frame's is penalised by
exp(-(r_c * s_c - 1) * k), so the tracker prefers boxes that change little between frames.
"""

from __future__ import annotations

import numpy as np


def _change(ratio: np.ndarray) -> np.ndarray:
    return np.maximum(ratio, 1.0 / ratio)


def _padded_size(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


def scale_aspect_penalty(
    pred_w: np.ndarray, pred_h: np.ndarray, prev_w: float, prev_h: float, penalty_k: float,
    scale_reference: tuple[float, float] | None = None,
) -> np.ndarray:
    """Penalty in (0, 1] per candidate; sizes are all in the same (crop) coordinates.

    `scale_reference` is the (w, h) the scale change is measured against, the previous size by default
    (OpenCV's TrackerNano passes the target's image position there, and so does our `nano`).
    """
    pred_w = np.maximum(pred_w, 1e-6)
    pred_h = np.maximum(pred_h, 1e-6)
    ref_w, ref_h = (prev_w, prev_h) if scale_reference is None else scale_reference
    s_c = _change(_padded_size(pred_w, pred_h) / _padded_size(np.float64(ref_w), np.float64(ref_h)))
    r_c = _change((prev_w / prev_h) / (pred_w / pred_h))
    return np.exp(-(r_c * s_c - 1.0) * penalty_k)


def smooth_size(prev: np.ndarray, new: np.ndarray, lr: float) -> np.ndarray:
    """Exponential smoothing of the box size: lr = 0 keeps the old size, 1 takes the new one."""
    return prev * (1.0 - lr) + new * lr
