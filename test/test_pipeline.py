"""The ROS-free pipeline shared by the node and the command line: frame buffer, hand-over slot, target
initialisation on older frames, tracker switching and parameter validation."""

import math
import threading
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from siam_tracker_ros.errors import (
    ConfigError,
    FrameSizeChangedError,
    InvalidBoxError,
    SiamTrackerError,
    TrackerFailure,
)
from siam_tracker_ros.libs.boxes import iou_xywh
from siam_tracker_ros.pipeline import (
    PARAMETERS,
    FrameRingBuffer,
    LatestFrameSlot,
    NodeParams,
    RateWindow,
    TargetState,
    TrackerOutput,
    TrackingPipeline,
    build_tracker_for,
    tracker_device,
)
from siam_tracker_ros.trackers.base import Tracker, TrackResult, TrackState
from siam_tracker_ros.trackers.registry import available_trackers, build_tracker, load_config

SEQUENCE = "data/sequences/vot_bag"
N_FRAMES = 12
T0 = 1_700_000_000 * 10**9  # a wall-clock-like stamp, as a live camera sends
PERIOD = 33_333_333  # 30 Hz


def stamp(i: int) -> int:
    return T0 + i * PERIOD


@pytest.fixture(scope="module")
def sequence(shared_dir):
    folder = shared_dir / SEQUENCE
    frames = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in sorted((folder / "img").glob("*.jpg"))[:N_FRAMES]]
    assert len(frames) == N_FRAMES and all(f is not None for f in frames), f"cannot read frames of {folder}"
    gt = np.loadtxt(folder / "groundtruth_rect.txt", delimiter=",")[:N_FRAMES]
    return frames, gt


@pytest.fixture(scope="module")
def trackers(shared_dir):
    """One tracker per name for the whole module: building one is slow (network tracing), and every
    `request_init` re-initialises the tracker it uses, so pipelines can share them one after another."""
    built = {}

    def get(name: str = "nano"):
        if name not in built:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("SIAM_TRACKER_WEIGHTS", str(shared_dir / "weights"))
                built[name] = build_tracker(name, device="cpu")
        return built[name]

    return get


def _image(value: int = 0) -> np.ndarray:
    return np.full((24, 32, 3), value, np.uint8)


