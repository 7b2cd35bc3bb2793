"""Long-term mode: hysteresis state machine, held box, enlarged / full-frame re-detection, on real frames."""

import numpy as np
import pytest

from siam_tracker_ros.evaluation.datasets import load_sequence
from siam_tracker_ros.evaluation.out_of_view import out_of_view_metrics
from siam_tracker_ros.evaluation.runner import run_tracker
from siam_tracker_ros.libs.boxes import iou_xywh
from siam_tracker_ros.trackers.base import TrackState
from siam_tracker_ros.trackers.registry import build_tracker
from siam_tracker_ros.trackers.state import StateMachine, StateThresholds


def test_hysteresis():
    sm = StateMachine(StateThresholds(lost_below=0.3, uncertain_below=0.5, found_above=0.7, lost_after=2))
    assert sm.update(0.9) is TrackState.TRACKING
    assert sm.update(0.4) is TrackState.UNCERTAIN
    assert sm.update(0.2) is TrackState.UNCERTAIN  # one low frame is not enough (lost_after=2)
    assert sm.update(0.2) is TrackState.LOST
    assert sm.update(0.6) is TrackState.LOST  # between the thresholds: stays lost
    assert sm.update(0.95, can_recover=False) is TrackState.LOST  # a rejected candidate
    assert sm.update(0.75) is TrackState.TRACKING


def test_tiles_cover_the_frame(weights):
    tracker = build_tracker("nano", device="cpu", overrides={"long_term": True, "max_tiles": 100})
    image = np.zeros((360, 640, 3), np.uint8)
    tracker.init(image, np.array([300.0, 160.0, 20.0, 20.0]))
    side, _ = tracker.search_size(tracker.config.lost_instance_size)
    tiles = tracker.tile_centers(image.shape)
    ys, xs = np.mgrid[0:360:7, 0:640:7]
    covered = np.zeros(xs.shape, bool)
    for cx, cy in tiles:
        covered |= (np.abs(xs - cx) <= side / 2) & (np.abs(ys - cy) <= side / 2)
    assert covered.all() and len(tiles) > 1
    tracker.config.max_tiles = 1  # more tiles than a pass takes: visited in turn
    seen = {tuple(tracker.tile_centers(image.shape)[0]) for _ in range(len(tiles))}
    assert len(seen) == len(tiles)


@pytest.mark.parametrize("name", ["drol_nano"])
def test_lost_while_out_of_view_box_held_and_reacquired(weights, oov, name):
    tracker = build_tracker(name, device="cpu")
    frames = [oov.frames[k] for k in range(len(oov))]
    result = run_tracker(tracker, frames, oov.groundtruth[0])
    metrics = out_of_view_metrics(result.boxes_array(), result.states, oov)
    assert metrics["lost_when_absent"] >= 0.8
    assert metrics["reacquisition_rate"] == 1.0
    assert metrics["lost_when_visible"] < 0.3
    boxes, states = result.boxes_array(), result.states
    for k in range(1, len(states)):
        if states[k] == "lost" and states[k - 1] == "lost":
            assert np.array_equal(boxes[k], boxes[k - 1])  # held, not smeared onto the background
    # the camera panned the target out: the held box stays where it was last in view, not off the image
    height, width = oov.frames[0].shape[:2]
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    assert ((centres >= 0) & (centres <= [width, height])).all()
    conf = np.array(result.confidences)
    absent = oov.absent.copy()
    low = tracker.config.state.lost_below  # a rejected re-detection candidate reports at most this
    assert conf[absent].max() <= low < 0.5 < conf[~absent][1:].mean()


