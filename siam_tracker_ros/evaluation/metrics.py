"""One-pass evaluation (OPE) metrics, computed as the pysot / OTB toolkits do.

Conventions (the same as pysot's `toolkit/evaluation/ope_benchmark.py`, so numbers compare with papers):

* success: fraction of frames whose IoU with the ground truth is strictly greater than each threshold of
  `np.linspace(0, 1, 21)`; AUC is the mean of that curve. Because of the strict `>`, the threshold 1.0 is
  never passed, so a perfect tracker scores 20/21 = 0.952, exactly as in pysot.
* precision: fraction of frames whose centre error (pixels) is <= each threshold of `np.arange(0, 51)`;
  the reported value is the one at 20 px.
* normalised precision (pysot's convention, not LaSOT's Matlab one): both centres are divided by the
  ground-truth width and height, i.e. the error is sqrt((dx / gt_w)^2 + (dy / gt_h)^2); thresholds
  `np.arange(0, 51) / 100`, reported value at 0.2.

Where this differs from pysot, on purpose: the first frame (the initialisation box) is not scored, and
frames whose ground truth is absent (NaN, or a non-positive size) are left out of the denominator instead
of counting as failures. A NaN prediction counts as IoU 0 and an infinite centre error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from siam_tracker_ros.libs.boxes import iou_xywh

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64) / 100.0
PRECISION_AT = 20.0
NORM_PRECISION_AT = 0.2


def _as_boxes(boxes, what: str) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{what} must be an N x 4 array of x,y,w,h boxes, got shape {b.shape}")
    return b


def scored_mask(gt: np.ndarray) -> np.ndarray:
    """Frames that count: every frame but the first, whose ground truth is finite with a positive size."""
    gt = _as_boxes(gt, "ground truth")
    mask = np.all(np.isfinite(gt), axis=1) & (np.nan_to_num(gt[:, 2]) > 0) & (np.nan_to_num(gt[:, 3]) > 0)
    mask[:1] = False
    return mask


def _scored_pairs(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred = _as_boxes(pred, "predictions")
    gt = _as_boxes(gt, "ground truth")
    if len(pred) != len(gt):
        raise ValueError(
            f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes; "
            "a result file needs one box per frame"
        )
    mask = scored_mask(gt)
    return pred[mask], gt[mask]


def overlaps(pred, gt) -> np.ndarray:
    """IoU of each scored frame (see module docstring); a NaN prediction gives 0."""
    p, g = _scored_pairs(pred, gt)
    return np.nan_to_num(iou_xywh(p, g), nan=0.0)


def center_errors(pred, gt, normalized: bool = False) -> np.ndarray:
    """Centre distance of each scored frame, in pixels or in ground-truth sizes; NaN prediction -> inf."""
    p, g = _scored_pairs(pred, gt)
    d = (p[:, :2] + p[:, 2:] / 2.0) - (g[:, :2] + g[:, 2:] / 2.0)
    if normalized:
        d = d / g[:, 2:]
    err = np.hypot(d[:, 0], d[:, 1])
    return np.where(np.isnan(err), np.inf, err)


def _curve(values: np.ndarray, thresholds, strict: bool) -> np.ndarray:
    thr = np.asarray(thresholds, dtype=np.float64)
    if values.size == 0:  # nothing to score (every frame absent): undefined, not zero
        return np.full(thr.shape, np.nan)
    hit = values[None, :] > thr[:, None] if strict else values[None, :] <= thr[:, None]
    return hit.mean(axis=1)


def success_curve(pred, gt, thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of scored frames with IoU > each threshold."""
    return _curve(overlaps(pred, gt), thresholds, strict=True)


def success_auc(pred, gt, thresholds=SUCCESS_THRESHOLDS) -> float:
    """Area under the success curve, as the mean of the curve (pysot / OTB)."""
    return float(np.mean(success_curve(pred, gt, thresholds)))


