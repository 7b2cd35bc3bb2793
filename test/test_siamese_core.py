"""Shared Siamese machinery (penalties, windows, crops, channel order) and `nano`, the NanoTrack that
reproduces OpenCV's cv2.TrackerNano."""

import numpy as np
import pytest
import torch

from siam_tracker_ros.errors import ConfigError
from siam_tracker_ros.evaluation.datasets import load_sequence
from siam_tracker_ros.evaluation.runner import run_tracker
from siam_tracker_ros.libs.boxes import iou_xywh
from siam_tracker_ros.libs.cropping import crop_square
from siam_tracker_ros.libs.penalties import scale_aspect_penalty
from siam_tracker_ros.libs.windows import cosine_window
from siam_tracker_ros.trackers.nanotrack import OpenCVReplicaTracker
from siam_tracker_ros.trackers.registry import build_tracker
from siam_tracker_ros.trackers.siamese import SiameseConfig


def test_penalty_is_one_for_an_unchanged_box_and_falls_with_change():
    w = np.array([40.0, 40.0, 80.0, 40.0])
    h = np.array([20.0, 40.0, 40.0, 20.0])
    penalty = scale_aspect_penalty(w, h, 40.0, 20.0, 0.15)
    assert penalty[0] == pytest.approx(1.0)
    assert 0 < penalty[1] < 1 and 0 < penalty[2] < 1  # aspect change, scale change
    assert penalty[3] == pytest.approx(1.0)
    same = scale_aspect_penalty(w, h, 40.0, 20.0, 0.15, scale_reference=(40.0, 20.0))
    np.testing.assert_allclose(same, penalty)
    # measured against a large reference (OpenCV's target position), every size looks shrunk
    assert (scale_aspect_penalty(w, h, 40.0, 20.0, 0.15, scale_reference=(300.0, 200.0)) < penalty).all()


def test_channel_order_is_validated():
    with pytest.raises(ConfigError, match="channel_order"):
        SiameseConfig(channel_order="rbg")


def test_near_radius_is_validated():
    with pytest.raises(ConfigError, match="near_radius must be >= 0"):
        SiameseConfig(near_radius=-1.0)


def test_confirmation_must_fit_in_the_probation():
    SiameseConfig(probation_frames=5, confirm_frames=5)
    with pytest.raises(ConfigError, match=r"confirm_frames \(1\) must lie in \[0, probation_frames \(0\)\]"):
        SiameseConfig(probation_frames=0, confirm_frames=1)


@pytest.fixture(scope="module")
def bag_frame(shared_dir):
    seq = load_sequence(shared_dir / "data" / "sequences" / "vot_bag")
    return seq.frame(0), seq.groundtruth[0]


def test_window_kinds():
    hann, flat = cosine_window(16, "hann"), cosine_window(16, "hann_sqrt")
    np.testing.assert_allclose(flat**2, hann, atol=1e-6)
    assert (flat >= hann).all() and (flat > hann + 0.1).any()  # flatter: favours the centre less
    with pytest.raises(ConfigError, match="window"):
        SiameseConfig(window="hamming")


def test_crop_corner_truncates_like_opencv():
    image = np.arange(20 * 20 * 3, dtype=np.uint8).reshape(20, 20, 3)
    pad = np.zeros(3)
    center = np.array([10.7, 10.7])  # odd side 5: corner round(10.7 - 3) = 8 (pysot), int(10.7) - 3 = 7
    np.testing.assert_array_equal(crop_square(image, center, 5, 5, pad), image[8:13, 8:13])
    np.testing.assert_array_equal(crop_square(image, center, 5, 5, pad, corner="truncate"), image[7:12, 7:12])