def test_short_term_nano_keeps_moving_its_box(weights, oov):
    """The contrast: without long-term mode nothing is ever LOST and the box wanders over the background
    while the target is away (the failure drol_nano's held box and lost state fix)."""
    tracker = build_tracker("nano", device="cpu")
    assert tracker.config.long_term is False
    frames = [oov.frames[k] for k in range(len(oov))]
    result = run_tracker(tracker, frames, oov.groundtruth[0])
    absent = oov.absent.copy()
    assert absent.sum() >= 12
    states = np.array(result.states)
    assert not (states[absent] == "lost").any()
    moves = np.abs(np.diff(result.boxes_array(), axis=0)).sum(axis=1)
    assert (moves[absent[1:]] > 0).mean() > 0.9, "the box is not held while the target is away"


@pytest.fixture(scope="module")
def bag(shared_dir):
    """vot_bag's first frame and box, the frame with the target 60 px right and 30 px down, a grey frame."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "vot_bag")
    frame, box = seq.frame(0), seq.groundtruth[0]
    return frame, box, np.roll(frame, (30, 60), axis=(0, 1)), np.full_like(frame, 127)


def _lost_on_grey(bag, overrides):
    """drol_nano started on the bag, then shown two grey frames: LOST. Returns it and its held box."""
    frame, box, _, blank = bag
    tracker = build_tracker("drol_nano", device="cpu", overrides=overrides)
    tracker.init(frame, box)
    assert tracker.track(blank).state is TrackState.LOST
    return tracker, tracker.track(blank).box


@pytest.mark.parametrize("probation", [0, 3])
def test_a_redetection_that_does_not_hold_is_undone(weights, bag, probation):
    """Re-detected on a real frame, then the next frame shows nothing like the target: in probation the
    re-detection is taken back (LOST, the box held before it); without probation the box stays."""
    _, box, moved, blank = bag
    tracker, held = _lost_on_grey(bag, {"probation_frames": probation, "confirm_frames": 0,
                                        "probation_min_online": 0.35, "full_frame_after": 0,
                                        "motion_compensation": False})
    found = tracker.track(moved)
    assert found.state is not TrackState.LOST
    assert np.allclose(found.box[:2], box[:2] + [60, 30], atol=10)  # re-detected where it moved
    after = tracker.track(blank)
    if probation:
        assert after.state is TrackState.LOST
        assert np.allclose(after.box, held) and tracker.probation == 0
    else:  # nothing takes the jump back: the box stays far from the one held before it
        assert np.hypot(*(after.box[:2] - held[:2])) > 30


@pytest.mark.parametrize(("confirmed", "probation_check"), [(True, True), (False, True), (False, False)])
def test_a_redetection_is_reported_only_once_confirmed(weights, bag, confirmed, probation_check):
    """With `confirm_frames: 1` the frame that re-detects the target still reports LOST with the held
    box; the next frame reports the target only if it is still there (a one-frame look-alike never
    reaches the controller as a jump of the box). Without the probation check (thresholds 0) the blank
    frame is caught by the confidence instead (grey scores about 0.42: `lost_below` 0.5 here), and the
    box held before the re-detection still stays."""
    _, box, moved, blank = bag
    check = 0.35 if probation_check else 0.0
    overrides = {"probation_frames": 3, "confirm_frames": 1, "probation_min_online": check,
                 "redetect_min_score": 0.5 if probation_check else 0.0,
                 "state": {"lost_below": 0.3 if probation_check else 0.5, "uncertain_below": 0.5,
                           "found_above": 0.7, "lost_after": 1},
                 "full_frame_after": 0, "motion_compensation": False}
    tracker, held = _lost_on_grey(bag, overrides)
    first = tracker.track(moved)
    assert first.state is TrackState.LOST and np.array_equal(first.box, held)
    assert first.confidence <= tracker.config.state.lost_below
    assert np.allclose(tracker.center, box[:2] + box[2:] / 2 + [60, 30], atol=10)  # found, not yet told
    second = tracker.track(moved if confirmed else blank)
    if confirmed:
        assert second.state is not TrackState.LOST
        assert np.allclose(second.box[:2], box[:2] + [60, 30], atol=10)
    else:
        assert second.state is TrackState.LOST and np.array_equal(second.box, held)
        assert tracker.probation == 0


def test_the_confirming_frame_needs_the_confirmation_gate(weights, bag):
    """The bag re-detected after grey frames (still reported LOST), then shown again: the classifier's
    score on the confirming frame's normal crop is measured there. A `confirm_min_online` just above it
    undoes the re-detection (LOST, the box held before), one just below reports the target. The
    first-frame look is off, so the gate alone decides."""
    _, box, moved, _ = bag

    def confirmed_by(gate):
        tracker, held = _lost_on_grey(bag, {"probation_frames": 3, "confirm_frames": 1,
                                            "confirm_min_online": gate, "probation_min_online": 0.0,
                                            "rescue_min_similarity": 0.0, "in_place_radius": 0.0,
                                            "full_frame_after": 0, "motion_compensation": False})
        found = tracker.track(moved)
        assert found.state is TrackState.LOST and np.array_equal(found.box, held)  # found, not yet told
        return tracker, held, tracker.track(moved)

    tracker, _, told = confirmed_by(0.0)
    assert told.state is not TrackState.LOST
    assert np.allclose(told.box[:2], box[:2] + [60, 30], atol=10)
    score = tracker.last_scores[1]
    _, held, refused = confirmed_by(score + 0.02)
    assert refused.state is TrackState.LOST and np.array_equal(refused.box, held)
    assert confirmed_by(score - 0.02)[2].state is not TrackState.LOST


@pytest.mark.parametrize("radius", [0.5, 0.0])
def test_a_target_lost_in_view_is_found_again_in_place(weights, shared_dir, radius):
    """dtb70_gull2: the gliding gull turns (Siamese score 0.97 -> 0.07 in 3 frames) and the tracker goes LOST
    near frame 42 while the gull stays where it was; from then on the classifier scores it 0.3-0.4, below
    its 0.5 re-detection gate, while another gull scores 0.5-0.65 and crosses it near frame 79. With
    `in_place_radius` the gull found in place needs only the probation's score and is followed again
    before the crossing; without it the tracker stays lost, then takes the other gull."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "dtb70_gull2")
    frames, truth = [seq.frame(k) for k in range(82)], seq.groundtruth[:82]
    tracker = build_tracker("drol_nano", device="cpu", overrides={"in_place_radius": radius})
    result = run_tracker(tracker, frames, truth[0])
    states, ious = np.array(result.states), iou_xywh(result.boxes_array(), truth)
    lost = np.flatnonzero(states == "lost")
    assert 30 < lost[0] < 50 and ious[lost[0]] > 0.5  # lost while the box was still on the gull
    found = (states[lost[0]:] != "lost") & (ious[lost[0]:] >= 0.5)
    if radius:
        assert found.any() and (ious[-3:] >= 0.5).all()
    else:
        assert not found.any() and (ious[-3:] < 0.1).all()


