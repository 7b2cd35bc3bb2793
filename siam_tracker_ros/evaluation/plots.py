"""Success and precision plots of several trackers over a dataset, in the usual OTB/pysot layout.

Drawn with matplotlib's Agg canvas directly (no pyplot), so saving plots never opens a window nor
changes the process-wide backend of a caller that uses matplotlib interactively.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from siam_tracker_ros.evaluation.metrics import (
    NORM_PRECISION_AT,
    NORM_PRECISION_THRESHOLDS,
    PRECISION_AT,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
)


def _value_at(curve: np.ndarray, thresholds: np.ndarray, at: float) -> float:
    index = int(np.argmin(np.abs(np.asarray(thresholds, dtype=np.float64) - at)))
    return float(curve[index])


_SCORES = {
    "success": (SUCCESS_THRESHOLDS, None),
    "precision": (PRECISION_THRESHOLDS, PRECISION_AT),
    "norm_precision": (NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT),
}


def _ranked(curves: Mapping[str, np.ndarray], kind: str, thresholds) -> list[tuple[str, np.ndarray, float]]:
    """(name, curve, score) best first; the score is the AUC for success, else the value at 20 px / 0.2."""
    if not curves:
        raise ValueError("no curves to plot; evaluate at least one tracker first")
    thresholds = np.asarray(_SCORES[kind][0] if thresholds is None else thresholds, dtype=np.float64)
    at = _SCORES[kind][1]
    ranked = []
    for name, curve in curves.items():
        c = np.asarray(curve, dtype=np.float64)
        if c.shape != thresholds.shape:
            raise ValueError(f"curve of {name!r} has {c.size} points for {thresholds.size} thresholds")
        ranked.append((name, c, float(np.mean(c)) if at is None else _value_at(c, thresholds, at)))
    # Best first; an undefined score (NaN) goes last.
    ranked.sort(key=lambda item: (np.isnan(item[2]), -np.nan_to_num(item[2])))
    return ranked


def legend_labels(curves: Mapping[str, np.ndarray], kind: str = "success", thresholds=None) -> list[str]:
    """Legend entries as plotted, best first: `name [score]`."""
    return [f"{name} [{value:.3f}]" for name, _, value in _ranked(curves, kind, thresholds)]


def _save_plot(
    curves: Mapping[str, np.ndarray],
    path,
    kind: str,
    thresholds,
    title: str,
    xlabel: str,
    ylabel: str,
    legend_loc: str,
) -> Path:
    ranked = _ranked(curves, kind, thresholds)
    thresholds = np.asarray(_SCORES[kind][0] if thresholds is None else thresholds, dtype=np.float64)
    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for name, curve, value in ranked:
        ax.plot(thresholds, curve, linewidth=2, label=f"{name} [{value:.3f}]")
    ax.set_xlim(thresholds[0], thresholds[-1])
    ax.set_ylim(0.0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc=legend_loc, fontsize="small")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def save_success_plot(
    curves: Mapping[str, np.ndarray],
    path,
    title: str = "Success plot of OPE",
    thresholds=None,
) -> Path:
    """Success rate against IoU threshold; the legend shows each tracker's AUC (mean of its curve)."""
    return _save_plot(
        curves,
        path,
        "success",
        thresholds,
        title,
        "Overlap threshold",
        "Success rate",
        "lower left",
    )


def save_precision_plot(
    curves: Mapping[str, np.ndarray],
    path,
    title: str = "Precision plot of OPE",
    thresholds=None,
) -> Path:
    """Precision against centre-error threshold (px); the legend shows the value at 20 px."""
    return _save_plot(
        curves,
        path,
        "precision",
        thresholds,
        title,
        "Location error threshold (px)",
        "Precision",
        "lower right",
    )


def save_norm_precision_plot(
    curves: Mapping[str, np.ndarray],
    path,
    title: str = "Normalized precision plot of OPE",
    thresholds=None,
) -> Path:
    """Normalised precision against normalised centre-error threshold; the legend shows the value at 0.2."""
    return _save_plot(
        curves,
        path,
        "norm_precision",
        thresholds,
        title,
        "Normalized location error threshold",
        "Normalized precision",
        "lower right",
    )
