"""Shared Siamese machinery: penalties, channel order, and the OpenCV-replica variant of NanoTrack."""

import numpy as np
import pytest
import torch

from siam_tracker_ros.errors import ConfigError
from siam_tracker_ros.evaluation.datasets import load_sequence
from siam_tracker_ros.libs.penalties import scale_aspect_penalty
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


@pytest.fixture(scope="module")
def bag_frame(shared_dir):
    seq = load_sequence(shared_dir / "data" / "sequences" / "vot_bag")
    return seq.frame(0), seq.groundtruth[0]


def test_rgb_channel_order_feeds_the_network_reversed_channels(weights, bag_frame):
    image, box = bag_frame
    replica = build_tracker("nano_opencv", device="cpu", cpu_backend="eager")
    nano = build_tracker("nano", device="cpu", cpu_backend="eager")
    assert isinstance(replica, OpenCVReplicaTracker) and replica.config.channel_order == "rgb"
    replica.init(image, box)
    nano.init(np.ascontiguousarray(image[..., ::-1]), box)
    torch.testing.assert_close(replica.template_feat, nano.template_feat, rtol=1e-5, atol=1e-5)
    nano.init(image, box)  # and the order does matter to the network
    assert (replica.template_feat - nano.template_feat).abs().max() > 1e-2


def test_replica_measures_scale_change_against_the_target_position(weights, bag_frame):
    image, box = bag_frame
    replica = build_tracker("nano_opencv", device="cpu")
    replica.init(image, box)
    assert replica.scale_reference(None) == pytest.approx(tuple(box[:2] + box[2:] / 2))
    assert build_tracker("nano", device="cpu").scale_reference(None) is None
    cfg = replica.config
    assert (cfg.window_influence, cfg.penalty_k, cfg.lr) == (0.455, 0.055, 0.37)