def test_a_redetection_needs_the_evidence_it_is_configured_to_need(weights, bag):
    """The target shown again after a blank frame is re-detected with the default evidence gate (off);
    its evidence (online + Siamese logit / 10, clipped) is measured there, and a gate just above it keeps
    the tracker LOST with its box held, one just below lets it through."""
    frame, box, _, _ = bag

    def shown_again(min_evidence):
        tracker, held = _lost_on_grey(bag, {"redetect_min_evidence": min_evidence, "confirm_frames": 0,
                                            "full_frame_after": 0, "motion_compensation": False})
        return tracker, held, tracker.track(frame)

    tracker, _, again = shown_again(0.0)
    assert again.state is not TrackState.LOST
    assert np.allclose(again.box[:2] + again.box[2:] / 2, box[:2] + box[2:] / 2, atol=10)
    evidence = tracker.last_scores[1] + float(np.clip(tracker.last_logit, -5.0, 15.0)) / 10
    _, held, refused = shown_again(evidence + 0.02)
    assert refused.state is TrackState.LOST and np.array_equal(refused.box, held)
    assert shown_again(evidence - 0.02)[2].state is not TrackState.LOST


@pytest.mark.parametrize(("min_similarity", "min_online", "min_extent", "found"),
                         [(0.0, 0.0, 0.0, False), (0.88, 0.0, 0.0, True), (0.88, 5.0, 0.0, False),
                          (0.88, 0.0, 1000.0, False)])
