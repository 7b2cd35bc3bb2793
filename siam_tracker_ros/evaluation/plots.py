"""Success and precision plots of several trackers over a dataset, in the usual OTB/pysot layout, and
the timeline of one out-of-view sequence (IoU, LOST frames, absences) per tracker.

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


ABSENT_COLOR = "#bbbbbb"  # frames with the target out of view
LOST_COLOR = "#d62728"  # frames a tracker reports LOST


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) of each run of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def save_timeline_plot(
    rows: Mapping[str, tuple[np.ndarray, np.ndarray]],
    path,
    title: str,
    absent: np.ndarray | None = None,
    reference: float | None = None,
) -> Path:
    """A tracker run over time, one row per series: a value in [0, 1] per frame (IoU with the ground
    truth, or the tracker's confidence), the frames reported LOST as a red band, and the frames with the
    target out of view in grey: where a tracker says `lost`, how soon it finds the target again and what
    it follows meanwhile show at a glance.

    `rows`: label -> ((N,) values, NaN where there is none; (N,) bool LOST); `absent`: (N,) bool or
    None; `reference`: a dashed level (the re-acquisition IoU, a state threshold) or None."""
    if not rows:
        raise ValueError("a timeline needs at least one row")
    n = len(next(iter(rows.values()))[0])
    absent = np.zeros(n, dtype=bool) if absent is None else np.asarray(absent, dtype=bool)
    frames = np.arange(n)
    fig = Figure(figsize=(10.0, 1.0 + 1.6 * len(rows)), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (label, (values, lost)) in zip(axes, rows.items()):
        values, lost = np.asarray(values, dtype=np.float64), np.asarray(lost, dtype=bool)
        if len(values) != n or len(lost) != n or len(absent) != n:
            raise ValueError(f"{label!r}: {len(values)} values, {len(lost)} states and {len(absent)} absence "
                             f"flags; need {n} of each")
        for first, end in _runs(absent):
            ax.axvspan(first - 0.5, end - 0.5, color=ABSENT_COLOR, linewidth=0)
        for first, end in _runs(lost):
            ax.axvspan(first - 0.5, end - 0.5, ymin=0.0, ymax=0.08, color=LOST_COLOR, linewidth=0)
        ax.plot(frames, values, color="tab:blue", linewidth=1.2)
        if reference is not None:
            ax.axhline(reference, color="black", linewidth=0.6, linestyle="--")
        ax.set_ylim(-0.1, 1.02)
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylabel(label, fontsize="small")
        ax.grid(True, axis="x", alpha=0.3)
    legend = ["red = LOST"] + (["grey = target out of view"] if absent.any() else [])
    legend += [f"dashed = {reference}"] if reference is not None else []
    axes[0].set_title(f"{title}: {', '.join(legend)}", fontsize="medium")
    axes[-1].set_xlabel("frame")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
