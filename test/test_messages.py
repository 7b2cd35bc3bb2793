"""The package's message definitions (the controllers' interface), their ROS-free field conversion and
the rosbag2 output written with them."""

from pathlib import Path

import numpy as np
import pytest
from rosbags.typesys import get_types_from_msg

from siam_tracker_ros.errors import InvalidBoxError, SiamTrackerError
from siam_tracker_ros.io.bag_output import BagOutputWriter, interface_dir, read_bag, read_outputs
from siam_tracker_ros.io.images import image_msg_to_bgr
from siam_tracker_ros.io.tracker_messages import (
    DIAG_ERROR,
    DIAG_OK,
    DIAG_WARN,
    ClickBox,
    diagnostic_status_fields,
    heatmap_fields,
    init_request,
    ns_to_stamp,
    stamp_to_ns,
    tracked_box_fields,
)
from siam_tracker_ros.pipeline import TargetState, TrackerOutput

MSG_DIR = Path(__file__).resolve().parents[1] / "msg"
T0 = 1_700_000_000 * 10**9


def _parse(name: str) -> tuple[list, list]:
    """(constants, fields) of siam_tracker_ros/msg/<name> as rosbags parses them."""
    full = f"siam_tracker_ros/msg/{name}"
    return get_types_from_msg((MSG_DIR / f"{name}.msg").read_text(), full)[full]


def test_every_msg_file_parses():
    names = sorted(p.stem for p in MSG_DIR.glob("*.msg"))
    assert names == ["Heatmap", "InitBox", "TrackedBox"]
    for name in names:
        constants, fields = _parse(name)
        assert fields, name
    assert interface_dir() == MSG_DIR or sorted(p.stem for p in interface_dir().glob("*.msg")) == names


def test_tracked_box_is_the_controllers_interface():
    constants, fields = _parse("TrackedBox")
    assert [f[0] for f in fields] == ["header", "x", "y", "width", "height", "confidence", "state", "tracker"]
    types = dict(fields)
    assert types["header"][1] == "std_msgs/msg/Header"
    assert all(types[n][1] == ("float32", 0) for n in ("x", "y", "width", "height", "confidence"))
    assert types["state"][1] == ("uint8", 0) and types["tracker"][1] == ("string", 0)
    assert constants == [("IDLE", "uint8", 0), ("TRACKING", "uint8", 1), ("UNCERTAIN", "uint8", 2),
                         ("LOST", "uint8", 3)]
    assert {c[0]: c[2] for c in constants} == {s.name: int(s) for s in TargetState}


def test_init_box_and_heatmap_fields():
    _, fields = _parse("InitBox")
    assert [f[0] for f in fields] == ["header", "x", "y", "width", "height"]
    _, fields = _parse("Heatmap")
    assert [f[0] for f in fields] == ["header", "image", "x", "y", "width", "height"]
    assert dict(fields)["image"][1] == "sensor_msgs/msg/Image"


def test_stamps_round_trip():
    for ns in (0, 1, 999_999_999, T0 + 123_456_789):
        sec, nanosec = ns_to_stamp(ns)
        assert 0 <= nanosec < 10**9 and stamp_to_ns(sec, nanosec) == ns
    box, stamp = init_request(1.0, 2.0, 3.0, 4.0, 0, 0)
    assert stamp is None and box.tolist() == [1.0, 2.0, 3.0, 4.0]  # zero stamp: newest frame
    assert init_request(1, 2, 3, 4, 5, 6)[1] == 5 * 10**9 + 6


def test_tracked_box_and_heatmap_field_values():
    response = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    out = TrackerOutput(T0, (1.5, 2.5, 30.0, 40.0), 0.75, TargetState.UNCERTAIN, "nano", response,
                        (-5.0, 0.0, 64.0, 48.0))
    assert tracked_box_fields(out) == {"x": 1.5, "y": 2.5, "width": 30.0, "height": 40.0, "confidence": 0.75,
                                       "state": 2, "tracker": "nano"}
    heat = heatmap_fields(out)
    assert (heat["x"], heat["y"], heat["width"], heat["height"]) == (-5.0, 0.0, 64.0, 48.0)
    image = heat["image"]
    assert (image["encoding"], image["height"], image["width"], image["step"]) == ("32FC1", 3, 4, 16)
    assert np.array_equal(np.frombuffer(image["data"], "<f4").reshape(3, 4), response)
    assert heatmap_fields(TrackerOutput.idle(T0, "nano")) is None


