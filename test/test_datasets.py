"""Sequence folders and result files."""

import cv2
import numpy as np
import pytest

from siam_tracker_ros.errors import SourceError
from siam_tracker_ros.evaluation.datasets import (
    GROUNDTRUTH_FILE,
    default_dataset_dir,
    find_sequences,
    load_sequence,
    read_boxes,
    read_states,
    write_boxes,
    write_states,
)
from siam_tracker_ros.trackers.base import TrackState


def test_find_sequences_on_the_shared_data(shared_dir):
    seqs = find_sequences(shared_dir / "data" / "sequences")
    names = [s.name for s in seqs]
    assert len(seqs) == 12 and names == sorted(names)
    assert "uav123_boat1" in names
    for seq in seqs:
        assert seq.groundtruth.shape == (len(seq), 4)
        assert [p.name for p in seq.frame_paths[:2]] == ["000001.jpg", "000002.jpg"]
    boat = seqs[names.index("uav123_boat1")]
    assert boat.frame(0).shape == (360, 640, 3)
    np.testing.assert_allclose(boat.groundtruth[0], [196.5, 164.0, 77.5, 159.5])


def test_default_dataset_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIAM_TRACKER_SHARED", str(tmp_path))
    assert default_dataset_dir() == tmp_path / "data" / "sequences"


def test_no_sequences_is_a_clear_error(tmp_path):
    (tmp_path / "not_a_sequence").mkdir()
    with pytest.raises(SourceError, match="no sequences in"):
        find_sequences(tmp_path)
    with pytest.raises(SourceError, match="does not exist"):
        find_sequences(tmp_path / "missing")


def test_frame_and_box_count_must_match(tmp_path):
    seq = tmp_path / "short"
    (seq / "img").mkdir(parents=True)
    (seq / "img" / "000001.jpg").write_bytes(b"")
    write_boxes(seq / "groundtruth_rect.txt", [[1, 2, 3, 4], [1, 2, 3, 4]])
    with pytest.raises(SourceError, match="1 frames in img/ but 2 boxes"):
        load_sequence(seq)
    with pytest.raises(SourceError, match="not a sequence folder"):
        load_sequence(tmp_path)


def test_read_boxes_accepts_commas_tabs_spaces_and_nan(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4\n5\t6\t7\t8\n\n9 10  11 12\nNaN,NaN,NaN,NaN\n1.5, 2.5, 3.5, 4.5\n")
    boxes = read_boxes(path)
    assert boxes.shape == (5, 4)
    np.testing.assert_array_equal(boxes[2], [9, 10, 11, 12])
    assert np.all(np.isnan(boxes[3]))
    np.testing.assert_array_equal(boxes[4], [1.5, 2.5, 3.5, 4.5])
    path.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(SourceError, match="line 2"):
        read_boxes(path)


def test_boxes_round_trip_with_nan_rows(tmp_path):
    rng = np.random.default_rng(3)
    boxes = rng.uniform(-50, 700, size=(40, 4))
    boxes[[5, 17]] = np.nan
    path = tmp_path / "out" / "tracker" / "seq.txt"
    write_boxes(path, boxes)
    assert path.read_text().splitlines()[5] == "nan,nan,nan,nan"
    back = read_boxes(path)
    np.testing.assert_allclose(back, boxes, atol=1e-4, equal_nan=True)
    write_boxes(path, [[10, 20, 30, 40]])
    assert path.read_text() == "10,20,30,40\n"


def test_states_round_trip(tmp_path):
    confidences = [0.91, 0.5, 0.1234, 0.0]
    states = [TrackState.TRACKING, "uncertain", TrackState.LOST, "lost"]
    path = tmp_path / "seq_state.txt"
    write_states(path, confidences, states)
    assert path.read_text().splitlines()[0] == "0.91,tracking"
    conf, back = read_states(path)
    np.testing.assert_allclose(conf, confidences)
    assert back == [TrackState.TRACKING, TrackState.UNCERTAIN, TrackState.LOST, TrackState.LOST]
    with pytest.raises(ValueError, match="unknown tracker state"):
        write_states(path, [0.5], ["found"])
    with pytest.raises(ValueError, match="one pair per frame"):
        write_states(path, [0.5, 0.6], ["lost"])
    path.write_text("0.5,tracking\n0.4,vanished\n")
    with pytest.raises(SourceError, match="line 2"):
        read_states(path)


def test_a_sequence_with_unpadded_frame_numbers_plays_in_order(shared_dir, tmp_path):
    """Frames numbered 1.png ... 12.png (no zero padding, as many recorders write them): a plain sort put
    10.png after 1.png, pairing frames with the wrong ground-truth rows without a word."""
    source = load_sequence(shared_dir / "data" / "sequences" / "vot_ball1")
    folder = tmp_path / "unpadded"
    (folder / "img").mkdir(parents=True)
    originals = [cv2.imread(str(p)) for p in source.frame_paths[:12]]
    for k, image in enumerate(originals, start=1):
        cv2.imwrite(str(folder / "img" / f"{k}.png"), image)
    write_boxes(folder / GROUNDTRUTH_FILE, source.groundtruth[:12])
    seq = load_sequence(folder)
    assert [p.name for p in seq.frame_paths] == [f"{k}.png" for k in range(1, 13)]
    for path, original in zip(seq.frame_paths, originals):
        assert np.array_equal(cv2.imread(str(path)), original)
