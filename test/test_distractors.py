"""The look-alike memory (libs/distractors.py) and what it does for re-detection on real frames."""

import numpy as np
import pytest

from siam_tracker_ros.evaluation.datasets import load_sequence
from siam_tracker_ros.evaluation.out_of_view import build_out_of_view
from siam_tracker_ros.libs.distractors import DistractorMemory, local_peaks
from siam_tracker_ros.trackers.base import TrackState
from siam_tracker_ros.trackers.registry import build_tracker


def test_local_peaks_are_the_maxima_of_their_neighbourhood_above_the_floor():
    score = np.zeros((8, 8))
    score[2, 2], score[2, 3] = 0.9, 0.8  # one blob: one peak
    score[6, 5] = 0.6
    score[0, 7] = 0.3                     # below the floor
    assert sorted(local_peaks(score, 0.5).tolist()) == [2 * 8 + 2, 6 * 8 + 5]


def test_memory_follows_associates_blocks_and_forgets():
    memory = DistractorMemory(radius=1.0, max_unseen=3)
    size = 20.0
    memory.observe([np.array([100.0, 50.0])], size, frame=1, add=False)
    assert memory.entries == []  # not added while the target is not known to be elsewhere
    memory.observe([np.array([100.0, 50.0])], size, frame=1, add=True)
    memory.follow(np.array([5.0, 0.0]))  # the camera moved the scene
    assert np.allclose(memory.entries[0].position, [105.0, 50.0])
    memory.observe([np.array([112.0, 52.0])], size, frame=2, add=False)  # within half the radius: same one
    assert len(memory.entries) == 1 and np.allclose(memory.entries[0].position, [112.0, 52.0])
    memory.observe([np.array([140.0, 52.0])], size, frame=3, add=False)  # too far: another object
    assert np.allclose(memory.entries[0].position, [112.0, 52.0])
    xs, ys = np.meshgrid([112.0, 125.0, 140.0], [52.0])
    assert memory.blocked(np.stack([xs, ys]), size).tolist() == [[True, True, False]]
    memory.observe([], size, frame=6, add=False)  # unseen for 4 > 3 frames
    assert memory.entries == []


def test_a_census_entry_follows_its_peak_while_lost_but_is_not_renewed():
    """A frame scan may have been made while the tracker was on the wrong object, so what it remembered
    may be the target: while lost it must expire, whereas a look-alike seen beside the target (also one
    the census found first) is renewed."""
    memory = DistractorMemory(radius=1.0, max_unseen=3)
    size = 20.0
    memory.observe([np.array([100.0, 50.0])], size, frame=1, add=True, census=True)
    memory.observe([np.array([300.0, 50.0])], size, frame=1, add=True)
    for frame in (2, 3, 4, 5):
        memory.observe([np.array([100.0 + frame, 50.0]), np.array([300.0, 50.0])], size, frame, add=False,
                       lost=True)
        if frame <= 4:
            assert np.allclose(memory.entries[0].position, [100.0 + frame, 50.0])  # followed
    assert [e.position[0] for e in memory.entries] == [300.0]  # the census entry is gone after 3 frames
    memory.observe([np.array([100.0, 50.0])], size, frame=6, add=True, census=True)
    memory.observe([np.array([102.0, 50.0])], size, frame=7, add=True)  # then seen beside the target
    for frame in (8, 9, 10, 11):
        memory.observe([np.array([102.0, 50.0])], size, frame, add=False, lost=True)
    assert [e.position[0] for e in memory.entries] == [102.0]  # renewed like any look-alike


@pytest.fixture(scope="module")
def basketball_exit(shared_dir):
    """otb_basketball's out-of-view sequence (seed 0): the camera pans the target out of the left
    border while a team-mate, who has run beside it, stays in view."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "otb_basketball")
    return build_out_of_view(seq, 0)


@pytest.mark.parametrize("memory", [False, True])
def test_a_look_alike_seen_beside_the_target_is_not_redetected(weights, basketball_exit, memory):
    """Without the memory re-detection takes the team-mate (Siamese 0.99, online 0.8) and the
    tracker follows it through the absence; with it the tracker stays LOST while the target is away,
    and says what it remembered. Started from frame 250; the confirmation asks only the probation's
    classifier score (0.35), which the team-mate passes, so that the memory alone decides."""
    oov = basketball_exit
    start, (exit_frame, back) = 250, oov.events[0]
    tracker = build_tracker("drol_nano", device="cpu", overrides={"distractor_memory": memory,
                                                                  "confirm_min_online": 0.35})
    tracker.init(oov.frames[start], oov.groundtruth[start])
    states, remembered = [], 0
    for k in range(start + 1, back):
        states.append(tracker.track(oov.frames[k]).state)
        if k == exit_frame:
            remembered = len(tracker.distractors.entries)
    lost = np.mean([s is TrackState.LOST for s in states[exit_frame + 2 - start - 1 :]])
    if memory:
        assert remembered >= 1 and lost >= 0.9
    else:
        assert remembered == 0 and lost <= 0.1


@pytest.fixture(scope="module")
def ball_and_copy(shared_dir):
    """vot_ball1's first frame with a copy of the 23 px ball 250 px away, far beyond its ~93 px search
    region; and the same frame with the ball painted over (the target leaves, the copy stays)."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "vot_ball1")
    frame, box = seq.frame(0), seq.groundtruth[0]
    x, y, w, h = (int(round(v)) for v in box)
    copy_x = x + 250
    with_copy = frame.copy()
    with_copy[y : y + h, copy_x : copy_x + w] = frame[y : y + h, x : x + w]
    target_gone = with_copy.copy()
    target_gone[y - 10 : y + h + 10, x - 10 : x + w + 10] = 127
    return with_copy, target_gone, box, np.array([copy_x + w / 2, y + h / 2])