def test_two_clicks_make_a_box():
    clicks = ClickBox(min_size=4, timeout_s=10)
    assert clicks.click(100, 80, now_s=0.0) is None and clicks.waiting
    assert clicks.click(40, 20, now_s=1.0) == (40, 20, 60, 60) and not clicks.waiting
    clicks.click(10, 10, now_s=2.0)
    assert clicks.click(50, 50, now_s=20.0) is None  # the first click timed out: this one starts anew
    with pytest.raises(InvalidBoxError, match="at least 4 px"):
        clicks.click(51, 90, now_s=21.0)
    with pytest.raises(InvalidBoxError):
        clicks.click(float("nan"), 1, now_s=22.0)


def test_diagnostic_levels():
    common = dict(name="siam_tracker: tracking", tracker="nano", device="cuda:0", state=TargetState.TRACKING,
                  confidence=0.9, image_topic="/camera/image_raw", input_rate_hz=30.0, output_rate_hz=29.5,
                  latency_mean_s=0.012, latency_max_s=0.02, dropped_frames=3, processed_frames=100,
                  recent_errors=0, seconds_since_image=0.03)
    ok = diagnostic_status_fields(**common)
    assert ok["level"] == DIAG_OK and ok["message"] == "tracking at 29.5 Hz" and ok["hardware_id"] == "cuda:0"
    values = dict(ok["values"])
    assert values["dropped frames"] == "3" and values["latency mean [ms]"] == "12.0"
    assert all(isinstance(v, str) for v in values.values())
    assert diagnostic_status_fields(**{**common, "seconds_since_image": None})["level"] == DIAG_WARN
    assert diagnostic_status_fields(**{**common, "seconds_since_image": 5.0})["level"] == DIAG_WARN
    assert diagnostic_status_fields(**{**common, "recent_errors": 2})["level"] == DIAG_WARN
    assert diagnostic_status_fields(**{**common, "tracker": ""})["level"] == DIAG_ERROR


def test_bag_written_by_the_writer_reads_back_with_the_same_values(tmp_path):
    rng = np.random.default_rng(0)
    outputs = [
        TrackerOutput.idle(T0, "nano"),
        TrackerOutput(T0 + 33_333_333, (10.0, 20.0, 30.0, 40.0), 1.0, TargetState.TRACKING, "nano"),
        TrackerOutput(T0 + 66_666_666, (11.25, 19.5, 31.0, 39.0), 0.375, TargetState.UNCERTAIN, "nano",
                      rng.random((16, 16), dtype=np.float32), (-20.0, -10.0, 160.0, 160.0)),
        TrackerOutput(T0 + 100_000_000, (11.25, 19.5, 31.0, 39.0), 0.125, TargetState.LOST, "nano",
                      rng.random((16, 16), dtype=np.float32), (-30.0, -20.0, 180.0, 180.0)),
    ]
    frames = [np.full((36, 48, 3), 40 * i, np.uint8) for i in range(len(outputs))]
    path = tmp_path / "out_bag"
    with BagOutputWriter(path, image_topic="/camera/image_raw") as writer:
        for out, frame in zip(outputs, frames):
            writer.write(out, frame_id="camera_optical", image=frame)
    assert writer.count == len(outputs)

    back = read_outputs(path)
    assert len(back) == len(outputs)
    for a, b in zip(outputs, back):
        assert (b.stamp_ns, b.box, b.state, b.tracker_name) == (a.stamp_ns, a.box, a.state, a.tracker_name)
        assert b.confidence == pytest.approx(a.confidence)
        assert b.search_region == a.search_region
        assert (a.response is None) == (b.response is None)
        if a.response is not None:
            assert np.array_equal(a.response, b.response)

    topics = read_bag(path)
    assert sorted(topics) == ["/camera/image_raw", "/tracker/box", "/tracker/confidence", "/tracker/heatmap"]
    assert [m.data for m in topics["/tracker/confidence"]] == pytest.approx([o.confidence for o in outputs])
    assert all(m.header.frame_id == "camera_optical" for m in topics["/tracker/box"])
    assert [stamp_to_ns(m.header.stamp.sec, m.header.stamp.nanosec) for m in topics["/camera/image_raw"]] == [
        o.stamp_ns for o in outputs]
    assert np.array_equal(image_msg_to_bgr(topics["/camera/image_raw"][2]), frames[2])

    with pytest.raises(SiamTrackerError, match="already exists"), BagOutputWriter(path):
        pass
