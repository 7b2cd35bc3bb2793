"""Camera motion (phase correlation), the expected target box, and out-of-view detection on real frames."""

import numpy as np
import pytest

from siam_tracker_ros.evaluation.datasets import load_sequence
from siam_tracker_ros.libs.boxes import visible_fraction
from siam_tracker_ros.libs.motion import CameraMotion, ExpectedTarget
from siam_tracker_ros.trackers.base import TrackState
from siam_tracker_ros.trackers.registry import build_tracker


@pytest.fixture(scope="module")
def scene(shared_dir):
    """A real 640x360 UAV frame (static scene) and its first ground-truth box."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "uav123_person12_1")
    return next(iter(seq.frames())), seq.groundtruth[0]


def _window(frame, x, y, w=320, h=180):
    assert x >= 0 and x + w <= frame.shape[1] and y >= 0 and y + h <= frame.shape[0]
    return np.ascontiguousarray(frame[y : y + h, x : x + w])


@pytest.mark.parametrize("dx,dy", [(0, 0), (13, -7), (-60, 25)])
def test_camera_motion_recovers_a_pan(scene, dx, dy):
    frame, _ = scene
    motion = CameraMotion()
    motion.reset(_window(frame, 160, 90))
    shift = motion.update(_window(frame, 160 + dx, 90 + dy))  # camera moves by +d: content by -d
    assert np.allclose(shift, [-dx, -dy], atol=1.5), shift


def test_camera_motion_reports_zero_without_texture():
    motion = CameraMotion()
    flat = np.full((240, 320, 3), 90, np.uint8)
    motion.reset(flat)
    assert np.array_equal(motion.update(flat), np.zeros(2))
    assert motion.response < motion.min_response


def test_visible_fraction_and_expected_target():
    shape = (100, 200, 3)
    assert visible_fraction(np.array([100.0, 50.0, 20.0, 20.0]), shape) == 1.0
    assert visible_fraction(np.array([200.0, 50.0, 20.0, 20.0]), shape) == pytest.approx(0.5)
    assert visible_fraction(np.array([211.0, 50.0, 20.0, 20.0]), shape) == 0.0
    expected = ExpectedTarget()
    expected.observe(np.array([100.0, 50.0, 20.0, 20.0]))
    for _ in range(3):
        expected.follow(np.array([5.0, -2.0]))
    assert np.allclose(expected.box, [115.0, 44.0, 20.0, 20.0]) and expected.frames_unseen == 3


def _pan_away(frame, box, frames=9, step=25):
    """A camera that holds still, then pans right by `step` px per frame over a static real scene:
    the target slides out of the left border. Returns the windows and the target's true boxes."""
    x0, y0 = int(box[0] + box[2] / 2 - 160), int(box[1] + box[3] / 2 - 90)
    xs = [x0] * 5 + [x0 + step * k for k in range(1, frames + 1)]
    windows = [_window(frame, x, y0) for x in xs]
    truth = [np.array([box[0] - x, box[1] - y0, box[2], box[3]]) for x in xs]
    return windows, truth


def test_out_of_view_by_camera_motion_is_lost_at_once(weights, scene):
    frame, box = scene
    windows, truth = _pan_away(frame, box)
    tracker = build_tracker("drol_nano", device="cpu", overrides={"motion_compensation": True})
    tracker.init(windows[0], truth[0])
    states, expected = [], []
    for image in windows[1:]:
        states.append(tracker.track(image).state)
        expected.append(tracker.expected.box[:2].copy())
    width = windows[0].shape[1]
    gone = [k for k, t in enumerate(truth[1:]) if t[0] + t[2] <= 0]  # entirely out of the frame
    visible = [k for k, t in enumerate(truth[1:]) if t[0] >= 0 and t[0] + t[2] <= width]
    assert len(gone) >= 3 and all(states[k] is TrackState.LOST for k in gone[1:])  # from the 2nd absent frame
    assert all(states[k] is not TrackState.LOST for k in visible)
    # the expected box follows the pan out of the frame (camera shift measured, not guessed)
    centre = [t[:2] + t[2:] / 2 for t in truth[1:]]
    errors = [np.hypot(*(expected[k] - centre[k])) for k in gone[:3]]
    assert max(errors) < 0.5 * max(box[2], box[3]), errors