def precision_curve(pred, gt, thresholds=PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of scored frames with a centre error <= each threshold (pixels)."""
    return _curve(center_errors(pred, gt), thresholds, strict=False)


def precision_at(pred, gt, threshold: float = PRECISION_AT) -> float:
    return float(precision_curve(pred, gt, [threshold])[0])


def norm_precision_curve(pred, gt, thresholds=NORM_PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of scored frames with a size-normalised centre error <= each threshold."""
    return _curve(center_errors(pred, gt, normalized=True), thresholds, strict=False)


def norm_precision_at(pred, gt, threshold: float = NORM_PRECISION_AT) -> float:
    return float(norm_precision_curve(pred, gt, [threshold])[0])


@dataclass
class SequenceMetrics:
    """Scores of one tracker on one sequence; the curves are kept for the dataset plots.

    frames: frames in the sequence (the initial one included), used to weight frame rates;
    fps: frames per second the tracker ran at on this sequence.
    """

    auc: float
    precision20: float
    norm_precision: float
    fps: float
    frames: int
    success_curve: np.ndarray | None = field(default=None, repr=False, compare=False)
    precision_curve: np.ndarray | None = field(default=None, repr=False, compare=False)
    norm_precision_curve: np.ndarray | None = field(default=None, repr=False, compare=False)


def evaluate_sequence(pred, gt, fps: float) -> SequenceMetrics:
    """All OPE scores of one run; `pred` and `gt` cover the whole sequence, the first frame included."""
    succ = success_curve(pred, gt)
    prec = precision_curve(pred, gt)
    norm = norm_precision_curve(pred, gt)
    at20 = int(np.flatnonzero(PRECISION_THRESHOLDS == PRECISION_AT)[0])
    at02 = int(np.flatnonzero(np.isclose(NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT))[0])
    return SequenceMetrics(
        auc=float(np.mean(succ)),
        precision20=float(prec[at20]),
        norm_precision=float(norm[at02]),
        fps=float(fps),
        frames=len(np.asarray(gt)),
        success_curve=succ,
        precision_curve=prec,
        norm_precision_curve=norm,
    )


def mean_metrics(per_sequence: Mapping[str, SequenceMetrics]) -> SequenceMetrics:
    """Dataset score: scores and curves averaged over sequences (pysot), fps = total frames / total time.

    Sequences with an undefined score (no scored frame) are left out of that score's mean.
    """
    ms = list(per_sequence.values())
    if not ms:
        return SequenceMetrics(np.nan, np.nan, np.nan, np.nan, 0)

    def nanmean(values) -> float:
        v = np.asarray(values, dtype=np.float64)
        return float(np.mean(v[~np.isnan(v)])) if np.any(~np.isnan(v)) else float("nan")

    def mean_curve(name: str):
        curves = [getattr(m, name) for m in ms if getattr(m, name) is not None]
        if not curves:
            return None
        stacked = np.vstack(curves)
        keep = ~np.all(np.isnan(stacked), axis=1)
        return stacked[keep].mean(axis=0) if np.any(keep) else np.full(stacked.shape[1], np.nan)

    frames = sum(m.frames for m in ms)
    timed = [m for m in ms if np.isfinite(m.fps) and m.fps > 0]
    seconds = sum(m.frames / m.fps for m in timed)
    fps = sum(m.frames for m in timed) / seconds if seconds > 0 else float("nan")
    return SequenceMetrics(
        auc=nanmean([m.auc for m in ms]),
        precision20=nanmean([m.precision20 for m in ms]),
        norm_precision=nanmean([m.norm_precision for m in ms]),
        fps=fps,
        frames=frames,
        success_curve=mean_curve("success_curve"),
        precision_curve=mean_curve("precision_curve"),
        norm_precision_curve=mean_curve("norm_precision_curve"),
    )


def dataset_curves(
    results: Mapping[str, Mapping[str, SequenceMetrics]], kind: str = "success"
) -> dict[str, np.ndarray]:
    """Per tracker, the curve of `kind` ('success', 'precision' or 'norm_precision') averaged over
    sequences: the input of the plots."""
    attr = f"{kind}_curve"
    if attr not in ("success_curve", "precision_curve", "norm_precision_curve"):
        raise ValueError(f"unknown curve kind {kind!r}; use 'success', 'precision' or 'norm_precision'")
    out = {}
    for tracker, per_seq in results.items():
        curve = getattr(mean_metrics(per_seq), attr)
        if curve is not None:
            out[tracker] = curve
    return out