def _remembered_near(tracker, position, reach) -> bool:
    return any(np.hypot(*(e.position - position)) < reach for e in tracker.distractors.entries)


@pytest.mark.parametrize("census_every", [0, 1])
def test_the_census_remembers_a_look_alike_never_seen_beside_the_target(weights, ball_and_copy, census_every):
    """A copy of the target far outside the normal search region: only the census (a frame scan while
    the target is confidently tracked) learns it. When the target then disappears, re-detection without
    the census takes the copy; with it the tracker stays LOST with its box held."""
    with_copy, target_gone, box, copy_centre = ball_and_copy
    w = box[2]
    overrides = {"census_every": census_every, "full_frame_after": 1, "motion_compensation": False}
    tracker = build_tracker("drol_nano", device="cpu", overrides=overrides)
    tracker.init(with_copy, box)
    for _ in range(3):
        assert tracker.track(with_copy).state is TrackState.TRACKING
    assert _remembered_near(tracker, copy_centre, w / 2) == bool(census_every)
    results = [tracker.track(target_gone) for _ in range(6)]
    took_copy = any(r.state is not TrackState.LOST and abs(r.box[0] + w / 2 - copy_centre[0]) < w / 2
                    for r in results)
    assert took_copy != bool(census_every)
    if census_every:
        assert all(r.state is TrackState.LOST for r in results[1:])


def test_a_census_spread_over_frames_scans_one_tile_a_frame_and_finds_the_copy(weights, ball_and_copy):
    """`census_tiles_per_frame: 1`: each frame of a scan runs one enlarged crop (no latency spike of
    all tiles at once), a new scan starts only every `census_every` frames, and the copy is still found."""
    with_copy, _, box, copy_centre = ball_and_copy
    overrides = {"census_every": 4, "census_tiles_per_frame": 1, "max_tiles": 2, "motion_compensation": False}
    tracker = build_tracker("drol_nano", device="cpu", overrides=overrides)
    tracker.init(with_copy, box)
    enlarged = []
    search = tracker.search

    def counting_search(image, centers, instance_size=None):
        if instance_size == tracker.config.lost_instance_size:
            enlarged[-1] += len(centers)
        return search(image, centers, instance_size)

    tracker.search = counting_search
    for _ in range(16):
        enlarged.append(0)
        assert tracker.track(with_copy).state is TrackState.TRACKING
    # frames 4, 8, 12, 16 start a scan of max_tiles = 2 tiles: one on that frame, one on the next
    assert enlarged == [0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]
    assert _remembered_near(tracker, copy_centre, box[2] / 2)


@pytest.mark.parametrize(("margin", "found"), [(0.0, True), (0.1, False)])
def test_a_look_alike_as_like_the_first_frame_blocks_the_rescue(weights, shared_dir, margin, found):
    """Lost on grey frames, then vot_ball1's ball comes back with a copy 80 px beside it (in the same
    enlarged crop). The classifier's gate is out of reach (`redetect_min_online` 5; in place too), so only
    the rescue by the first frame's look can re-detect: both balls match that look (the ball itself about
    1.0, the copy, pasted without its surroundings, about 0.93), and with a `rescue_margin` wider than their
    difference neither is taken on it (the tracker stays LOST, box held)."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "vot_ball1")
    frame, box = seq.frame(0), seq.groundtruth[0]
    x, y, w, h = (int(round(v)) for v in box)
    twice = frame.copy()
    twice[y : y + h, x + 80 : x + 80 + w] = frame[y : y + h, x : x + w]
    tracker = build_tracker("drol_nano", device="cpu", overrides={
        "redetect_min_online": 5.0, "rescue_min_similarity": 0.88, "rescue_min_online": 0.0,
        "rescue_margin": margin, "rescue_min_extent": 0.0, "confirm_frames": 0, "full_frame_after": 0,
        "near_radius": 0.0, "in_place_radius": 0.0, "motion_compensation": False, "distractor_memory": False})
    tracker.init(frame, box)
    blank = np.full_like(frame, 127)
    assert tracker.track(blank).state is TrackState.LOST
    held = tracker.track(blank).box
    again = tracker.track(twice)
    if found:
        assert again.state is not TrackState.LOST
    else:
        assert again.state is TrackState.LOST and np.array_equal(again.box, held)
