"""DROL on NanoTrack v2 (siam_tracker_ros.trackers.drol) on real frames from the shared folder."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from siam_tracker_ros.evaluation.datasets import load_sequence
from siam_tracker_ros.libs.boxes import iou_xywh
from siam_tracker_ros.trackers import registry
from siam_tracker_ros.trackers.drol import (
    HARD_NEGATIVE,
    NORMAL,
    NOT_FOUND,
    UNCERTAIN,
    OnlineClassifier,
    OnlineConfig,
)
from siam_tracker_ros.trackers.registry import build_tracker
from siam_tracker_ros.trackers.siamese import SiameseTracker


@pytest.fixture(scope="module")
def drol(weights):
    return build_tracker("drol_nano", device="cpu")  # module scope: one initialisation for the clip tests


@pytest.fixture(scope="module")
def ball(shared_dir):
    return load_sequence(shared_dir / "data" / "sequences" / "vot_ball1")


def test_default_tracker_is_drol_nano():
    assert registry.DEFAULT_TRACKER == "drol_nano"
    config = registry.load_config("drol_nano")
    assert config["type"] == "drol" and config["tracking"]["long_term"] is True
    assert registry.load_config("nano")["tracking"].get("long_term", False) is False


def test_every_drol_value_names_its_source():
    path = Path(registry.config_dir()) / "drol_nano.yaml"
    lines = path.read_text().splitlines()
    leaves = [ln for ln in lines if ":" in ln and not ln.strip().startswith("#")
              and not ln.rstrip().endswith(":")]
    missing = [ln for ln in leaves if "#" not in ln and ln.split(":")[0].strip() not in
               ("type", "description", "version")]
    assert not missing, missing
    assert yaml.safe_load(path.read_text())["tracking"]["online"]["memory_size"] == 250


@pytest.fixture(scope="module")
def clip(drol, ball):
    """One initialisation, the classifier's first-frame map, 25 tracked frames, then a frame without
    the target (painted over with the mean colour)."""
    frame, box = ball.frame(0), ball.groundtruth[0]
    drol.init(frame, box)
    first_map = drol.online_scores(drol.search(frame, [drol.center])[0])
    init_stored = drol.classifier.num_stored
    ious, confs, outs = [], [], []
    for k in range(1, 26):
        out = drol.track(ball.frame(k))
        outs.append(out)
        ious.append(float(iou_xywh(out.box[None], ball.groundtruth[k][None])[0]))
        confs.append(out.confidence)
    x, y, w, h = ball.groundtruth[25].astype(int)
    blank = ball.frame(25).copy()
    blank[max(0, y - h) : y + 2 * h, max(0, x - w) : x + 2 * w] = frame.mean(axis=(0, 1)).astype(np.uint8)
    blank_conf = drol.track(blank).confidence
    return {"first_map": first_map, "init_stored": init_stored, "ious": ious, "confs": confs,
            "outs": outs, "blank_conf": blank_conf}


def test_first_frame_classifier_peaks_on_target(drol, clip):
    clf = drol.classifier
    assert clf.num_init == 30  # 23 augmented crops + 7 dropout copies (paper L566: 30)
    assert clf.init_losses[-1] < 0.5 * clf.init_losses[0]
    score = clip["first_map"]
    r, c = np.unravel_index(np.argmax(score), score.shape)
    centre = score.shape[0] // 2
    assert abs(r - centre) <= 1 and abs(c - centre) <= 1
    assert score.max() > 0.5
    assert np.median(score) < 0.2  # away from the target the classifier answers low


def test_drol_tracks_short_clip_with_high_confidence(drol, clip):
    for out in clip["outs"]:
        assert 0.0 <= out.confidence <= 1.0
        assert out.response.dtype == np.float32 and out.response.max() <= 1.0
    assert np.mean(clip["ious"]) > 0.6
    assert np.median(clip["confs"]) > 0.7
    assert drol.classifier.num_stored > clip["init_stored"]  # samples were added


def test_confidence_is_low_on_a_frame_without_the_target(clip):
    assert clip["blank_conf"] < 0.3 < np.median(clip["confs"])


def test_sample_memory_keeps_initial_samples():
    torch.manual_seed(0)
    cfg = OnlineConfig(memory_size=5)
    clf = OnlineClassifier(8, cfg)
    feats = torch.randn(4, 8, 16, 16)
    labels = torch.rand(4, 16, 16)
    cfg.init_gn_iter = 1
    clf.initialize(feats, labels)
    init = clf.samples[:4].clone()
    for k in range(12):
        clf.add_sample(torch.full((1, 64, 16, 16), float(k)), torch.zeros(16, 16), 0.01)
    assert torch.equal(clf.samples[:4], init)
    assert clf.num_stored == 9
    assert float(clf.weights.sum()) == pytest.approx(1.0)
    assert float(clf.weights[:4].sum()) >= cfg.init_min_weight - 1e-6
    assert float(clf.samples[4:9].amax()) == 11.0  # the newest sample is in memory


def test_filter_solve_minimises_the_weighted_loss_of_the_memory():
    """The refit's GEMM operator on the padded pixel-major memory solves the same least squares as
    the conv formulation: at its solution the conv loss's gradient vanishes (checked with autograd)."""
    torch.manual_seed(0)
    cfg = OnlineConfig(memory_size=6, init_gn_iter=1, init_cg_iter=2, filter_reg=0.1)
    clf = OnlineClassifier(8, cfg)
    clf.initialize(torch.randn(3, 8, 12, 12), torch.rand(3, 12, 12))
    for _ in range(4):
        clf.add_sample(torch.randn(1, cfg.compressed_dim, 12, 12), torch.rand(12, 12), 0.2)
    clf.optimize_filter(200)
    n = clf.num_stored

    def gradient(f):
        f = f.clone().requires_grad_(True)
        residual = torch.nn.functional.conv2d(clf._pad(clf.samples[:n]), f)[:, 0] - clf.labels[:n]
        loss = (clf.weights[:n].view(-1, 1, 1) * residual**2).sum() + cfg.filter_reg * (f**2).sum()
        return torch.autograd.grad(loss, f)[0]

    start = float(gradient(torch.zeros_like(clf.filter)).norm())
    assert float(gradient(clf.filter).norm()) < 1e-3 * start
    padded = clf._memory[:n].clone()
    padded[:, 2:14, 2:14] = 0.0  # filter_size 4 pads 2 before, 1 after: only the border is left
    assert float(padded.abs().max()) == 0.0  # the memory's padding stays zero as samples arrive