# -- frame buffer ------------------------------------------------------------------------------------
def test_ring_buffer_finds_nearest_stamp_within_tolerance():
    buf = FrameRingBuffer(5)
    for i in range(8):
        buf.add(stamp(i), _image(i))
    assert len(buf) == 5 and buf.span() == (stamp(3), stamp(7))  # oldest evicted
    assert buf.find(stamp(5), 0)[1][0, 0, 0] == 5  # exact
    assert buf.find(stamp(5) + 4_000_000, 5_000_000)[0] == stamp(5)  # nearest within tolerance
    assert buf.find(stamp(6) - 3_000_000, 5_000_000)[0] == stamp(6)
    assert buf.find(stamp(5) + PERIOD // 2, 5_000_000) is None  # between frames, outside tolerance
    assert buf.find(stamp(1), 5_000_000) is None  # evicted
    assert buf.find(stamp(20), 5_000_000) is None  # not received yet
    assert [s for s, _ in buf.after(stamp(5))] == [stamp(6), stamp(7)]


def test_ring_buffer_ignores_repeated_frames_and_drops_old_timeline_when_time_jumps_back():
    buf = FrameRingBuffer(10)
    for i in range(4):
        assert buf.add(stamp(i), _image(i)) is False
    assert buf.add(stamp(2), _image(99)) is False  # the same frame offered again (node + pipeline)
    assert len(buf) == 4 and buf.find(stamp(2), 0)[1][0, 0, 0] == 2
    assert buf.add(stamp(0) - 5 * PERIOD, _image(7)) is True  # bag replayed from the start
    assert len(buf) == 1
    with pytest.raises(ConfigError):
        FrameRingBuffer(0)


# -- hand-over slot ----------------------------------------------------------------------------------
def test_latest_frame_slot_keeps_only_the_newest_and_counts_drops_with_real_threads():
    slot: LatestFrameSlot[int] = LatestFrameSlot()
    received: list[int] = []
    n_items = 200

    def consume():
        while True:
            item = slot.take(timeout=2.0)
            if item is None or item < 0:
                return
            received.append(item)
            time.sleep(0.005)  # a slow tracker

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(n_items):
        slot.put(i)
        time.sleep(0.0005)  # a camera much faster than the tracker
    slot.close()  # the consumer still gets the item waiting, then None
    consumer.join(timeout=5)
    assert not consumer.is_alive()
    assert received == sorted(set(received)), "items must come newest-first, never twice or out of order"
    assert received[-1] == n_items - 1, "the last frame must always reach the consumer"
    assert slot.dropped > 0 and slot.dropped + len(received) == n_items


def test_latest_frame_slot_take_times_out_and_close_wakes_a_waiting_consumer():
    slot: LatestFrameSlot[int] = LatestFrameSlot()
    assert slot.take(timeout=0.01) is None
    slot.put(1)
    assert slot.put(2) is True and slot.dropped == 1 and slot.take(0) == 2
    result = []
    waiter = threading.Thread(target=lambda: result.append(slot.take()))
    waiter.start()
    time.sleep(0.05)
    slot.close()
    waiter.join(timeout=2)
    assert not waiter.is_alive() and result == [None] and slot.closed


# -- pipeline with a real tracker ----------------------------------------------------------------------
def test_init_on_an_older_frame_then_catch_up_equals_tracking_sequentially(sequence, trackers):
    frames, gt = sequence
    last = len(frames) - 1
    sequential = TrackingPipeline(trackers())
    sequential.process(frames[0], stamp(0))
    first = sequential.request_init(gt[0], stamp(0))
    assert first.state is TargetState.TRACKING and first.stamp_ns == stamp(0)
    assert np.allclose(first.box, gt[0]) and first.confidence == 1.0
    outputs = [sequential.process(frames[i], stamp(i)) for i in range(1, len(frames))]

    delayed = TrackingPipeline(trackers(), stamp_tolerance_ns=10_000_000)
    for i, frame in enumerate(frames):  # frames arrive; the operator's box comes later
        assert delayed.process(frame, stamp(i)).state is TargetState.IDLE
    caught_up = delayed.request_init(gt[0], stamp(0) + 3_000_000)  # nearest frame within 10 ms
    assert caught_up.stamp_ns == stamp(last)
    assert np.allclose(caught_up.box, outputs[-1].box, atol=1e-3)
    assert caught_up.confidence == pytest.approx(outputs[-1].confidence, abs=1e-4)
    assert caught_up.state is outputs[-1].state
    assert caught_up.response is not None and caught_up.search_region is not None
    assert iou_xywh(np.array(caught_up.box), gt[last]) > 0.5

    # the newest frame is not tracked twice, and later frames continue from it
    again = delayed.process(frames[last], stamp(last))
    assert again is delayed.process(frames[last - 1], stamp(last - 1))  # stale frame: the last output
    assert again.stamp_ns == stamp(last) and again.box == caught_up.box
    nxt = delayed.process(frames[last - 2], stamp(last + 1))
    assert nxt.stamp_ns == stamp(last + 1) and nxt.state is not TargetState.IDLE


def test_zero_size_box_stops_tracking_and_bad_boxes_keep_the_current_target(sequence, trackers):
    frames, gt = sequence
    pipe = TrackingPipeline(trackers())
    pipe.process(frames[0], stamp(0))
    pipe.request_init(gt[0])  # no stamp: the newest frame
    pipe.process(frames[1], stamp(1))
    box = pipe.target_box
    for bad in ([np.nan, 10, 20, 20], [10, 10, -5, 20], [10, 10, 0, 20], [10, 10, 0.5, 20],
                [1000, 1000, 20, 20], [0, 10, 20000, 1], [1, 2, 3]):
        with pytest.raises(InvalidBoxError):
            pipe.request_init(bad, stamp(1))
        assert np.array_equal(pipe.target_box, box), f"{bad} must not change the target"
    width = frames[1].shape[1]
    with pytest.raises(InvalidBoxError, match="outside"):  # half a pixel of it in the image
        pipe.request_init([width - 0.5, 10, 20, 20], stamp(1))
    assert np.array_equal(pipe.target_box, box)
    stopped = pipe.request_init([0, 0, 0, 0], stamp(1))
    assert stopped.state is TargetState.IDLE and pipe.target_box is None
    out = pipe.process(frames[2], stamp(2))
    assert out.state is TargetState.IDLE and out.box == (0.0, 0.0, 0.0, 0.0) and out.as_track_result() is None
    pipe.request_init(gt[2])
    assert pipe.process(frames[3], stamp(3)).state is not TargetState.IDLE
    pipe.reset()
    assert pipe.process(frames[4], stamp(4)).state is TargetState.IDLE


def test_init_before_any_image_waits_for_the_first_frame(sequence, trackers):
    frames, gt = sequence
    pipe = TrackingPipeline(trackers())
    assert pipe.request_init(gt[0], None) is None and pipe.init_pending
    out = pipe.process(frames[0], stamp(0))
    assert out.state is TargetState.TRACKING and np.allclose(out.box, gt[0]) and not pipe.init_pending
    # a box for a frame that has not arrived yet waits for it; one outside the image is rejected then
    assert pipe.request_init([5000, 5000, 10, 10], stamp(3)) is None
    assert pipe.process(frames[1], stamp(1)).state is not TargetState.IDLE  # old target still followed
    with pytest.raises(InvalidBoxError):
        pipe.process(frames[3], stamp(3))
    assert not pipe.init_pending
    assert iou_xywh(np.array(pipe.process(frames[4], stamp(4)).box), gt[4]) > 0.5, "the old target is kept"


def test_box_for_a_frame_no_longer_buffered_is_refused_clearly(sequence, trackers):
    frames, gt = sequence
    pipe = TrackingPipeline(trackers(), buffer_size=3)
    for i in range(6):
        pipe.process(frames[i], stamp(i))
    with pytest.raises(SiamTrackerError, match="no longer buffered"):
        pipe.request_init(gt[0], stamp(0))
    with pytest.raises(SiamTrackerError, match="no buffered frame within"):
        pipe.request_init(gt[4], stamp(4) + PERIOD // 2)
    with pytest.raises(SiamTrackerError, match="no tracker"):
        TrackingPipeline(None).request_init(gt[0])


def test_set_tracker_keeps_following_the_target(sequence, trackers):
    frames, gt = sequence
    pipe = TrackingPipeline(trackers("nano"))
    pipe.process(frames[0], stamp(0))
    pipe.request_init(gt[0], stamp(0))
    for i in range(1, 4):
        pipe.process(frames[i], stamp(i))
    box = pipe.target_box
    pipe.set_tracker(trackers("cv2_nano"))  # another implementation, quick to build
    assert pipe.tracker_name == "cv2_nano" and np.array_equal(pipe.target_box, box)
    for i in range(4, 8):
        out = pipe.process(frames[i], stamp(i))
        assert out.tracker_name == "cv2_nano" and out.state is not TargetState.IDLE
        assert iou_xywh(np.array(out.box), gt[i]) > 0.4, f"frame {i}: lost the target after switching"
    pipe.set_tracker(None)
    assert pipe.target_box is None and pipe.process(frames[8], stamp(8)).state is TargetState.IDLE


@pytest.mark.parametrize("name", ["nano", "drol_nano", "cv2_nano"])
def test_every_box_the_checks_accept_starts_the_tracker(sequence, trackers, name):
    """The extremes validate_box lets through (1x1 px, twice the image's size, a box half outside) start
    and track on real frames: they must not reach the tracker only to make it raise."""
    frames, _ = sequence
    height, width = frames[0].shape[:2]
    pipe = TrackingPipeline(trackers(name))
    pipe.process(frames[0], stamp(0))
    extremes = ([100, 100, 1, 1], [-width / 2, -height / 2, 2 * width, 2 * height], [width - 10, 50, 40, 30])
    for i, box in enumerate(extremes, start=1):
        pipe.request_init(box)
        out = pipe.process(frames[i], stamp(i))
        x, y, w, h = out.box
        assert out.state is not TargetState.IDLE and all(math.isfinite(v) for v in out.box), f"{box}: {out}"
        assert 0 < w <= 2 * width and 0 < h <= 2 * height
        if out.state is not TargetState.LOST:  # a followed box is on the image (a held one may be off it)
            assert min(x + w, width) - max(x, 0) > 0 and min(y + h, height) - max(y, 0) > 0, f"{box}: {out}"
    small = pipe.request_init(extremes[0])  # the 1x1 box itself is reported as given
    assert np.allclose(small.box, extremes[0])


class _FailsOnTrack(Tracker):
    """A tracker whose device fails after start-up (as CUDA can): the fault the pipeline must survive."""

    name = "fails_on_track"

    def _init(self, image, box):
        self.box = box

    def _track(self, image) -> TrackResult:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")


class _FailsOnInit(_FailsOnTrack):
    name = "fails_on_init"

    def _init(self, image, box):
        raise MemoryError("cannot allocate the search crop")


class _Reports(_FailsOnTrack):
    """A tracker that reports what it is given (a numerical fault's NaN, a confidence out of range)."""

    name = "reports"

    def __init__(self, box, confidence) -> None:
        super().__init__()
        self.report = (np.asarray(box, dtype=np.float64), confidence)

    def _track(self, image) -> TrackResult:
        box, confidence = self.report
        return TrackResult(box, confidence, TrackState.TRACKING, np.zeros((4, 4), np.float32), box.copy())


def test_what_a_tracker_reports_reaches_the_controller_only_as_valid_numbers(sequence):
    frames, gt = sequence
    for confidence, expected in ((1.7, 1.0), (-0.2, 0.0), (float("nan"), 0.0)):
        pipe = TrackingPipeline(_Reports(gt[1], confidence))
        pipe.process(frames[0], stamp(0))
        pipe.request_init(gt[0])
        out = pipe.process(frames[1], stamp(1))
        assert out.confidence == expected and np.allclose(out.box, gt[1])
    pipe = TrackingPipeline(_Reports([np.nan, 10, 20, 20], 0.9))
    pipe.process(frames[0], stamp(0))
    pipe.request_init(gt[0])
    with pytest.raises(TrackerFailure, match="returned the box"):
        pipe.process(frames[1], stamp(1))
    assert pipe.target_box is None and pipe.process(frames[2], stamp(2)).state is TargetState.IDLE


def test_a_tracker_failure_stops_tracking_clearly_and_a_new_box_restarts(sequence, trackers):
    frames, gt = sequence
    pipe = TrackingPipeline(_FailsOnTrack())
    pipe.process(frames[0], stamp(0))
    pipe.request_init(gt[0])
    with pytest.raises(TrackerFailure, match="fails_on_track failed to track.*illegal memory.*send the"):
        pipe.process(frames[1], stamp(1))
    assert pipe.target_box is None, "a tracker that failed must not be reported as following the target"
    assert pipe.process(frames[2], stamp(2)).state is TargetState.IDLE

    pipe.set_tracker(trackers("nano"))
    pipe.request_init(gt[2])
    assert iou_xywh(np.array(pipe.process(frames[3], stamp(3)).box), gt[3]) > 0.5

    with pytest.raises(TrackerFailure, match="fails_on_init failed to take over the target.*MemoryError"):
        pipe.set_tracker(_FailsOnInit())  # the live switch: the new tracker cannot start on the box
    assert pipe.target_box is None and pipe.process(frames[4], stamp(4)).state is TargetState.IDLE
    with pytest.raises(TrackerFailure, match="failed to start on the box"):
        pipe.request_init(gt[4])
    assert pipe.target_box is None and not pipe.init_pending


@pytest.mark.parametrize("name", ["nano", "drol_nano", "cv2_nano"])
def test_frames_that_change_size_stop_tracking_instead_of_giving_boxes_in_the_old_pixels(sequence, trackers,
                                                                                        name):
    """A camera driver switched to another resolution: every tracker went on giving boxes in the old
    frame's pixels (cv2_nano: TRACKING at (245, 194) on a 100x60 frame). Now the tracker refuses the frame,
    and the pipeline stops (IDLE) and says to draw the target again, which works on the new frames."""
    frames, gt = sequence
    tracker = trackers(name)
    small = [cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA) for f in frames]
    tracker.init(frames[0], gt[0])
    with pytest.raises(FrameSizeChangedError, match=r"this frame is \d+x\d+ px but .* started on"):
        tracker.track(small[1])
    assert tracker.track(frames[1]).box.shape == (4,)  # the original frames still track

    pipe = TrackingPipeline(tracker)
    pipe.process(frames[0], stamp(0))
    pipe.request_init(gt[0])
    assert pipe.process(frames[1], stamp(1)).state is TargetState.TRACKING
    with pytest.raises(TrackerFailure, match=r"changed size from \d+x\d+ to .*send the target's box again"):
        pipe.process(small[2], stamp(2))
    assert pipe.target_box is None and pipe.process(small[3], stamp(3)).state is TargetState.IDLE
    pipe.request_init(gt[3] / 2, stamp(3))  # drawn again on the new frames
    out = pipe.process(small[4], stamp(4))
    assert out.state is not TargetState.IDLE and iou_xywh(np.array(out.box), gt[4] / 2) > 0.5


def test_a_frame_that_waited_longer_than_the_buffer_holds_is_not_a_time_jump(sequence, trackers):
    """The node buffers frames on receipt and tracks them later; a slow frame (CUDA warm-up, a
    full-frame search on a slow CPU) can fall out of a small buffer meanwhile. Tracking it must not
    drop the buffered frames as if time had jumped back, nor lose the target."""
    frames, gt = sequence
    pipe = TrackingPipeline(trackers(), buffer_size=3)
    pipe.add_frame(frames[0], stamp(0))
    pipe.request_init(gt[0], stamp(0))
    for i in range(1, 6):  # received while frame 1 waits for the tracking thread
        pipe.add_frame(frames[i], stamp(i))
    out = pipe.process(frames[1], stamp(1), buffered=True)
    assert pipe.buffer.span() == (stamp(3), stamp(5)), "the buffer kept the newest frames"
    assert out.stamp_ns == stamp(1) and iou_xywh(np.array(out.box), gt[1]) > 0.5
    out = pipe.process(frames[5], stamp(5), buffered=True)
    assert out.stamp_ns == stamp(5) and iou_xywh(np.array(out.box), gt[5]) > 0.5
    assert pipe.request_init(gt[4], stamp(4)).stamp_ns == stamp(5), "a box on a buffered frame still starts"


def test_stamps_going_back_restart_the_timeline(sequence, trackers):
    frames, gt = sequence
    pipe = TrackingPipeline(trackers())
    pipe.process(frames[0], stamp(5))
    pipe.request_init(gt[0])
    pipe.process(frames[1], stamp(6))
    out = pipe.process(frames[2], stamp(0))  # bag looped: tracked, not taken for a stale frame
    assert out.stamp_ns == stamp(0) and out.state is not TargetState.IDLE


def test_output_converts_to_the_trackers_result_type():
    response = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    pairs = ((TargetState.TRACKING, TrackState.TRACKING), (TargetState.UNCERTAIN, TrackState.UNCERTAIN),
             (TargetState.LOST, TrackState.LOST))
    for state, track_state in pairs:
        out = TrackerOutput(stamp(0), (1.0, 2.0, 3.0, 4.0), 0.3, state, "nano", response, (5, 6, 50, 50))
        result = out.as_track_result()
        assert result.state is track_state and np.allclose(result.box, out.box) and result.confidence == 0.3
        assert np.array_equal(result.response, response) and np.allclose(result.search_region, (5, 6, 50, 50))
    assert TrackerOutput.idle(stamp(0), "nano").as_track_result() is None  # nothing to draw while IDLE


# -- parameters ----------------------------------------------------------------------------------------
def test_node_params_table_describes_every_field_with_valid_defaults():
    params = NodeParams().validate()
    for info in PARAMETERS:
        assert info.description.endswith(".") or info.description.endswith(")"), info.name
    # what changes the tracker rebuilds it (live, on the builder thread); the rest applies at once
    assert params.changed(publish_heatmap=False).tracker_spec() == params.tracker_spec()
    assert params.changed(stamp_tolerance=0.05).tracker_spec() == params.tracker_spec()
    for change in ({"tracker": "nano"}, {"device": "cpu"}, {"lost_below": 0.1}, {"fp16": True}):
        assert params.changed(**change).tracker_spec() != params.tracker_spec(), change
    assert params.stamp_tolerance_ns == 10_000_000
    assert params.tracker_overrides() == {}  # -1: the tracker config's calibrated thresholds
    config_state = load_config(params.tracker)["tracking"]["state"]
    assert params.thresholds().lost_below == config_state["lost_below"]
    changed = params.changed(lost_below=0.1)
    assert changed.tracker_overrides() == {"state": {"lost_below": 0.1}}
    assert changed.thresholds().lost_below == 0.1
    assert changed.thresholds().found_above == config_state["found_above"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lost_below": 1.5}, "lost_below must lie in"),
        ({"lost_below": -2.0}, "lost_below must lie in"),
        ({"lost_below": 0.6, "uncertain_below": 0.5}, "lost_below"),
        ({"lost_below": 0.3, "found_above": 0.1}, "found_above"),
        ({"stamp_tolerance": -0.001}, "stamp_tolerance"),
        ({"stamp_tolerance": math.nan}, "stamp_tolerance must be a finite float"),
        ({"buffer_size": 0}, "buffer_size"),
        ({"device": "gpu"}, "device must be auto, cpu, cuda or cuda:N"),
        ({"image_transport": "theora"}, "image_transport must be one of raw, compressed"),
        ({"tracker": "no_such_tracker"}, "unknown tracker 'no_such_tracker'"),
        ({"fp16": "yes"}, "fp16 must be a finite bool"),
        ({"publish_heatmap": 1}, "publish_heatmap must be a finite bool"),
        ({"image_topic": " "}, "image_topic"),
    ],
)
def test_node_params_validate_rejects_bad_values(values, message):
    with pytest.raises(ConfigError, match=message):
        replace(NodeParams(), **values).validate()


