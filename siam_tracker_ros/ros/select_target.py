"""`ros2 run siam_tracker_ros select_target`: pick the target with the mouse on the live camera image.

Drag a box: the image freezes on the frame where the drag started, and on release the box is published
on /tracker/init with that frame's header, so the tracker initialises on exactly the frame the operator
saw and catches up from there. `r` stops tracking (a zero-size box), `q` or Esc quits. The current
/tracker/box is drawn over the live image.

Parameters: image_topic (default /camera/image_raw), image_transport (raw or compressed).
Needs an OpenCV build with GUI support (python3-opencv from apt, not opencv-python-headless).
"""

from __future__ import annotations

import contextlib
import sys
import threading

import cv2
import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from std_msgs.msg import Header

from siam_tracker_ros.errors import SiamTrackerError
from siam_tracker_ros.io.tracker_messages import BOX_TOPIC, INIT_TOPIC, box_from_corners
from siam_tracker_ros.msg import InitBox, TrackedBox
from siam_tracker_ros.pipeline import TargetState, TrackerOutput
from siam_tracker_ros.ros import messages
from siam_tracker_ros.visualization import draw_result

WINDOW = "select_target: drag a box | r: stop tracking | q: quit"
MIN_SIZE = 4.0  # px; smaller drags are taken for clicks and ignored
QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)


class TargetSelector(Node):
    def __init__(self) -> None:
        super().__init__("select_target")
        topic = self.declare_parameter("image_topic", "/camera/image_raw").value
        transport = self.declare_parameter("image_transport", "raw").value
        self._lock = threading.Lock()
        self._frame: tuple[np.ndarray, Header] | None = None
        self._box: TrackedBox | None = None
        sub = messages.camera_subscription(self, topic, transport, self._store, self._on_bad_image,
                                           qos_profile_sensor_data)
        self.image_topic = sub.topic_name
        self._init_pub = self.create_publisher(InitBox, INIT_TOPIC.lstrip("/"), QOS)
        self.create_subscription(TrackedBox, BOX_TOPIC.lstrip("/"), self._on_box, QOS)

    def _on_bad_image(self, exc: SiamTrackerError) -> None:
        self.get_logger().warning(f"cannot show image: {exc}", throttle_duration_sec=5.0)

    def _store(self, image: np.ndarray, header: Header) -> None:
        with self._lock:
            self._frame = (image, header)

    def _on_box(self, msg: TrackedBox) -> None:
        with self._lock:
            self._box = msg

    def latest(self) -> tuple[tuple[np.ndarray, Header] | None, TrackedBox | None]:
        with self._lock:
            return self._frame, self._box

    def publish_box(self, box: tuple[float, float, float, float], header: Header) -> None:
        x, y, w, h = (float(v) for v in box)
        self._init_pub.publish(InitBox(header=header, x=x, y=y, width=w, height=h))


class _Drag:
    """Mouse state: the frame frozen at button-down and the corners dragged so far."""

    def __init__(self) -> None:
        self.frame: tuple[np.ndarray, Header] | None = None
        self.start: tuple[int, int] | None = None
        self.end: tuple[int, int] | None = None
        self.done: tuple[float, float, float, float] | None = None


def _overlay(image: np.ndarray, box: TrackedBox | None) -> np.ndarray:
    if box is None or box.state == TargetState.IDLE:
        return image.copy()
    out = TrackerOutput(0, (box.x, box.y, box.width, box.height), box.confidence, TargetState(box.state),
                        box.tracker)
    return draw_result(image, out.as_track_result(), box.tracker, inset=False)


def run(node: TargetSelector) -> None:
    """The GUI loop (on the main thread, as GUI toolkits want); ROS callbacks run on another thread."""
    drag = _Drag()

    def on_mouse(event, x, y, flags, param) -> None:
        if event == cv2.EVENT_LBUTTONDOWN:
            drag.frame, _ = node.latest()
            drag.start = drag.end = (x, y)
        elif event == cv2.EVENT_MOUSEMOVE and drag.start is not None:
            drag.end = (x, y)
        elif event == cv2.EVENT_LBUTTONUP and drag.start is not None:
            box = box_from_corners(*drag.start, x, y)
            drag.start = drag.end = None
            if box[2] >= MIN_SIZE and box[3] >= MIN_SIZE:
                drag.done = box

    cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)
    cv2.setMouseCallback(WINDOW, on_mouse)
    log = node.get_logger()
    log.info(f"showing {node.image_topic}: drag a box around the target; r stops tracking, q quits")
    while rclpy.ok():
        frame, box = node.latest()
        if drag.done is not None:
            if drag.frame is None:
                log.warning("no image received yet: nothing to draw the box on")
            else:
                node.publish_box(drag.done, drag.frame[1])
                log.info(f"target [{', '.join(f'{v:.0f}' for v in drag.done)}] sent for the frame of "
                         f"{drag.frame[1].stamp.sec}.{drag.frame[1].stamp.nanosec:09d}")
            drag.done, drag.frame = None, None
        if drag.start is not None and drag.frame is not None:
            canvas = drag.frame[0].copy()  # frozen on the frame the box is drawn on
            cv2.rectangle(canvas, drag.start, drag.end, (255, 0, 255), 2)
        elif frame is not None:
            canvas = _overlay(frame[0], box)
        else:
            canvas = np.zeros((240, 640, 3), np.uint8)
            cv2.putText(canvas, f"waiting for images on {node.image_topic}", (10, 120),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.imshow(WINDOW, canvas)
        key = cv2.waitKey(15) & 0xFF
        if key in (ord("q"), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
            break
        if key == ord("r"):
            header = frame[1] if frame is not None else Header(stamp=Time())
            node.publish_box((0.0, 0.0, 0.0, 0.0), header)
            log.info("stop sent (zero-size box)")
    cv2.destroyAllWindows()


def _spin(executor: SingleThreadedExecutor) -> None:
    """Spin until shut down; Ctrl-C shuts the context down under the spinning thread, which is the end."""
    with contextlib.suppress(ExternalShutdownException):
        executor.spin()


def main(args=None) -> int:
    rclpy.init(args=args)
    node = executor = spinner = None
    code = 0
    try:
        node = TargetSelector()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        spinner = threading.Thread(target=_spin, args=(executor,), daemon=True)
        spinner.start()
        run(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except cv2.error as exc:  # e.g. opencv-python-headless: no GUI
        get_logger("select_target").fatal(
            f"OpenCV cannot open a window here ({exc}); install python3-opencv (with GUI) or select the "
            "target with rqt_image_view clicks instead")
        code = 1
    finally:
        if executor is not None:
            executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        if spinner is not None:
            spinner.join(timeout=2.0)
    return code


if __name__ == "__main__":
    sys.exit(main())