def _classifier(**config) -> OnlineClassifier:
    torch.manual_seed(1)
    clf = OnlineClassifier(8, OnlineConfig(memory_size=20, init_gn_iter=1, init_cg_iter=2, **config))
    clf.initialize(torch.randn(3, 8, 12, 12), torch.rand(3, 12, 12))
    return clf


def test_a_refit_spread_over_frames_ends_where_the_whole_solve_does_and_keeps_what_came_meanwhile():
    """cg_per_frame spreads a CG solve over frames (no frame carries all of it). It must end at the
    filter the released code's all-at-once solve gives on the same memory; samples arriving meanwhile
    wait and join the memory after it (the solve sees a fixed memory)."""
    whole, spread = _classifier(cg_per_frame=0, update_every=3), _classifier(cg_per_frame=1, update_every=3)
    torch.manual_seed(2)
    frames = [(torch.randn(1, 64, 12, 12), torch.rand(12, 12)) for _ in range(8)]
    started = []
    for k, (x, label) in enumerate(frames[:3]):
        assert whole.update(x, label, NORMAL) is (k == 2)  # a refit every update_every frames
        started.append(spread.update(x, label, NORMAL))
    assert started == [False, False, True] and spread._solver is not None
    assert spread.num_stored == whole.num_stored == 6
    for x, label in frames[3:7]:  # iterations 2-5 of the solve, one a frame; the samples wait
        spread.update(x, label, NORMAL)
        assert spread._solver is not None and spread.num_stored == 6
    assert torch.allclose(spread.filter, whole.filter, atol=1e-5)
    spread.update(*frames[7], NORMAL)  # the frame after the last iteration closes the solve
    assert spread._solver is None and spread.num_stored == 6 + 5
    assert torch.equal(spread.samples[10], frames[7][0][0]), "the waiting samples joined in order"


def test_no_samples_are_taken_from_frames_flagged_absent_or_ambiguous():
    clf = _classifier(update_every=100)
    x, label = torch.randn(1, 64, 12, 12), torch.rand(12, 12)
    for flag in (NOT_FOUND, UNCERTAIN):
        clf.update(x, label, flag)
    assert clf.num_stored == 3
    clf.update(x, label, HARD_NEGATIVE)  # kept, with the doubled weight, and refitted at once
    assert clf.num_stored == 4 and clf._solver is not None


def test_flags():
    clf = OnlineClassifier(8, OnlineConfig())
    m = np.zeros((16, 16), np.float32)
    assert clf.flag(m + 0.1, (2, 2)) == NOT_FOUND
    m[8, 8] = 1.0
    assert clf.flag(m, (2, 2)) == NORMAL
    m2 = m.copy()
    m2[8, 13] = 0.9  # a near-equal second peak, both close to the centre: ambiguous
    assert clf.flag(m2, (2, 2)) == UNCERTAIN
    m3 = m.copy()
    m3[1, 1] = 0.6  # a clear distractor
    assert clf.flag(m3, (2, 2)) == HARD_NEGATIVE


def test_drol_is_a_siamese_plugin(drol):
    assert isinstance(drol, SiameseTracker)
    assert drol.online_weight == pytest.approx(0.8)


@pytest.mark.parametrize(("template_update", "threshold", "built"),
                         [(True, 0.3, True), (True, 1.5, False), (False, 0.3, False)])
def test_the_short_term_template_comes_from_a_confident_frame_every_interval(weights, ball, template_update,
                                                                            threshold, built):
    """DROL's z_s (paper L579-582): every `template_interval` frames the best frame whose classifier peak
    passed `template_threshold` becomes the short-term template, an 8x8 feature like the first one's;
    none when no frame passes (on this clip the peak stays below the paper's 0.75) or with
    `template_update` off."""
    tracker = build_tracker("drol_nano", device="cpu", overrides={"template_update": template_update,
                                                                  "template_threshold": threshold})
    tracker.init(ball.frame(0), ball.groundtruth[0])
    interval = tracker.drol.template_interval
    for k in range(1, interval):
        tracker.track(ball.frame(k))
        assert tracker.short_template is None, "none before the first interval ends"
    for k in range(interval, 3 * interval + 1):
        tracker.track(ball.frame(k))
    assert (tracker.short_template is not None) is built
    if built:
        assert tracker.short_template.shape == tracker.template_feat.shape
        assert not torch.equal(tracker.short_template, tracker.template_feat)  # a later look


@pytest.mark.parametrize("name", ["nano_v1", "nano_v3"])
def test_the_other_nanotrack_versions_track_real_frames(weights, ball, name):
    tracker = build_tracker(name, device="cpu")
    tracker.init(ball.frame(0), ball.groundtruth[0])
    ious = [float(iou_xywh(tracker.track(ball.frame(k)).box[None], ball.groundtruth[k][None])[0])
            for k in range(1, 20)]
    assert np.mean(ious) > 0.5 and min(ious) > 0.2, ious
