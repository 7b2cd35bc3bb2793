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


@pytest.fixture(scope="module")
def basketball_exit(shared_dir):
    """otb_basketball's out-of-view sequence (seed 0): the camera pans the target out of the left
    border while a team-mate, who has run beside it, stays in view."""
    seq = load_sequence(shared_dir / "data" / "sequences" / "otb_basketball")
    return build_out_of_view(seq, 0)


def test_a_look_alike_seen_beside_the_target_is_not_redetected(weights, basketball_exit):
    """Without the memory (measured: 0% of these frames LOST, started from frame 250) re-detection
    takes the team-mate on the first lost frame (Siamese 0.99, online 0.8); with it the tracker stays
    LOST while the target is away, and says what it remembered."""
    oov = basketball_exit
    start, (exit_frame, back) = 250, oov.events[0]
    tracker = build_tracker("drol_nano", device="cpu", overrides={"distractor_memory": True})
    tracker.init(oov.frames[start], oov.groundtruth[start])
    states, remembered = [], 0
    for k in range(start + 1, back):
        states.append(tracker.track(oov.frames[k]).state)
        if k == exit_frame:
            remembered = len(tracker.distractors.entries)
    absent = states[exit_frame + 2 - start - 1 :]
    assert remembered >= 1
    assert np.mean([s is TrackState.LOST for s in absent]) >= 0.9
