"""`siam-track` end to end on real frames, and its answers to bad input: a clear error, exit code 2,
no traceback."""

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from siam_tracker_ros.cli import main
from siam_tracker_ros.evaluation.datasets import read_boxes, read_states

SEQUENCE = "vot_ball1"


@pytest.fixture(autouse=True)
def _weights(shared_dir, monkeypatch):
    monkeypatch.setenv("SIAM_TRACKER_WEIGHTS", str(shared_dir / "weights"))
    monkeypatch.setenv("SIAM_TRACKER_SHARED", str(shared_dir))


def _short_sequence(shared_dir: Path, dest: Path, name: str = SEQUENCE, frames: int = 12) -> Path:
    """A copy of the first `frames` frames of a real sequence with its ground truth."""
    src = shared_dir / "data" / "sequences" / name
    seq = dest / name
    (seq / "img").mkdir(parents=True)
    for path in sorted((src / "img").glob("*.jpg"))[:frames]:
        shutil.copy(path, seq / "img" / path.name)
    lines = (src / "groundtruth_rect.txt").read_text().splitlines()[:frames]
    (seq / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    return seq


def _fails(capsys, argv, *expected: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
    return err


def test_track_writes_boxes_states_and_video(shared_dir, tmp_path, capsys):
    seq = _short_sequence(shared_dir, tmp_path)
    out = tmp_path / "out"
    assert main(["track", str(seq), "--out-dir", str(out), "--save-video", "--quiet", "--device", "cpu"]) == 0
    boxes = read_boxes(out / f"{SEQUENCE}.txt")
    gt = np.loadtxt(seq / "groundtruth_rect.txt", delimiter=",")
    assert boxes.shape == (12, 4)
    np.testing.assert_allclose(boxes[0], gt[0])  # first line is the initial box
    ious = [_iou(b, g) for b, g in zip(boxes[1:], gt[1:])]
    assert min(ious) > 0.3, ious  # the ball is followed on these frames
    confidences, states = read_states(out / f"{SEQUENCE}_state.txt")
    assert len(states) == 12 and np.all((confidences >= 0) & (confidences <= 1))
    video = cv2.VideoCapture(str(out / f"{SEQUENCE}.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    assert "success AUC" in capsys.readouterr().out
    # the confidence over time; no frame was LOST, so no red band
    timeline = cv2.imread(str(out / f"{SEQUENCE}_timeline.png"))
    assert timeline is not None and "lost" not in states
    assert np.all(np.abs(timeline.astype(int) - [40, 39, 214]) <= 3, axis=2).sum() == 0


def _iou(a, b):
    from siam_tracker_ros.libs.boxes import iou_xywh

    return float(iou_xywh(np.asarray(a), np.asarray(b)))


def test_eval_prints_table_and_writes_results_and_plots(shared_dir, tmp_path, capsys):
    data = tmp_path / "data"
    _short_sequence(shared_dir, data, "vot_ball1", 10)
    _short_sequence(shared_dir, data, "uav123_boat1", 10)
    out = tmp_path / "eval"
    argv = ["eval", "--dataset", str(data), "--trackers", "nano,cv2_nano", "--out-dir", str(out), "--quiet"]
    assert main(argv + ["--device", "cpu"]) == 0
    table = capsys.readouterr().out
    for text in ("nano", "cv2_nano", "vot_ball1", "uav123_boat1", "AUC", "P@20"):
        assert text in table
    for tracker in ("nano", "cv2_nano"):
        assert read_boxes(out / tracker / "uav123_boat1.txt").shape == (10, 4)
        assert len(read_states(out / tracker / "vot_ball1_state.txt")[1]) == 10
    assert (out / "success.png").stat().st_size > 1000 and (out / "precision.png").stat().st_size > 1000
    assert not (out / "timelines").exists()  # drawn for out-of-view sets only


def test_bench_reports_ratio_to_reference(shared_dir, capsys):
    assert main(["bench", "--trackers", "nano", "--frames", "8", "--warmup", "2", "--threads", "2",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "fps / cv2_nano" in out
    line = next(row for row in out.splitlines() if row.startswith("nano "))
    frames, fps, median_ms, p95_ms = (float(v) for v in line.split()[1:5])
    assert frames == 8 and fps > 0 and 0 < median_ms <= p95_ms  # --frames counts the timed ones


def test_bench_at_the_camera_resolution(shared_dir, capsys):
    assert main(["bench", "--trackers", "drol_nano", "--reference", "nano", "--frames", "3", "--warmup", "1",
                 "--size", "1280x720", "--device", "cpu", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "uav123_person12_1 (1280x720)" in out  # the frames were resized, not only the label
    row = next(line for line in out.splitlines() if line.startswith("drol_nano ") and len(line.split()) == 4)
    tiles, median_ms, p95_ms = (float(v) for v in row.split()[1:])
    assert tiles >= 1 and 0 < median_ms <= p95_ms


@pytest.mark.parametrize("size", ["1280", "1280x", "axb", "32x720", "1280x720x3"])
def test_a_bad_bench_size_is_refused(capsys, size):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--size", size])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--size" in err and "Traceback" not in err


def test_missing_source(capsys, tmp_path):
    _fails(capsys, ["track", str(tmp_path / "nowhere.mp4"), "--init", "1,1,5,5"], "nowhere.mp4")


def test_unreadable_frame_is_named(shared_dir, tmp_path, capsys):
    seq = _short_sequence(shared_dir, tmp_path, frames=6)
    (seq / "img" / "000004.jpg").write_bytes(b"not a jpeg")
    _fails(capsys, ["track", str(seq), "--out-dir", str(tmp_path / "o"), "--quiet", "--device", "cpu"],
           "000004.jpg")


@pytest.mark.parametrize(("box", "words"), [
    ("5000,5000,20,20", "outside"),
    ("10,10,0,20", "zero"),
    ("0,10,5000,20", "twice the size"),
    ("nan,10,20,20", "NaN"),
    ("10,10,20", "four numbers"),
])
def test_bad_initial_box(shared_dir, tmp_path, capsys, box, words):
    seq = _short_sequence(shared_dir, tmp_path, frames=3)
    _fails(capsys, ["track", str(seq), "--init", box, "--out-dir", str(tmp_path / "o"), "--quiet",
                    "--device", "cpu"], words)


def _clip_of(seq: Path, path: Path, fps: float) -> tuple[Path, str]:
    """An MP4 of a sequence's frames and its first box as an --init argument."""
    frames = [cv2.imread(str(p)) for p in sorted((seq / "img").glob("*.jpg"))]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path, ",".join(str(v) for v in np.loadtxt(seq / "groundtruth_rect.txt", delimiter=",")[0])


def test_annotated_video_keeps_the_source_videos_rate(shared_dir, tmp_path):
    clip, init = _clip_of(_short_sequence(shared_dir, tmp_path, frames=5), tmp_path / "clip.mp4", fps=10)
    out = tmp_path / "out"
    assert main(["track", str(clip), "--init", init, "--out-dir", str(out), "--save-video", "--quiet"]) == 0
    video = cv2.VideoCapture(str(out / "clip.mp4"))
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(10) and video.get(cv2.CAP_PROP_FRAME_COUNT) == 5


def test_results_never_overwrite_the_input(shared_dir, tmp_path, capsys):
    seq = _short_sequence(shared_dir, tmp_path, frames=5)
    clip, init = _clip_of(seq, tmp_path / "clip.mp4", fps=30)
    before = clip.read_bytes()
    argv = ["track", str(clip), "--init", init, "--out-dir", str(tmp_path), "--save-video", "--quiet"]
    _fails(capsys, argv, "would overwrite the input", "--out-dir")
    assert clip.read_bytes() == before
    gt = seq / "groundtruth_rect.txt"  # FFmpeg would read a text file as a "video" and we would write over it
    _fails(capsys, ["track", str(gt), "--init", "1,1,5,5", "--out-dir", str(seq), "--quiet"],
           "is not a video")


def test_output_folder_problems_are_reported_before_the_work(shared_dir, tmp_path, capsys):
    seq = _short_sequence(shared_dir, tmp_path, frames=3)
    (tmp_path / "taken").write_text("keep me")
    _fails(capsys, ["track", str(seq), "--out-dir", str(tmp_path / "taken"), "--quiet"], "is a file")
    _fails(capsys, ["eval", "--dataset", str(tmp_path), "--out-dir", str(tmp_path / "taken"), "--quiet"],
           "is a file")
    assert (tmp_path / "taken").read_text() == "keep me"
    _fails(capsys, ["eval", "--dataset", str(tmp_path), "--sequences", f"{SEQUENCE},vot_bal", "--quiet"],
           "no sequence vot_bal", SEQUENCE)
    _fails(capsys, ["eval", "--dataset", str(tmp_path), "--trackers", ",", "--quiet"], "names no tracker")


def test_eval_names_a_sequence_whose_first_box_is_missing(shared_dir, tmp_path, capsys):
    seq = _short_sequence(shared_dir, tmp_path, frames=3)
    rows = (seq / "groundtruth_rect.txt").read_text().splitlines()
    (seq / "groundtruth_rect.txt").write_text("\n".join(["NaN,NaN,NaN,NaN"] + rows[1:]) + "\n")
    argv = ["eval", "--dataset", str(tmp_path), "--trackers", "nano", "--out-dir", str(tmp_path / "o"),
            "--quiet"]
    _fails(capsys, argv, f"{SEQUENCE}: the first ground-truth row", "fix")


def test_a_failed_download_leaves_nothing_behind(shared_dir, tmp_path, capsys, monkeypatch):
    from siam_tracker_ros import weights

    monkeypatch.setenv("SIAM_TRACKER_WEIGHTS", str(tmp_path / "w"))
    monkeypatch.setattr(weights, "UPSTREAM_URL", (tmp_path / "no_server").as_uri() + "/")  # fails at once
    seq = _short_sequence(shared_dir, tmp_path, frames=3)
    _fails(capsys, ["track", str(seq), "--tracker", "nano", "--out-dir", str(tmp_path / "o"), "--quiet"],
           "could not be downloaded", "SIAM_TRACKER_WEIGHTS")
    assert [p for p in (tmp_path / "w").rglob("*") if p.is_file()] == [], "no partial download is left"


@pytest.mark.parametrize("argv", [["track", "x", "--threads", "0"], ["make-oov", "x", "--seed", "-1"],
                                  ["bench", "--frames", "0"], ["bench", "--warmup", "-2"]])
def test_out_of_range_numbers_are_refused_by_the_parser(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "or more" in err and "Traceback" not in err


def test_unknown_tracker_lists_the_available_ones(shared_dir, tmp_path, capsys):
    seq = _short_sequence(shared_dir, tmp_path, frames=3)
    _fails(capsys, ["track", str(seq), "--tracker", "siamfoo", "--quiet"], "siamfoo", "nano_v3")


def test_wrong_weights_file(shared_dir, tmp_path, capsys):
    seq = _short_sequence(shared_dir, tmp_path, frames=3)
    v3 = shared_dir / "weights" / "nanotrack" / "v3" / "nanotrackv3.pth"
    _fails(capsys, ["track", str(seq), "--tracker", "nano", "--weights", str(v3), "--quiet",
                    "--device", "cpu"], "nanotrackv3.pth", "v3")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00" * 100)
    _fails(capsys, ["track", str(seq), "--weights", str(garbage), "--quiet", "--device", "cpu"],
           "garbage.pth")
    _fails(capsys, ["track", str(seq), "--weights", str(tmp_path / "absent.pth"), "--quiet"], "absent.pth")


def test_corrupt_weights_in_weights_dir_fail_checksum(shared_dir, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "weights" / "nanotrack" / "v2"
    folder.mkdir(parents=True)
    data = (shared_dir / "weights" / "nanotrack" / "v2" / "nanotrackv2.pth").read_bytes()
    (folder / "nanotrackv2.pth").write_bytes(data[: len(data) // 2])
    monkeypatch.setenv("SIAM_TRACKER_WEIGHTS", str(tmp_path / "weights"))
    seq = _short_sequence(shared_dir, tmp_path, frames=3)
    _fails(capsys, ["track", str(seq), "--quiet", "--device", "cpu"], "nanotrackv2.pth", "corrupt")


def test_command_line_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "siam_tracker_ros.cli", "track", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "none" in proc.stderr


def test_make_oov_refuses_absence_bounds_that_make_no_set(tmp_path, capsys):
    dest = tmp_path / "oov"
    with pytest.raises(SystemExit) as exit_info:  # argparse: usage and the reason, exit 2
        main(["make-oov", str(dest), "--min-absent", "0"])
    assert exit_info.value.code == 2
    assert "--min-absent: must be 1 or more, got 0" in capsys.readouterr().err
    _fails(capsys, ["make-oov", str(dest), "--min-absent", "20", "--max-absent", "5"],
           "need 1 <= min_absent (20) <= max_absent (5)")
    assert not dest.exists()  # refused before anything was written


def test_make_oov_skips_a_sequence_it_cannot_pan_away_from_and_says_which(shared_dir, tmp_path, capsys):
    data = tmp_path / "data"
    _short_sequence(shared_dir, data, "uav123_person12_1", 90)
    big = _short_sequence(shared_dir, data, "vot_bag", 90)
    height, width = cv2.imread(str(next((big / "img").glob("*.jpg")))).shape[:2]
    whole = f"1,1,{width - 2},{height - 2}\n"  # a target filling the frame: no crop window can lose it
    (big / "groundtruth_rect.txt").write_text(whole * 90)
    assert main(["make-oov", str(tmp_path / "oov"), "--dataset", str(data), "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "oov").iterdir()) == ["uav123_person12_1_oov"]
    assert "vot_bag" in captured.err and "too large" in captured.err
    assert "1 sequences in" in captured.out
    # nothing that can be built: a failure exit, not an empty set reported as done
    shutil.rmtree(data / "uav123_person12_1")
    assert main(["make-oov", str(tmp_path / "oov2"), "--dataset", str(data), "--seed", "3"]) == 1
    # a folder from an earlier run that eval would pick up is pointed out
    assert main(["make-oov", str(tmp_path / "oov"), "--dataset", str(data), "--seed", "3"]) == 1
    assert "also holds uav123_person12_1_oov from another run" in capsys.readouterr().err


def test_make_oov_then_eval_reports_absences(shared_dir, tmp_path, capsys):
    data = tmp_path / "data"
    _short_sequence(shared_dir, data, "uav123_person12_1", 90)
    assert main(["make-oov", str(tmp_path / "oov"), "--dataset", str(data), "--seed", "3"]) == 0
    folder = tmp_path / "oov" / "uav123_person12_1_oov"
    gt = read_boxes(folder / "groundtruth_rect.txt")
    assert np.isnan(gt[:, 0]).sum() >= 10  # at least one absence of 10+ frames
    capsys.readouterr()
    assert main(["eval", "--dataset", str(tmp_path / "oov"), "--trackers", "nano", "--quiet",
                 "--out-dir", str(tmp_path / "eval"), "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Out-of-view"))
    row = next(line for line in lines[start:] if line.startswith("nano"))
    columns = row.split()
    absent_frames, lost_pct, events, reacquired_pct, lost_visible, false_lost = columns[1:7]
    assert int(absent_frames) > 0 and int(events) >= 1 and 0.0 <= float(lost_pct) <= 100.0
    assert float(lost_visible) == float(false_lost) == 0.0  # nano has no long-term mode: never LOST
    # median frames to re-acquire: a count within the 10-frame window, or "-" when none was re-acquired
    delay, (stayed_lost, box_off) = columns[7], columns[-2:]  # delay: "2 fr" or "-"
    assert (delay == "-") == (float(reacquired_pct) == 0.0)
    assert delay == "-" or 0 <= int(delay) <= 10
    # every event in the per-event table, its outcome agreeing with its re-acquisition and the counts
    table = (tmp_path / "eval" / "out_of_view_events.csv").read_text().splitlines()
    header = table[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in table[1:]]
    assert header[:4] == ["tracker", "sequence", "start", "end"] and rows
    assert {(r["tracker"], r["sequence"]) for r in rows} == {("nano", "uav123_person12_1_oov")}
    assert all((r["outcome"] == "re-acquired") == (r["reacquired"] == "True") for r in rows)
    outcomes = [r["outcome"] for r in rows if r["outcome"]]  # empty: the event ends with the sequence
    assert len(outcomes) == int(events)
    assert (outcomes.count("stayed lost"), outcomes.count("box off")) == (int(stayed_lost), int(box_off))
    share = 100 * outcomes.count("re-acquired") / len(outcomes)
    assert share == pytest.approx(float(reacquired_pct), abs=0.05)
    # the breakdown by whether the tracker was on the target as it left: a subset of those events
    start = next(i for i, line in enumerate(lines) if line.startswith("Events where"))
    held, total = next(line for line in lines[start:] if line.startswith("nano")).split()[1].split("/")
    assert int(total) == int(events) and 0 <= int(held) <= int(total)
    # the sequence over time: one row per tracker, written beside the tables
    timeline = cv2.imread(str(tmp_path / "eval" / "timelines" / "uav123_person12_1_oov.png"))
    assert timeline is not None and timeline.shape[1] == 1000


def test_rosbag_in_rosbag_out_through_the_node_pipeline(shared_dir, tmp_path, capsys):
    """A camera bag is tracked and written back with the node's topics; stamps are the images' stamps."""
    from test_sources import stamp_of, write_bag

    from siam_tracker_ros.io.bag_output import read_bag, read_outputs
    from siam_tracker_ros.io.tracker_messages import BOX_TOPIC
    from siam_tracker_ros.pipeline import TargetState

    seq = shared_dir / "data" / "sequences" / SEQUENCE
    frames = [cv2.imread(str(p)) for p in sorted((seq / "img").glob("*.jpg"))[:10]]
    write_bag(tmp_path / "camera", frames, {"/camera/image_raw": "rgb8", "/camera/other": "jpeg"},
              frame_id="gimbal_cam")
    init = ",".join(str(v) for v in np.loadtxt(seq / "groundtruth_rect.txt", delimiter=",")[0])
    argv = ["track", str(tmp_path / "camera"), "--image-topic", "/camera/image_raw", "--init", init,
            "--out-dir", str(tmp_path / "out"), "--out-bag", str(tmp_path / "tracked"), "--quiet",
            "--device", "cpu"]
    assert main(argv) == 0
    outputs = read_outputs(tmp_path / "tracked")
    boxes = read_boxes(tmp_path / "out" / "camera.txt")
    assert len(outputs) == len(boxes) == 10
    assert [o.stamp_ns for o in outputs] == [s * 1_000_000_000 + ns for s, ns in map(stamp_of, range(10))]
    np.testing.assert_allclose([o.box for o in outputs], boxes, atol=1e-3)
    assert all(o.state is not TargetState.IDLE for o in outputs)
    assert {m.header.frame_id for m in read_bag(tmp_path / "tracked")[BOX_TOPIC]} == {"gimbal_cam"}
    # Two image topics and none chosen: the error names both.
    _fails(capsys, argv[:2] + argv[4:], "/camera/image_raw", "/camera/other")


def test_a_failed_build_leaves_no_folder_it_made(shared_dir, tmp_path, capsys):
    data = tmp_path / "data"
    _short_sequence(shared_dir, data, frames=3)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00" * 100)
    _fails(capsys, ["track", str(data / SEQUENCE), "--weights", str(tmp_path / "absent.onnx"), "--out-dir",
                    str(tmp_path / "new" / "deep"), "--quiet", "--device", "cpu"], "absent.onnx")
    _fails(capsys, ["eval", "--dataset", str(data), "--trackers", "nano", "--weights", str(garbage),
                    "--out-dir", str(tmp_path / "evals"), "--quiet", "--device", "cpu"], "garbage.pth")
    assert not (tmp_path / "new").exists() and not (tmp_path / "evals").exists()
    # a box refused on the first frame: nothing tracked, so no empty bag to refuse the rerun either
    _fails(capsys, ["track", str(data / SEQUENCE), "--init", "5000,5000,20,20", "--tracker", "nano",
                    "--out-dir", str(tmp_path / "new"), "--out-bag", str(tmp_path / "bag"), "--quiet",
                    "--device", "cpu"], "outside")
    assert not (tmp_path / "new").exists() and not (tmp_path / "bag").exists()
    # folders that were there before stay, as they were
    (tmp_path / "kept" / "old").mkdir(parents=True)
    (tmp_path / "kept" / "notes.txt").write_text("keep me")
    for out in ("kept", "kept/old"):
        _fails(capsys, ["track", str(data / SEQUENCE), "--weights", str(garbage), "--out-dir",
                        str(tmp_path / out), "--quiet", "--device", "cpu"], "garbage.pth")
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["notes.txt", "old"]
    assert (tmp_path / "kept" / "notes.txt").read_text() == "keep me"
    # a bag already there is refused before the tracker is built (here it could not be), and stays as it was
    (tmp_path / "recorded").mkdir()
    (tmp_path / "recorded" / "metadata.yaml").write_text("flight")
    _fails(capsys, ["track", str(data / SEQUENCE), "--weights", str(garbage), "--out-bag",
                    str(tmp_path / "recorded"), "--quiet", "--device", "cpu"], "recorded already exists")
    assert (tmp_path / "recorded" / "metadata.yaml").read_text() == "flight"


@pytest.mark.parametrize("damage", ["bag message", "truncated video"])
def test_a_run_stopped_by_a_bad_frame_keeps_its_results_closed_and_says_which(shared_dir, tmp_path, capsys,
                                                                              damage):
    from rosbags.rosbag2 import Reader
    from test_sources import write_bag

    from siam_tracker_ros.io.bag_output import read_outputs

    seq = _short_sequence(shared_dir, tmp_path, frames=16)
    if damage == "bag message":
        frames = [cv2.imread(str(p)) for p in sorted((seq / "img").glob("*.jpg"))[:10]]
        source = write_bag(tmp_path / "camera", frames, {"/camera/image_raw": "bgr8"}, broken=6)
        init = ",".join(str(v) for v in np.loadtxt(seq / "groundtruth_rect.txt", delimiter=",")[0])
    else:  # a recording cut short: its header still counts 16 frames
        source, init = _clip_of(seq, tmp_path / "camera.avi", fps=30)
        source.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    out, bag = tmp_path / "out", tmp_path / "tracked"
    err = _fails(capsys, ["track", str(source), "--init", init, "--tracker", "nano", "--out-dir", str(out),
                          "--save-video", "--out-bag", str(bag), "--quiet", "--device", "cpu"],
                 "stopped at frame", "message 6" if damage == "bag message" else "truncated")
    line = next(row for row in err.splitlines() if row.startswith("siam-track track: error:"))
    stopped = int(line.split("stopped at frame ")[1].split(":")[0])
    assert stopped == 6 if damage == "bag message" else 0 < stopped < 16
    paths = [out / "camera.txt", out / "camera_state.txt", out / "camera.mp4", bag]
    assert f"results for frames 0-{stopped - 1} are in {', '.join(map(str, paths))}" in line
    assert read_boxes(paths[0]).shape == (stopped, 4) and len(read_states(paths[1])[1]) == stopped
    video = cv2.VideoCapture(str(paths[2]))  # finalised: its index counts the frames, and they decode
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == stopped
    assert sum(1 for _ in iter(lambda: video.read()[0], False)) == stopped
    with Reader(bag) as reader:  # metadata.yaml written
        assert reader.message_count > 0
    assert len(read_outputs(bag)) == stopped


def test_ctrl_c_keeps_the_frames_tracked_so_far(shared_dir, tmp_path):
    """A user stopping a long run with Ctrl-C gets the boxes, states and video of the frames done."""
    import re
    import signal
    import time

    real = shared_dir / "data" / "sequences" / "otb_basketball"
    truth = np.loadtxt(real / "groundtruth_rect.txt", delimiter=",")[0]
    # its 725 frames four times over (links): minutes of tracking, so the run cannot end before Ctrl-C
    source = tmp_path / "flight"
    source.mkdir()
    frames = sorted((real / "img").glob("*.jpg"))
    for k in range(4 * len(frames)):
        (source / f"{k:05d}.jpg").symlink_to(frames[k % len(frames)])
    total = 4 * len(frames)
    out = tmp_path / "out"
    paths = [out / "flight.txt", out / "flight_state.txt", out / "flight.mp4"]
    proc = subprocess.Popen([sys.executable, "-m", "siam_tracker_ros.cli", "track", str(source), "--init",
                             ",".join(f"{v:g}" for v in truth), "--out-dir", str(out), "--save-video",
                             "--threads", "1", "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # as from a terminal: a shell's background job (a CI runner's) ignores SIGINT,
                            # and its children inherit that
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (paths[2].exists() and paths[2].stat().st_size > 100_000):  # a few frames encoded
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before Ctrl-C could be sent"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    stopped = int(re.search(r"interrupted at frame (\d+);", err).group(1))
    assert 1 <= stopped < total
    assert f"results for frames 0-{stopped - 1} are in {', '.join(map(str, paths))}" in err
    boxes = read_boxes(paths[0])
    assert boxes.shape == (stopped, 4) and len(read_states(paths[1])[1]) == stopped
    np.testing.assert_allclose(boxes[0], truth)  # the drawn box on the first frame, as in a full run
    video = cv2.VideoCapture(str(paths[2]))  # closed properly: its index counts the frames
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) >= stopped


def test_cpu_backend_is_said_not_to_apply_to_cv2_nano(shared_dir, tmp_path, capsys):
    data = tmp_path / "data"
    _short_sequence(shared_dir, data, frames=3)
    argv = ["eval", "--dataset", str(data), "--trackers", "nano,cv2_nano", "--out-dir", str(tmp_path / "e"),
            "--quiet", "--device", "cpu"]
    assert main(argv + ["--cpu-backend", "eager"]) == 0  # a warning, not an error: the others use it
    warnings = [row for row in capsys.readouterr().err.splitlines() if "warning" in row]
    assert len(warnings) == 1, warnings
    assert "--cpu-backend eager does not apply to cv2_nano," in warnings[0]
    assert main(["track", str(data / SEQUENCE), "--tracker", "cv2_nano", "--out-dir", str(tmp_path / "t"),
                 "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err  # not asked for: nothing to say
