"""The synthetic out-of-view set: reproducible, the target really leaves the window, metrics on it."""

import shutil

import numpy as np
import pytest

from siam_tracker_ros.errors import SourceError
from siam_tracker_ros.evaluation.datasets import find_sequences, load_sequence
from siam_tracker_ros.evaluation.out_of_view import (
    build_out_of_view,
    build_out_of_view_set,
    load_out_of_view,
    out_of_view_metrics,
    ping_pong,
    write_out_of_view_set,
)
from siam_tracker_ros.trackers.base import TrackState


@pytest.fixture(scope="module")
def sequences_dir(shared_dir):
    return shared_dir / "data" / "sequences"


@pytest.fixture(scope="module")
def built(sequences_dir):
    """(real sequence, out-of-view sequence) for all twelve, seed 7."""
    seqs = find_sequences(sequences_dir)
    return [(seq, build_out_of_view(seq, seed=7)) for seq in seqs]


def _overlap_area(box, crop):
    iw = min(box[0] + box[2], crop[0] + crop[2]) - max(box[0], crop[0])
    ih = min(box[1] + box[3], crop[1] + crop[3]) - max(box[1], crop[1])
    return max(iw, 0.0) * max(ih, 0.0)


def test_ping_pong_reuses_frames_without_jumps():
    np.testing.assert_array_equal(ping_pong(np.arange(9), 4), [0, 1, 2, 3, 2, 1, 0, 1, 2])
    np.testing.assert_array_equal(ping_pong(np.arange(3), 1), [0, 0, 0])


def test_same_seed_same_sequence_other_seed_differs(sequences_dir, built):
    again = build_out_of_view_set(sequences_dir, seed=7)
    other = build_out_of_view_set(sequences_dir, seed=8)
    for (_, a), b, c in zip(built, again, other):
        assert a.name == b.name
        np.testing.assert_array_equal(a.groundtruth, b.groundtruth)
        np.testing.assert_array_equal(a.crop_boxes, b.crop_boxes)
        np.testing.assert_array_equal(a.source_index, b.source_index)
        assert a.events == b.events
        assert not np.array_equal(a.crop_boxes, c.crop_boxes)
    k = built[0][1].events[0][0] - 3
    np.testing.assert_array_equal(built[0][1].frames[k], again[0].frames[k])


def test_target_fully_outside_the_window_during_events(built):
    for seq, oov in built:
        assert 1 <= len(oov.events) <= 2, oov.name
        assert not oov.absent[0]
        real = seq.groundtruth[oov.source_index]
        covered = np.zeros(len(oov), dtype=bool)
        for start, end in oov.events:
            assert 10 <= end - start <= 60, (oov.name, start, end)
            covered[start:end] = True
            assert np.all(np.isnan(oov.groundtruth[start:end]))
            for k in range(start, end):
                assert _overlap_area(real[k], oov.crop_boxes[k]) == 0.0, (oov.name, k)
            assert not oov.absent[start - 1] and (end == len(oov) or not oov.absent[end])
        # the real sequences have no absent rows: every NaN row comes from an event
        np.testing.assert_array_equal(oov.absent, covered)
        np.testing.assert_array_equal(oov.absent, np.isnan(oov.groundtruth).any(axis=1))


def test_window_follows_the_target_outside_events(built):
    for seq, oov in built:
        real = seq.groundtruth[oov.source_index]
        centre = real[:, :2] + real[:, 2:] / 2
        crop = oov.crop_boxes
        inside = np.all((centre >= crop[:, :2]) & (centre <= crop[:, :2] + crop[:, 2:]), axis=1)
        assert oov.following.sum() >= 16 + 20 * len(oov.events)  # lead-in, then 20 after each event
        assert np.all(inside[oov.following]), oov.name
        # visible frames: ground truth is the real box shifted into window coordinates, not clipped
        vis = ~oov.absent
        np.testing.assert_allclose(oov.groundtruth[vis, :2], real[vis, :2] - crop[vis, :2])
        np.testing.assert_allclose(oov.groundtruth[vis, 2:], real[vis, 2:])
        # the window never leaves the real frame, and keeps one size
        h, w = seq.frame(0).shape[:2]
        assert (
            np.all(crop[:, :2] >= 0)
            and np.all(crop[:, 0] + crop[:, 2] <= w)
            and np.all(crop[:, 1] + crop[:, 3] <= h)
        )
        assert len(np.unique(crop[:, 2:], axis=0)) == 1


def test_frames_are_crops_of_the_real_frames(built):
    seq, oov = built[3]
    start, _ = oov.events[0]
    for k in (0, start + 1):
        x, y, w, h = oov.crop_boxes[k].astype(int)
        expected = seq.frame(int(oov.source_index[k]))[y : y + h, x : x + w]
        np.testing.assert_array_equal(oov.frames[k], expected)
    assert len(oov.frames) == len(oov.groundtruth)