def test_a_crop_beside_or_beyond_the_image_is_the_image_part_it_covers_and_padding(bag_frame):
    image, _ = bag_frame
    height, width = image.shape[:2]
    pad = np.array([1.0, 2.0, 3.0])
    # wholly left of and above the image (ends negative: they must not wrap to the far side)
    far = crop_square(image, np.array([-300.0, -200.0]), 171, 171, pad)
    assert (far == np.array([1, 2, 3], dtype=np.uint8)).all()
    # straddling the top-left corner: the covered quarter is the image's corner, the rest padding
    corner = crop_square(image, np.array([0.0, 0.0]), 40, 40, pad)
    np.testing.assert_array_equal(corner[20:, 20:], image[:20, :20])
    assert (corner[:20] == np.array([1, 2, 3], dtype=np.uint8)).all()
    # wholly right of and below it
    beyond = crop_square(image, np.array([width + 500.0, height + 500.0]), 99, 99, pad)
    assert (beyond == np.array([1, 2, 3], dtype=np.uint8)).all()


def test_rgb_channel_order_feeds_the_network_reversed_channels(weights, bag_frame):
    image, box = bag_frame
    nano = build_tracker("nano", device="cpu", cpu_backend="eager")
    as_bgr = build_tracker("nano", device="cpu", cpu_backend="eager", overrides={"channel_order": "bgr"})
    assert nano.config.channel_order == "rgb"
    nano.init(image, box)
    as_bgr.init(np.ascontiguousarray(image[..., ::-1]), box)
    torch.testing.assert_close(nano.template_feat, as_bgr.template_feat, rtol=1e-5, atol=1e-5)
    as_bgr.init(image, box)  # and the order does matter to the network
    assert (nano.template_feat - as_bgr.template_feat).abs().max() > 1e-2


def test_nano_measures_scale_change_against_the_target_position(weights, bag_frame):
    image, box = bag_frame
    nano = build_tracker("nano", device="cpu")
    assert isinstance(nano, OpenCVReplicaTracker)
    nano.init(image, box)
    rect = np.round(box)  # OpenCV takes an integer Rect
    assert nano.scale_reference(None) == pytest.approx(tuple(rect[:2] + rect[2:] / 2))
    assert build_tracker("nano_release", device="cpu").scale_reference(None) is None
    cfg = nano.config
    assert (cfg.window_influence, cfg.penalty_k, cfg.lr, cfg.window) == (0.455, 0.055, 0.37, "hann_sqrt")


@pytest.mark.parametrize("sequence", ["vot_ball1", "dtb70_gull2"])
def test_nano_gives_the_boxes_of_opencv_tracker_nano(weights, shared_dir, sequence):
    """The parity check of the native NanoTrack: on real frames `nano` reports the integer boxes
    cv2.TrackerNano reports for the same weights, frame for frame; the release's values do not."""
    seq = load_sequence(shared_dir / "data" / "sequences" / sequence)
    frames = [seq.frame(k) for k in range(40)]
    boxes = {}
    for name in ("cv2_nano", "nano", "nano_release"):
        tracker = build_tracker(name, device="cpu")
        tracker.init(frames[0], seq.groundtruth[0])
        boxes[name] = np.array([tracker.track(frame).box for frame in frames[1:]])
    assert np.abs(boxes["nano"] - boxes["cv2_nano"]).max() <= 1.0
    assert np.abs(boxes["nano_release"] - boxes["cv2_nano"]).max() > 2.0


def test_a_small_target_keeps_a_box_of_its_own_size(weights, shared_dir):
    """UAV123 wakeboard10 starts at 5x4.5 px: drol_nano (min_size 2) follows it with a box of its size;
    pysot's 10 px floor inflates the box and the search around it, and IoU collapses."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "uav123_wakeboard10")
    frames, gt = [seq.frame(k) for k in range(30)], seq.groundtruth[:30]
    ious = {}
    for min_size in (None, 10):
        overrides = None if min_size is None else {"min_size": min_size}
        result = run_tracker(build_tracker("drol_nano", device="cpu", overrides=overrides), frames, gt[0])
        boxes = result.boxes_array()
        ious[min_size] = iou_xywh(boxes, gt)
        if min_size is None:
            assert boxes[:, 2:].max() < 10
    assert ious[None].min() >= 0.3 and ious[None].mean() >= 0.5
    assert ious[10].mean() < ious[None].mean() - 0.2
