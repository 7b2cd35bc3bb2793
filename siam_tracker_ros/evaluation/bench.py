"""Speed benchmark: frames per second and per-frame latency of trackers on the same real frames."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from siam_tracker_ros.trackers.base import Tracker


@dataclass
class BenchResult:
    name: str
    frames: int
    fps: float
    median_ms: float
    p95_ms: float

    @classmethod
    def from_times(cls, name: str, seconds: list[float]) -> BenchResult:
        ms = np.asarray(seconds) * 1000.0
        fps = 1000.0 / float(ms.mean())
        return cls(name, len(ms), fps, float(np.median(ms)), float(np.percentile(ms, 95)))


def bench_tracker(tracker: Tracker, frames: list[np.ndarray], init_box: np.ndarray, warmup: int = 10
                  ) -> BenchResult:
    """Init on frames[0], track the rest; the first `warmup` track calls are not timed."""
    tracker.init(frames[0], init_box)
    times = []
    for index, image in enumerate(frames[1:]):
        start = time.perf_counter()
        tracker.track(image)
        if index >= warmup:
            times.append(time.perf_counter() - start)
    return BenchResult.from_times(tracker.name, times)


def bench_redetection(tracker, frame: np.ndarray, init_box: np.ndarray, repeats: int = 10
                      ) -> tuple[float, float, int] | None:
    """(median ms, p95 ms, tiles) of one full-frame re-detection pass (enlarged crops tiling the frame,
    one batched forward pass and their scoring), for trackers with long-term mode; None otherwise."""
    config = getattr(tracker, "config", None)
    if not getattr(config, "long_term", False):
        return None
    tracker.init(frame, init_box)
    times = []
    for _ in range(repeats + 1):
        centers = tracker.tile_centers(frame.shape)
        start = time.perf_counter()
        tracker.search(frame, centers, config.lost_instance_size)
        times.append(time.perf_counter() - start)
    ms = np.asarray(times[1:]) * 1000.0
    return float(np.median(ms)), float(np.percentile(ms, 95)), len(centers)


def format_bench(results: list[BenchResult], reference: str | None = None) -> str:
    ref = next((r for r in results if r.name == reference), None)
    lines = [f"{'tracker':<14}{'frames':>8}{'fps':>9}{'median ms':>11}{'p95 ms':>9}"
             + (f"{'fps / ' + reference:>18}" if ref else "")]
    for r in results:
        line = f"{r.name:<14}{r.frames:>8}{r.fps:>9.1f}{r.median_ms:>11.2f}{r.p95_ms:>9.2f}"
        if ref:
            line += f"{r.fps / ref.fps:>18.2f}"
        lines.append(line)
    return "\n".join(lines)