def test_short_sequence_is_extended_and_options_are_honoured(sequences_dir):
    seq = load_sequence(sequences_dir / "uav123_wakeboard7")  # 67 frames
    lengths = {len(build_out_of_view(seq, seed=s, min_absent=50, max_absent=60)) for s in range(3)}
    assert max(lengths) > len(seq)  # the event does not fit: frames played back and forth
    oov = build_out_of_view(seq, seed=1, min_absent=5, max_absent=8, crop_size=(300, 170))
    assert all(5 <= e - s <= 8 for s, e in oov.events)
    assert tuple(oov.crop_boxes[0, 2:]) == (300, 170)
    with pytest.raises(SourceError, match="cannot pan the target out of view"):
        build_out_of_view(seq, seed=1, crop_size=1.0)


def _oracle(oov):
    """Boxes of a tracker that is exact while the target is visible and holds the last box when absent."""
    pred = oov.groundtruth.copy()
    for k in range(1, len(pred)):
        if oov.absent[k]:
            pred[k] = pred[k - 1]
    return pred


def test_out_of_view_metrics(built):
    oov = next(o for _, o in built if len(o.events) == 2)
    pred = _oracle(oov)
    states = [TrackState.LOST if a else TrackState.TRACKING for a in oov.absent]
    m = out_of_view_metrics(pred, states, oov)
    assert m["lost_when_absent"] == 1.0 and m["lost_when_visible"] == 0.0 and m["lost_on_target"] == 0.0
    assert m["reacquisition_rate"] == 1.0
    assert [e["delay"] for e in m["events"]] == [0, 0]
    assert m["absent_frames"] == sum(e - s - 2 for s, e in oov.events)  # from the 3rd absent frame
    assert all(e["on_target"] and e["lost_frames"] == e["absent_frames"] for e in m["events"])
    assert [e["outcome"] for e in m["events"]] == ["re-acquired"] * 2
    assert sum(e["absent_frames"] for e in m["events"]) == m["absent_frames"]

    # a tracker that was off the target before the first event: that event is not "on target"
    off = pred.copy()
    start = oov.events[0][0]
    off[start - 5 : start, 0] += 1000.0
    assert [e["on_target"] for e in out_of_view_metrics(off, states, oov)["events"]] == [False, True]

    # never says lost: nothing right while absent; slow to come back (found 4 frames after return)
    late = ["tracking"] * len(oov)
    for _, e in oov.events:
        late[e : e + 4] = ["lost"] * 4
    m = out_of_view_metrics(pred, late, oov)
    assert m["lost_when_absent"] == 0.0 and all(e["lost_frames"] == 0 for e in m["events"])
    assert [e["delay"] for e in m["events"]] == [4, 4]
    assert m["lost_when_visible"] == pytest.approx(8 / (len(oov) - 1 - oov.absent.sum()))
    assert m["lost_on_target"] == m["lost_when_visible"]  # the boxes were on the target: false alarms

    # lost for good after the first event: neither event re-acquired
    gone = ["tracking"] * oov.events[0][0] + ["lost"] * (len(oov) - oov.events[0][0])
    m = out_of_view_metrics(pred, gone, oov)
    assert m["reacquisition_rate"] == 0.0 and not m["events"][0]["reacquired"]
    assert m["events"][0]["outcome"] == "stayed lost"

    # following something else from the return on: boxes reported, none on the target
    end = oov.events[0][1]
    astray = pred.copy()
    astray[end : end + 10, 0] += 1000.0
    m = out_of_view_metrics(astray, states, oov)
    assert [e["outcome"] for e in m["events"]] == ["box off", "re-acquired"]
    lost_once = list(states)
    lost_once[end] = TrackState.LOST  # one LOST frame in the window does not make it "stayed lost"
    m = out_of_view_metrics(astray, lost_once, oov)
    assert m["events"][0]["outcome"] == "box off"
    # LOST while its box is off the target is the tracker telling the truth, not a false alarm
    assert m["lost_when_visible"] > 0.0 and m["lost_on_target"] == 0.0
    with pytest.raises(ValueError, match="one per frame"):
        out_of_view_metrics(pred[:-1], states, oov)


def test_written_set_reads_back(sequences_dir, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(sequences_dir / "uav123_wakeboard7", src / "uav123_wakeboard7")
    folders = write_out_of_view_set(tmp_path / "oov", seed=3, dataset_dir=src)
    assert [f.name for f in folders] == ["uav123_wakeboard7_oov"]
    built = build_out_of_view(load_sequence(src / "uav123_wakeboard7"), seed=3)
    back = load_out_of_view(folders[0])
    assert back.events == built.events
    np.testing.assert_allclose(back.groundtruth, built.groundtruth, atol=1e-4, equal_nan=True)
    np.testing.assert_array_equal(back.source_index, built.source_index)
    for k in (0, len(built) // 2, len(built) - 1):  # lossless: the written frames are the built crops
        np.testing.assert_array_equal(back.frames[k], built.frames[k])
    assert len(list((folders[0] / "img").glob("*.png"))) == len(built)
    # the ordinary sequence loader reads it as well
    assert len(load_sequence(folders[0])) == len(built)
