"""OPE metrics on hand-built cases with known answers, plus the report table and the plots."""

import math

import cv2
import numpy as np
import pytest

from siam_tracker_ros.evaluation.datasets import load_sequence
from siam_tracker_ros.evaluation.metrics import (
    SUCCESS_THRESHOLDS,
    SequenceMetrics,
    center_errors,
    dataset_curves,
    evaluate_sequence,
    mean_metrics,
    norm_precision_at,
    norm_precision_curve,
    precision_at,
    precision_curve,
    success_auc,
    success_curve,
)
from siam_tracker_ros.evaluation.plots import (
    legend_labels,
    save_norm_precision_plot,
    save_precision_plot,
    save_success_plot,
    save_timeline_plot,
)
from siam_tracker_ros.evaluation.report import format_table


def _track(n=5, box=(10.0, 20.0, 10.0, 10.0)):
    return np.tile(np.array(box, dtype=np.float64), (n, 1))


def test_perfect_prediction_gives_20_of_21_as_in_pysot():
    gt = _track()
    curve = success_curve(gt, gt)
    # IoU 1.0 is never > 1.0, so the last threshold fails: AUC = 20/21, as pysot reports a perfect run.
    np.testing.assert_array_equal(curve, np.r_[np.ones(20), 0.0])
    assert success_auc(gt, gt) == pytest.approx(20 / 21)
    assert precision_at(gt, gt, 20) == 1.0
    assert precision_curve(gt, gt)[0] == 1.0  # error 0 <= threshold 0
    assert norm_precision_at(gt, gt) == 1.0


def test_shift_by_half_width_gives_iou_one_third():
    gt = _track()
    pred = gt + [5.0, 0.0, 0.0, 0.0]  # 10x10 boxes overlapping 5x10: IoU 50 / 150
    curve = success_curve(pred, gt)
    passed = SUCCESS_THRESHOLDS < 1 / 3  # 0.00 ... 0.30: seven thresholds
    np.testing.assert_array_equal(curve, passed.astype(float))
    assert success_auc(pred, gt) == pytest.approx(7 / 21)
    np.testing.assert_allclose(center_errors(pred, gt), 5.0)
    assert precision_at(pred, gt, 4) == 0.0
    assert precision_at(pred, gt, 5) == 1.0  # <=, as pysot
    assert precision_at(pred, gt, 20) == 1.0
    np.testing.assert_allclose(center_errors(pred, gt, normalized=True), 0.5)
    assert norm_precision_at(pred, gt) == 0.0
    assert norm_precision_curve(pred, gt)[50] == 1.0


def test_mixed_frames_average_and_two_pixel_shift():
    gt = _track(n=5)
    pred = gt.copy()
    pred[1:3, 0] += 2.0  # IoU 80 / 120 = 2/3: passes thresholds up to 0.65 (14 of 21)
    curve = success_curve(pred, gt)
    # frames 1..4 are scored: two perfect (20 thresholds), two at 2/3 (14 thresholds)
    assert success_auc(pred, gt) == pytest.approx((2 * 20 + 2 * 14) / (4 * 21))
    assert curve[13] == 1.0 and curve[14] == 0.5


def test_normalised_error_uses_ground_truth_width_and_height():
    gt = _track(n=3, box=(0.0, 0.0, 20.0, 10.0))
    pred = gt + [2.0, 1.0, 0.0, 0.0]
    np.testing.assert_allclose(center_errors(pred, gt, normalized=True), math.hypot(0.1, 0.1))
    assert norm_precision_at(pred, gt, 0.2) == 1.0
    assert norm_precision_at(pred, gt, 0.14) == 0.0


def test_first_frame_and_absent_ground_truth_are_not_scored():
    gt = _track(n=6)
    gt[3] = np.nan
    pred = gt.copy()
    pred[0] = [500.0, 500.0, 3.0, 3.0]  # the initialisation frame is never scored
    pred[3] = [900.0, 900.0, 10.0, 10.0]  # nor is a frame without the target
    assert success_auc(pred, gt) == pytest.approx(20 / 21)
    assert precision_at(pred, gt) == 1.0
    gt[1:] = np.nan  # nothing left to score: undefined, not zero
    assert np.isnan(success_auc(pred, gt)) and np.isnan(precision_at(pred, gt))


def test_nan_prediction_counts_as_a_miss():
    gt = _track(n=5)
    pred = gt.copy()
    pred[1:3] = np.nan
    assert success_curve(pred, gt)[0] == 0.5  # IoU 0 is not > 0
    assert precision_at(pred, gt, 50) == 0.5  # infinite error
    assert np.isinf(center_errors(pred, gt)[0])


def test_length_mismatch_is_refused():
    with pytest.raises(ValueError, match="one box per frame"):
        success_curve(_track(n=4), _track(n=5))


def test_prediction_equal_to_ground_truth_on_a_real_sequence(shared_dir):
    seq = load_sequence(shared_dir / "data" / "sequences" / "uav123_boat1")
    m = evaluate_sequence(seq.groundtruth, seq.groundtruth, fps=30.0)
    assert m.precision20 == 1.0
    assert m.norm_precision == 1.0
    assert m.auc == pytest.approx(20 / 21)
    assert m.frames == len(seq) and m.fps == 30.0


