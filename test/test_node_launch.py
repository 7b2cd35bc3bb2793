"""The real node started by the package's own launch file: camera frames at 30 Hz in, an InitBox drawn
on an older frame, and /tracker/box out, stamped with the image stamps and overlapping the ground truth.
`tracker:=nano` must win over the default params file's drol_nano (launch arguments override the file).

Run in a sourced ROS 2 workspace: `colcon test --packages-select siam_tracker_ros` (add_launch_test)
or `launch_test test/test_node_launch.py`. Needs the shared data folder ($SIAM_TRACKER_SHARED: frames
and NanoTrack weights); without it the tests skip. Without ROS (the project's CI) the module is skipped at
import.
"""

import os
import time
import unittest
from pathlib import Path

import pytest

rclpy = pytest.importorskip(
    "rclpy", reason="ROS 2 is not sourced: source /opt/ros/<distro>/setup.bash and the workspace's "
    "install/setup.bash to run this launch test")
pytest.importorskip(
    "launch_testing", reason="launch_testing is not available: source a ROS 2 installation with it")

import cv2  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
from ament_index_python.packages import get_package_share_directory  # noqa: E402
from launch.actions import IncludeLaunchDescription, SetEnvironmentVariable  # noqa: E402
from launch.launch_description import LaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from siam_tracker_ros.msg import InitBox, TrackedBox  # noqa: E402

from siam_tracker_ros.io.images import bgr_to_image_fields  # noqa: E402
from siam_tracker_ros.libs.boxes import iou_xywh  # noqa: E402
from siam_tracker_ros.ros import messages  # noqa: E402

SHARED = Path(os.environ.get("SIAM_TRACKER_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
SEQUENCE = SHARED / "data" / "sequences" / "vot_bag"
# launch_test imports this file outside pytest, where a module-level pytest.skip is an error, not a skip
MISSING = None if SEQUENCE.is_dir() else f"shared folder {SHARED} not found; set SIAM_TRACKER_SHARED to it"

IMAGE_TOPIC = "/siam_tracker_test/image_raw"
FRAME_ID = "test_camera"
N_FRAMES = 120  # 4 s at 30 Hz
INIT_AFTER = 15  # the box, drawn on frame 0, arrives after this many frames (init on an older frame)
T0 = 1_700_000_000 * 10**9
PERIOD_NS = 33_333_333
RELIABLE = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=200, reliability=ReliabilityPolicy.RELIABLE)


@pytest.mark.launch_test
def generate_test_description():
    if MISSING:
        return LaunchDescription([launch_testing.actions.ReadyToTest()]), {}
    launch_file = Path(get_package_share_directory("siam_tracker_ros")) / "launch" / "track.launch.py"
    track = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(launch_file)),
        launch_arguments={"tracker": "nano", "device": "cpu", "image_topic": IMAGE_TOPIC}.items(),
    )
    return LaunchDescription([
        SetEnvironmentVariable("SIAM_TRACKER_WEIGHTS", str(SHARED / "weights")),
        track,
        launch_testing.actions.ReadyToTest(),
    ]), {}


def _load_sequence():
    paths = sorted((SEQUENCE / "img").glob("*.jpg"))[:N_FRAMES]
    frames = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths]
    gt = np.loadtxt(SEQUENCE / "groundtruth_rect.txt", delimiter=",")[:N_FRAMES]
    return frames, gt


class TestTrackerNode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if MISSING:
            raise unittest.SkipTest(MISSING)
        rclpy.init()
        cls.frames, cls.gt = _load_sequence()

    @classmethod
    def tearDownClass(cls):
        rclpy.shutdown()

    def setUp(self):
        self.node = rclpy.create_node("siam_tracker_launch_test")
        self.boxes: list[TrackedBox] = []
        self.node.create_subscription(TrackedBox, "/tracker/box", self.boxes.append, RELIABLE)
        self.image_pub = self.node.create_publisher(Image, IMAGE_TOPIC, RELIABLE)
        self.init_pub = self.node.create_publisher(InitBox, "/tracker/init", RELIABLE)

    def tearDown(self):
        self.node.destroy_node()

    def _spin_until(self, condition, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if condition():
                return True
            rclpy.spin_once(self.node, timeout_sec=0.05)
        return condition()

    def _image(self, index: int) -> Image:
        header = messages.header(T0 + index * PERIOD_NS, FRAME_ID)
        return messages.image(bgr_to_image_fields(self.frames[index]), header)

    def test_tracks_the_target_with_the_image_stamps(self, proc_output):
        # Loading torch and the network takes a while: wait until the node listens and publishes.
        ready = self._spin_until(
            lambda: (self.node.count_subscribers(IMAGE_TOPIC) > 0
                     and self.node.count_subscribers("/tracker/init") > 0
                     and self.node.count_publishers("/tracker/box") > 0),
            timeout_s=180.0)
        self.assertTrue(ready, "the node did not subscribe to the image and /tracker/init within 180 s")
        proc_output.assertWaitFor("waiting for images", timeout=30)

        stamps = [T0 + i * PERIOD_NS for i in range(len(self.frames))]
        next_time = time.monotonic()
        for i in range(len(self.frames)):
            self.image_pub.publish(self._image(i))
            if i == INIT_AFTER:
                x, y, w, h = (float(v) for v in self.gt[0])
                self.init_pub.publish(InitBox(header=messages.header(stamps[0], FRAME_ID),
                                              x=x, y=y, width=w, height=h))
            next_time += PERIOD_NS / 1e9
            while time.monotonic() < next_time:
                rclpy.spin_once(self.node, timeout_sec=max(0.0, next_time - time.monotonic()))
        last = stamps[-1]
        self._spin_until(lambda: any(messages.header_stamp_ns(b.header) == last for b in self.boxes), 10.0)
        self._spin_until(lambda: False, 1.0)  # stragglers

        self.assertGreater(len(self.boxes), 10, "too few /tracker/box messages")
        self.assertEqual({b.tracker for b in self.boxes}, {"nano"},
                         "the launch argument tracker:=nano must override the params file's drol_nano")
        index_of = {s: i for i, s in enumerate(stamps)}
        received = [messages.header_stamp_ns(b.header) for b in self.boxes]
        for stamp, box in zip(received, self.boxes):
            self.assertIn(stamp, index_of, "every box carries the stamp of an image it was computed from")
            self.assertEqual(box.header.frame_id, FRAME_ID)
        self.assertEqual(len(set(received)), len(received), "each frame's result is published once")
        self.assertEqual(received, sorted(received), "results come in frame order")

        tracked = [(index_of[s], b) for s, b in zip(received, self.boxes) if b.state != TrackedBox.IDLE]
        self.assertGreater(len(tracked), 20, "the node did not track after the InitBox")
        self.assertTrue(all(b.state == TrackedBox.IDLE for s, b in zip(received, self.boxes)
                            if index_of[s] < INIT_AFTER - 1), "no target before the InitBox")
        ious = np.array([iou_xywh(np.array([b.x, b.y, b.width, b.height]), self.gt[i]) for i, b in tracked])
        self.assertGreater(float(np.mean(ious)), 0.5, f"mean IoU with the ground truth {np.mean(ious):.2f}")
        self.assertGreater(float(np.mean(ious > 0.3)), 0.8, "boxes must overlap the ground truth")
        self.assertTrue(all(0.0 <= b.confidence <= 1.0 and b.tracker == "nano" for _, b in tracked))


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_node_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
