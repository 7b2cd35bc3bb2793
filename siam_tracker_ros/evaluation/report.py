"""Fixed-width text tables of evaluation results, for the terminal and for result folders."""

from __future__ import annotations

import math
from collections.abc import Mapping

from siam_tracker_ros.evaluation.metrics import SequenceMetrics, mean_metrics

_HEADER = ("AUC", "P@20", "NormP", "fps")


def _score(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def _fps(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f}"


def _columns() -> str:
    return f"{_HEADER[0]:>6} {_HEADER[1]:>6} {_HEADER[2]:>6} {_HEADER[3]:>8}"


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def _row(label: str, width: int, frames, m: SequenceMetrics) -> str:
    return (
        f"{label:<{width}} {frames:>7} {_score(m.auc):>6} {_score(m.precision20):>6} "
        f"{_score(m.norm_precision):>6} {_fps(m.fps):>8}"
    )


def format_table(results: Mapping[str, Mapping[str, SequenceMetrics]]) -> str:
    """One table per tracker (a row per sequence, then the mean row) and a side-by-side summary.

    Mean row: scores averaged over sequences (each sequence weighs the same, as in pysot); fps is total
    frames / total time, so long sequences weigh more there. The summary lists trackers by mean AUC.
    """
    if not results:
        return "no results\n"
    names = [s for per_seq in results.values() for s in per_seq]
    width = max([len("sequence"), len("mean (99 sequences)")] + [len(n) for n in names])
    header = f"{'sequence':<{width}} {'frames':>7} " + _columns()
    rule = "-" * len(header)
    lines: list[str] = []
    means: dict[str, SequenceMetrics] = {}
    for tracker, per_seq in results.items():
        mean = mean_metrics(per_seq)
        means[tracker] = mean
        lines += [f"Tracker: {tracker}", header, rule]
        lines += [_row(name, width, m.frames, m) for name, m in per_seq.items()]
        count = f"{len(per_seq)} sequence{'s' if len(per_seq) != 1 else ''}"
        lines += [rule, _row(f"mean ({count})", width, mean.frames, mean), ""]

    twidth = max([len("tracker")] + [len(t) for t in results])
    summary_header = f"{'tracker':<{twidth}} {'seqs':>5} " + _columns()
    order = sorted(means, key=lambda t: (math.isnan(means[t].auc), -_or_zero(means[t].auc)))
    lines += [
        "Summary (mean over sequences; fps = total frames / total time)",
        summary_header,
        "-" * len(summary_header),
    ]
    for tracker in order:
        m = means[tracker]
        lines.append(
            f"{tracker:<{twidth}} {len(results[tracker]):>5} {_score(m.auc):>6} {_score(m.precision20):>6} "
            f"{_score(m.norm_precision):>6} {_fps(m.fps):>8}"
        )
    return "\n".join(lines) + "\n"