def test_a_redetection_the_classifier_doubts_passes_on_the_first_frame_look(weights, bag, min_similarity,
                                                                           min_online, min_extent, found):
    """The classifier's gate set out of reach (`redetect_min_online` 5; the bag comes back where it was
    lost, so the in-place gate is off too): the bag shown again is
    re-detected only through its likeness to the first frame's target (`rescue_min_similarity`), and
    not when the classifier's score is below `rescue_min_online` or the drawn target is smaller than
    `rescue_min_extent`."""
    frame, box, _, _ = bag
    tracker, held = _lost_on_grey(bag, {"redetect_min_online": 5.0, "rescue_min_similarity": min_similarity,
                                        "rescue_min_online": min_online, "rescue_min_extent": min_extent,
                                        "confirm_frames": 0, "full_frame_after": 0, "in_place_radius": 0.0,
                                        "motion_compensation": False})
    again = tracker.track(frame)
    if found:
        assert again.state is not TrackState.LOST
        assert np.allclose(again.box[:2] + again.box[2:] / 2, box[:2] + box[2:] / 2, atol=10)
    else:
        assert again.state is TrackState.LOST and np.array_equal(again.box, held)


def test_the_first_frame_look_tells_the_target_from_its_surroundings(weights, shared_dir):
    """On vot_bag 40 frames on (the bag moved and turned), the bag's exemplar looks more like the first
    frame's bag than any same-size box around it; the first frame's own box is the template itself."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "vot_bag")
    tracker = build_tracker("drol_nano", device="cpu")
    first = seq.groundtruth[0]
    tracker.init(seq.frame(0), first)
    drawn = np.r_[first[:2] + first[2:] / 2, first[2:]]
    assert tracker.first_frame_similarity(seq.frame(0), drawn)[0] > 0.999
    later, gt = seq.frame(40), seq.groundtruth[40]
    target = np.r_[gt[:2] + gt[2:] / 2, gt[2:]]
    shifts = [(dx, dy) for dx in (-2, 0, 2) for dy in (-2, 0, 2) if (dx, dy) != (0, 0)]
    boxes = np.array([target] + [target + [dx * gt[2], dy * gt[3], 0, 0] for dx, dy in shifts])
    sims = tracker.first_frame_similarity(later, boxes)  # one batch
    assert sims.shape == (len(boxes),)
    assert sims[0] > sims[1:].max() + 0.05


@pytest.mark.parametrize("near_radius", [0.0, 1.0])
def test_a_target_lost_in_view_is_first_looked_for_where_it_was(weights, bag, near_radius):
    """Lost in view (grey frames), then the bag shows up 200 px (1.4 target sizes) left of where it was
    lost, as a look-alike would. Without `near_radius` the enlarged near search takes it at once; with
    it (1 target size) the tracker stays LOST with its box held while it searches near, and finds the bag
    when the full-frame search starts (`full_frame_after`)."""
    frame, box, _, _ = bag
    far = np.roll(frame, -200, axis=1)
    tracker, held = _lost_on_grey(bag, {"near_radius": near_radius, "full_frame_after": 4,
                                        "confirm_frames": 0, "distractor_memory": False,
                                        "motion_compensation": False})
    results = [tracker.track(far) for _ in range(3)]  # lost frames 2 and 3 search near, 4 the frame
    expected_centre = box[:2] + box[2:] / 2 - [200, 0]
    found = [r.state is not TrackState.LOST and np.hypot(*(r.box[:2] + r.box[2:] / 2 - expected_centre)) < 20
             for r in results]
    if near_radius:
        assert found == [False, False, True]
        assert all(np.array_equal(r.box, held) for r in results[:2])
    else:
        assert found[0]