def _metrics(auc, p20, fps, frames):
    return SequenceMetrics(auc, p20, auc, fps, frames, np.full(21, auc), np.full(51, p20), np.full(51, auc))


def test_mean_over_sequences_and_fps_over_total_time():
    per_seq = {"a": _metrics(0.2, 0.4, 100.0, 100), "b": _metrics(0.6, 0.8, 50.0, 300)}
    m = mean_metrics(per_seq)
    assert m.auc == pytest.approx(0.4) and m.precision20 == pytest.approx(0.6)
    assert m.fps == pytest.approx(400 / (1.0 + 6.0))
    assert m.frames == 400
    curves = dataset_curves({"t": per_seq}, "precision")
    np.testing.assert_allclose(curves["t"], 0.6)


def test_format_table_lists_sequences_means_and_ranked_summary():
    results = {
        "slow": {"seq_a": _metrics(0.2, 0.4, 10.0, 100), "seq_b": _metrics(0.4, 0.6, 10.0, 100)},
        "nano": {"seq_a": _metrics(0.7, 0.9, 200.0, 100), "seq_b": _metrics(0.5, 0.7, 100.0, 100)},
    }
    text = format_table(results)
    assert "Tracker: slow" in text and "Tracker: nano" in text
    assert "seq_a" in text and "mean (2 sequences)" in text
    summary = text.split("Summary")[1].splitlines()
    rows = [line for line in summary if line.startswith(("nano", "slow"))]
    assert rows[0].split()[:4] == ["nano", "2", "0.600", "0.800"]
    assert rows[1].split()[0] == "slow"
    assert "133.3" in rows[0]  # 200 frames in 1.5 s
    widths = {len(line) for line in text.splitlines() if line.startswith(("seq_", "mean"))}
    assert len(widths) == 1  # fixed width


def test_plots_write_png_files_with_ranked_legends(tmp_path):
    curves = {"weak": np.linspace(1, 0, 21), "nano": np.full(21, 0.9)}
    assert legend_labels(curves) == ["nano [0.900]", "weak [0.500]"]
    prec = {"weak": np.linspace(0, 1, 51), "nano": np.ones(51)}
    assert legend_labels(prec, "precision") == ["nano [1.000]", "weak [0.400]"]
    for save, data, name in (
        (save_success_plot, curves, "success.png"),
        (save_precision_plot, prec, "precision.png"),
        (save_norm_precision_plot, prec, "norm.png"),
    ):
        path = save(data, tmp_path / "plots" / name)
        blob = path.read_bytes()
        assert blob.startswith(b"\x89PNG") and len(blob) > 5000
    with pytest.raises(ValueError, match="21 thresholds"):
        save_success_plot({"bad": np.ones(5)}, tmp_path / "bad.png")


def _columns_of(image: np.ndarray, bgr, least: int) -> np.ndarray:
    """Pixel columns of `image` with at least `least` pixels of the colour `bgr` (within 3 levels; the
    anti-aliased edges of text and lines have a few)."""
    hit = np.all(np.abs(image.astype(int) - np.array(bgr)) <= 3, axis=2)
    return np.flatnonzero(hit.sum(axis=0) >= least)


def test_timeline_plot_shows_absence_and_lost_frames_where_they_are(tmp_path):
    """100 frames, the target out of view on 40-59, the tracker LOST on 45-69: the grey band sits in
    the middle of the plot, the red one starts inside it and runs on past its end."""
    n = 100
    absent = np.zeros(n, bool)
    absent[40:60] = True
    lost = np.zeros(n, bool)
    lost[45:70] = True
    iou = np.where(absent, np.nan, 0.8)
    path = save_timeline_plot({"drol_nano": (iou, lost), "nano": (iou, np.zeros(n, bool))},
                              tmp_path / "t" / "seq.png", "seq", absent=absent)
    image = cv2.imread(str(path))
    assert image is not None and image.shape[0] > 200
    grey, red = _columns_of(image, (187, 187, 187), 40), _columns_of(image, (40, 39, 214), 5)
    assert grey.size and red.size
    for band in (grey, red):  # one band each (a grid line may cross it)
        assert len(band) >= 0.95 * (band[-1] - band[0] + 1)
    frame_px = (grey[-1] - grey[0] + 1) / 20  # the absence is 20 frames wide
    assert red[0] == pytest.approx(grey[0] + 5 * frame_px, abs=2)
    assert red[-1] == pytest.approx(grey[-1] + 10 * frame_px, abs=2)
    assert (grey[0] + grey[-1]) / 2 == pytest.approx(image.shape[1] / 2, rel=0.1)
    with pytest.raises(ValueError, match="100 values, 99 states"):
        save_timeline_plot({"short": (iou, lost[:-1])}, tmp_path / "bad.png", "bad", absent=absent)
    with pytest.raises(ValueError, match="at least one row"):
        save_timeline_plot({}, tmp_path / "empty.png", "empty")
