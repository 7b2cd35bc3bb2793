"""The tracker node: camera images in, the target's box, confidence, state, heatmap, debug image and
diagnostics out, each stamped with the header of the image it was computed from.

Threads: images are decoded and buffered on an executor thread, then handed to one tracking thread
through a `LatestFrameSlot` (keep the newest, count the rest as dropped), so a slow frame never blocks
the executor and the controller always gets the newest position. Boxes, clicks, the reset service and
diagnostics run in their own callback groups; a new tracker (parameter change) is built on a separate
thread while the old one keeps tracking. All processing is `siam_tracker_ros.pipeline`, shared with the
offline command line; this module only moves messages in and out.

Topic names are relative, so with the default namespace they are /tracker/box etc. and a namespaced
launch (one tracker per drone) keeps them apart. Bad input (unsupported encodings, empty images, boxes
outside the image, NaN) is logged once per few seconds and never stops the node; a bad configuration at
start-up does, before the drone flies.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Point
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Float32
from std_srvs.srv import Trigger

from siam_tracker_ros.errors import SiamTrackerError, TrackerFailure
from siam_tracker_ros.io.images import bgr_to_image_fields
from siam_tracker_ros.io.tracker_messages import (
    BOX_TOPIC,
    CLICK_SUFFIX,
    CONFIDENCE_TOPIC,
    DEBUG_IMAGE_TOPIC,
    HEATMAP_TOPIC,
    INIT_TOPIC,
    RESET_SERVICE,
    ClickBox,
    diagnostic_status_fields,
    init_request,
)
from siam_tracker_ros.msg import Heatmap, InitBox, TrackedBox
from siam_tracker_ros.pipeline import (
    PARAMETERS,
    LatestFrameSlot,
    NodeParams,
    RateWindow,
    TargetState,
    TrackerOutput,
    TrackingPipeline,
    build_tracker_for,
    tracker_device,
)
from siam_tracker_ros.ros import messages
from siam_tracker_ros.trackers.registry import available_trackers
from siam_tracker_ros.visualization import draw_result

NODE_NAME = "siam_tracker"
THROTTLE_S = 5.0  # bad input: one log line per this many seconds per kind of problem

# Results: reliable (works with reliable and best-effort subscribers alike), newest first.
RESULT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
IMAGE_OUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE)
CONTROL_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)


def _relative(name: str) -> str:
    """'/tracker/box' -> 'tracker/box': resolved in the node's namespace (/tracker/box by default)."""
    return name.lstrip("/")


@dataclass
class _Frame:
    image: np.ndarray
    stamp_ns: int
    frame_id: str
    received_s: float  # time.monotonic() at receipt, for the latency figure


def _descriptor(info) -> ParameterDescriptor:
    """ROS parameter descriptor from one row of the NodeParams table."""
    descriptor = ParameterDescriptor(name=info.name, description=info.description, read_only=info.read_only)
    if info.choices:
        descriptor.additional_constraints = "one of: " + ", ".join(info.choices)
    elif info.name == "tracker":
        descriptor.additional_constraints = "one of: " + ", ".join(available_trackers())
    if info.low is not None and info.type is float:
        descriptor.floating_point_range = [
            FloatingPointRange(from_value=float(info.low), to_value=float(info.high), step=0.0)
        ]
    elif info.low is not None and info.type is int:
        descriptor.integer_range = [IntegerRange(from_value=int(info.low), to_value=int(info.high), step=1)]
    return descriptor


class TrackerNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        log = self.get_logger()
        self._params = self._declare_parameters()  # raises ConfigError on a bad start-up configuration
        params = self._params
        torch.set_num_threads(params.cpu_threads)

        tracker, notes = build_tracker_for(params)
        for note in notes:
            log.warning(note)
        device = tracker_device(tracker)
        if params.device == "auto" and device == "cpu":
            log.warning("no CUDA device found: tracking on the CPU")
        log.info(f"tracker {tracker.name} loaded on {device}")
        self._running = params  # parameters the running tracker was built from
        self._pipeline = TrackingPipeline(tracker, buffer_size=params.buffer_size,
                                          stamp_tolerance_ns=params.stamp_tolerance_ns)

        self._frames: LatestFrameSlot[_Frame] = LatestFrameSlot()
        self._build_requests: LatestFrameSlot[NodeParams] = LatestFrameSlot()
        self._stopping = threading.Event()
        self._params_lock = threading.Lock()
        # Ctrl-C shuts the context down before destroy_node runs: the threads must stop publishing then
        self.context.on_shutdown(self._stopping.set)
        self._clicks = ClickBox()
        self._input_rate = RateWindow()
        self._output_rate = RateWindow()
        self._last_output: TrackerOutput | None = None
        self._last_published_ns: int | None = None
        self._last_image_s: float | None = None
        self._processed = 0
        self._errors = 0
        self._errors_reported = 0
        self._warned_zero_stamp = False

        # -- outputs --
        self._box_pub = self.create_publisher(TrackedBox, _relative(BOX_TOPIC), RESULT_QOS)
        self._confidence_pub = self.create_publisher(Float32, _relative(CONFIDENCE_TOPIC), RESULT_QOS)
        self._heatmap_pub = self.create_publisher(Heatmap, _relative(HEATMAP_TOPIC), IMAGE_OUT_QOS)
        self._debug_pub = self.create_publisher(Image, _relative(DEBUG_IMAGE_TOPIC), IMAGE_OUT_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", RESULT_QOS)

        # -- inputs --
        image_group = MutuallyExclusiveCallbackGroup()
        control_group = MutuallyExclusiveCallbackGroup()
        diag_group = MutuallyExclusiveCallbackGroup()
        image_sub = messages.camera_subscription(self, params.image_topic, params.image_transport,
                                                 self._accept, self._on_bad_image, qos_profile_sensor_data,
                                                 callback_group=image_group)
        self._image_topic = image_sub.topic_name  # fully resolved, for log lines and diagnostics
        init_sub = self.create_subscription(InitBox, _relative(INIT_TOPIC), self._on_init, CONTROL_QOS,
                                            callback_group=control_group)
        if params.init_from_clicks:
            self.create_subscription(Point, params.image_topic.rstrip("/") + CLICK_SUFFIX, self._on_click,
                                     CONTROL_QOS, callback_group=control_group)
        self.create_service(Trigger, _relative(RESET_SERVICE), self._on_reset, callback_group=control_group)
        self.create_timer(1.0, self._publish_diagnostics, callback_group=diag_group)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self._worker = threading.Thread(target=self._track_loop, name="siam_tracker_track", daemon=True)
        self._builder = threading.Thread(target=self._build_loop, name="siam_tracker_build", daemon=True)
        self._worker.start()
        self._builder.start()
        log.info(f"waiting for images on {self._image_topic}; send the target on {init_sub.topic_name}")

    # -- parameters -----------------------------------------------------------------------------
    def _declare_parameters(self) -> NodeParams:
        values = {info.name: self.declare_parameter(info.name, info.default, _descriptor(info)).value
                  for info in PARAMETERS}
        return NodeParams(**values).validate()

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        """Validate a run-time change as a whole; a change of tracker, device, weights or thresholds is
        built on the builder thread (loading a network takes seconds) while tracking goes on. Called on
        the parameter service's thread and, when a failed build sets them back, on the builder's: the
        lock keeps one change from overwriting the other."""
        infos = {info.name: info for info in PARAMETERS}
        changes = {p.name: p.value for p in parameters if p.name in infos}
        if not changes:
            return SetParametersResult(successful=True)
        with self._params_lock:
            return self._apply_parameters(changes, infos)

    def _apply_parameters(self, changes: dict, infos: dict) -> SetParametersResult:
        for name, value in changes.items():
            if infos[name].read_only and value != getattr(self._params, name):
                reason = f"{name} is fixed at start-up; restart the node to change it"
                return SetParametersResult(successful=False, reason=reason)
        try:
            new = self._params.changed(**changes)
        except SiamTrackerError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        if new.tracker_spec() != self._params.tracker_spec():
            self._build_requests.put(new)
        self._pipeline.stamp_tolerance_ns = new.stamp_tolerance_ns
        self._params = new
        return SetParametersResult(successful=True)

    def _build_loop(self) -> None:
        while not self._stopping.is_set():
            params = self._build_requests.take(timeout=0.5)
            if params is None or params.tracker_spec() == self._running.tracker_spec():
                continue
            try:
                self._switch_tracker(params)
            except Exception as exc:  # noqa: BLE001 - the thread must live on for the next change
                self.get_logger().error(f"switching to tracker {params.tracker!r} failed: {exc!r}")

    def _switch_tracker(self, params: NodeParams) -> None:
        """Build the tracker `params` name while the old one keeps tracking, then hand the target over."""
        log = self.get_logger()
        log.info(f"loading tracker {params.tracker} (device {params.device}); {self._running.tracker} "
                 "keeps tracking meanwhile")
        try:
            tracker, notes = build_tracker_for(params)
        except Exception as exc:  # noqa: BLE001 - weights, CUDA or config problems: keep the old tracker
            log.error(f"could not load tracker {params.tracker!r}: {exc}; still tracking with "
                      f"{self._running.tracker}")
            if not self._build_requests.pending:
                self._revert_tracker_parameters()
            return
        for note in notes:
            log.warning(note)
        try:
            self._pipeline.set_tracker(tracker)  # on any failure it is IDLE with the new tracker
        except SiamTrackerError as exc:
            log.warning(f"{tracker.name} could not take over the target ({exc}); send a new box")
        self._running = params
        log.info(f"tracker {tracker.name} running on {tracker_device(tracker)}")

    def _revert_tracker_parameters(self) -> None:
        """Put the parameters back to what the running tracker was built from, so `ros2 param get`
        never names a tracker that is not running."""
        running = self._running
        reverted = [Parameter(info.name, value=getattr(running, info.name))
                    for info in PARAMETERS if info.rebuilds_tracker]
        for result in self.set_parameters(reverted):
            if not result.successful:
                self.get_logger().error(f"could not restore the tracker parameters: {result.reason}")

    # -- inputs ---------------------------------------------------------------------------------
    def _on_bad_image(self, exc: SiamTrackerError) -> None:
        """A camera message that cannot be decoded is counted, logged (throttled) and skipped."""
        self._errors += 1
        self.get_logger().warning(f"ignoring image on {self._image_topic}: {exc}",
                                  throttle_duration_sec=THROTTLE_S)

    def _accept(self, image: np.ndarray, msg_header) -> None:
        """Buffer the frame (so a box drawn on it can be matched) and hand it to the tracking thread."""
        now = time.monotonic()
        stamp_ns = messages.header_stamp_ns(msg_header)
        if stamp_ns == 0:  # a driver that does not stamp: frames would all look like one
            stamp_ns = self.get_clock().now().nanoseconds
            if not self._warned_zero_stamp:
                self._warned_zero_stamp = True
                self.get_logger().warning(f"images on {self._image_topic} have zero stamps; using the node's "
                                          "clock at receipt instead (fix the camera driver)")
        try:
            self._pipeline.add_frame(image, stamp_ns)
        except SiamTrackerError as exc:
            self._errors += 1
            self.get_logger().warning(f"ignoring image: {exc}", throttle_duration_sec=THROTTLE_S)
            return
        self._last_image_s = now
        self._input_rate.record(now)
        self._frames.put(_Frame(image, stamp_ns, msg_header.frame_id, now))

    def _on_init(self, msg: InitBox) -> None:
        box, stamp_ns = init_request(msg.x, msg.y, msg.width, msg.height, msg.header.stamp.sec,
                                     msg.header.stamp.nanosec)
        self._start_target(box, stamp_ns, "InitBox")

    def _on_click(self, msg: Point) -> None:
        try:
            box = self._clicks.click(msg.x, msg.y, time.monotonic())
        except SiamTrackerError as exc:
            self.get_logger().warning(f"click ignored: {exc}", throttle_duration_sec=1.0)
            return
        if box is None:
            self.get_logger().info(f"first corner at ({msg.x:.0f}, {msg.y:.0f}); click the opposite corner")
            return
        self._start_target(np.array(box), None, "clicks")

    def _start_target(self, box: np.ndarray, stamp_ns: int | None, source: str) -> None:
        log = self.get_logger()
        try:
            out = self._pipeline.request_init(box, stamp_ns)
        except TrackerFailure as exc:  # the pipeline stopped tracking (IDLE)
            self._errors += 1
            log.error(f"{source}: {exc}", throttle_duration_sec=1.0)
            return
        except SiamTrackerError as exc:
            log.warning(f"{source} ignored: {exc}", throttle_duration_sec=1.0)
            return
        except Exception as exc:  # noqa: BLE001 - whatever a box does, the node keeps running
            self._errors += 1
            self._pipeline.reset()
            log.error(f"{source} could not start tracking ({exc!r}); tracking stopped",
                      throttle_duration_sec=1.0)
            return
        shown = ", ".join(f"{v:.0f}" for v in box)
        if box[2] == 0 and box[3] == 0:
            log.info(f"tracking stopped ({source} with zero size)")
        elif out is None:
            log.info(f"{source} [{shown}] waits for its frame (none received yet)")
        else:
            log.info(f"tracking target [{shown}] from {source}; caught up to the frame of "
                     f"{out.stamp_ns / 1e9:.3f} s, state {out.state.name}")

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self._pipeline.reset()
        self.get_logger().info("tracking stopped (reset service)")
        response.success = True
        response.message = "tracking stopped; send a new target on /tracker/init"
        return response

    # -- tracking thread --------------------------------------------------------------------------
    def _track_loop(self) -> None:
        log = self.get_logger()
        while not self._stopping.is_set():
            frame = self._frames.take(timeout=0.2)
            if frame is None:
                continue
            try:
                out = self._pipeline.process(frame.image, frame.stamp_ns, buffered=True)  # by _accept
            except TrackerFailure as exc:  # the pipeline stopped tracking: say IDLE, not nothing
                self._errors += 1
                log.error(f"frame {frame.stamp_ns / 1e9:.3f} s: {exc}", throttle_duration_sec=THROTTLE_S)
                out = TrackerOutput.idle(frame.stamp_ns, self._pipeline.tracker_name)
            except SiamTrackerError as exc:
                self._errors += 1
                log.warning(f"frame {frame.stamp_ns / 1e9:.3f} s: {exc}", throttle_duration_sec=THROTTLE_S)
                continue
            except Exception as exc:  # noqa: BLE001 - nothing a frame does may end the tracking thread
                self._errors += 1
                self._pipeline.reset()
                log.error(f"tracking failed on frame {frame.stamp_ns / 1e9:.3f} s ({exc!r}); tracking "
                          "stopped, send the target's box again", throttle_duration_sec=THROTTLE_S)
                out = TrackerOutput.idle(frame.stamp_ns, self._pipeline.tracker_name)
            self._processed += 1
            if out.stamp_ns == self._last_published_ns:
                continue  # a frame already tracked (caught up on after a box): published once
            try:
                self._publish(out, frame)
            except Exception as exc:  # noqa: BLE001 - e.g. publishing during shutdown
                if self._stopping.is_set():
                    return
                log.error(f"publishing failed: {exc!r}", throttle_duration_sec=THROTTLE_S)

    def _publish(self, out: TrackerOutput, frame: _Frame) -> None:
        header = messages.header(out.stamp_ns, frame.frame_id)
        self._box_pub.publish(messages.tracked_box(out, header))
        self._confidence_pub.publish(messages.confidence(out))
        self._last_published_ns = out.stamp_ns
        self._last_output = out
        self._output_rate.record(time.monotonic(), time.monotonic() - frame.received_s)
        params = self._params
        if params.publish_heatmap and self._heatmap_pub.get_subscription_count() > 0:
            heatmap = messages.heatmap(out, header)
            if heatmap is not None:
                self._heatmap_pub.publish(heatmap)
        if params.publish_debug_image and self._debug_pub.get_subscription_count() > 0:
            image = frame.image
            if out.stamp_ns != frame.stamp_ns:  # a caught-up frame: draw on that frame, not this one
                buffered = self._pipeline.buffer.find(out.stamp_ns, 0)
                image = buffered[1] if buffered is not None else image
            result = out.as_track_result()
            canvas = image if result is None else draw_result(image, result, out.tracker_name)
            self._debug_pub.publish(messages.image(bgr_to_image_fields(canvas), header))

    # -- diagnostics ----------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        now = time.monotonic()
        input_rate, _, _ = self._input_rate.summary(now)
        output_rate, latency_mean, latency_max = self._output_rate.summary(now)
        last = self._last_output
        errors, self._errors_reported = self._errors - self._errors_reported, self._errors
        fields = diagnostic_status_fields(
            name=f"{self.get_name()}: tracking",
            tracker=self._pipeline.tracker_name,
            device=tracker_device(self._pipeline.tracker),
            state=last.state if last is not None else TargetState.IDLE,
            confidence=last.confidence if last is not None else 0.0,
            image_topic=self._image_topic,
            input_rate_hz=input_rate,
            output_rate_hz=output_rate,
            latency_mean_s=latency_mean,
            latency_max_s=latency_max,
            dropped_frames=self._frames.dropped,
            processed_frames=self._processed,
            recent_errors=errors,
            seconds_since_image=None if self._last_image_s is None else now - self._last_image_s,
            init_pending=self._pipeline.init_pending,
        )
        self._diag_pub.publish(messages.diagnostics(fields, self.get_clock().now().to_msg()))

    # -- shutdown -------------------------------------------------------------------------------
    def destroy_node(self) -> None:
        """Stop the worker threads before the publishers they use go away."""
        self._stopping.set()
        self._frames.close()
        self._build_requests.close()
        for thread in (self._worker, self._builder):
            thread.join(timeout=5.0)
        super().destroy_node()


def main(args=None) -> int:
    rclpy.init(args=args)
    node = executor = None
    code = 0
    try:
        node = TrackerNode()
        executor = MultiThreadedExecutor(num_threads=4)
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (SiamTrackerError, ParameterException) as exc:  # bad configuration at start-up
        get_logger(NODE_NAME).fatal(f"cannot start: {exc}")
        code = 1
    finally:
        if executor is not None:
            executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