PARAMS_FILES = sorted((Path(__file__).resolve().parents[1] / "config").glob("*.params.yaml"))


@pytest.mark.parametrize("path", PARAMS_FILES, ids=[p.name for p in PARAMS_FILES])
def test_params_files_hold_every_parameter_with_its_declared_type(path):
    content = yaml.safe_load(path.read_text())
    # /**, not the node's name: a node-name key outranks launch arguments (wildcards) whatever the order
    assert list(content) == ["/**"], f"{path.name}: parameters go under /** (see launch/track.launch.py)"
    values = content["/**"]["ros__parameters"]
    assert sorted(values) == sorted(p.name for p in PARAMETERS), "a params file sets every parameter"
    for info in PARAMETERS:  # rclpy refuses a value whose type differs from the declared default's
        value = values[info.name]
        assert type(value) is info.type, f"{path.name}: {info.name} must be a {info.type.__name__}"
    assert values["tracker"] in available_trackers(), f"{path.name} names an unknown tracker"
    NodeParams(**values).validate()


def test_build_tracker_for_falls_back_to_the_cpu(shared_dir, monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: nothing to fall back from")
    monkeypatch.setenv("SIAM_TRACKER_WEIGHTS", str(shared_dir / "weights"))
    # cv2_nano: OpenCV's tracker builds in milliseconds and refuses any device but the CPU
    params = NodeParams(tracker="cv2_nano", device="cuda", fp16=True, lost_below=0.1).validate()
    tracker, notes = build_tracker_for(params)
    assert tracker_device(tracker) == "cpu" and len(notes) == 1 and "CPU" in notes[0]
    assert tracker._state.thresholds.lost_below == 0.1  # the node's thresholds reach the tracker


def test_rate_window_reports_rate_and_latency():
    window = RateWindow(window_s=2.0)
    assert window.summary(0.0) == (0.0, 0.0, 0.0)
    for i in range(40):
        window.record(10.0 + i * 0.05, latency_s=0.01 * (i % 3))
    rate, mean, peak = window.summary(12.0)
    assert rate == pytest.approx(20.0, rel=0.1) and mean == pytest.approx(0.01, abs=2e-3) and peak == 0.02
    assert window.summary(20.0)[0] == 0.0


def test_python_package_has_no_msg_or_srv_subpackage():
    """rosidl generates siam_tracker_ros/msg into the same install folder as the Python package."""
    package = Path(__file__).resolve().parents[1] / "siam_tracker_ros"
    assert not (package / "msg").exists() and not (package / "srv").exists()


def test_build_tracker_for_uses_the_cpu_backend_parameter(shared_dir, monkeypatch):
    from siam_tracker_ros.networks.inference import TracedNetwork

    monkeypatch.setenv("SIAM_TRACKER_WEIGHTS", str(shared_dir / "weights"))
    params = NodeParams(tracker="nano", device="cpu", cpu_backend="torchscript").validate()
    tracker, _ = build_tracker_for(params)
    assert isinstance(tracker.network, TracedNetwork)
    default = NodeParams(tracker="nano", device="cpu").validate()
    assert params.tracker_spec() != default.tracker_spec()  # changing it live rebuilds the tracker
    with pytest.raises(ConfigError, match="cpu_backend"):
        NodeParams(cpu_backend="tensorrt").validate()


def test_cv2_nano_on_an_opencv_without_tracker_nano_says_what_to_use(shared_dir, monkeypatch):
    """Ubuntu's python3-opencv before 4.7 (the node's OpenCV on Humble and Jazzy) has no TrackerNano."""
    monkeypatch.setenv("SIAM_TRACKER_WEIGHTS", str(shared_dir / "weights"))
    monkeypatch.delattr(cv2, "TrackerNano_create")
    with pytest.raises(ConfigError, match=r"needs OpenCV >= 4\.7 .*use nano"):
        build_tracker("cv2_nano")
