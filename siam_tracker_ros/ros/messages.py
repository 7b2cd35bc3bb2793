"""rclpy message classes filled from the ROS-free field dicts of `siam_tracker_ros.io.tracker_messages`,
and the camera subscription (raw or compressed, decoded to BGR) that both nodes use.

Only the construction and decoding of message objects lives here; every value is computed (and tested
without ROS) in tracker_messages and io.images.
"""

from __future__ import annotations

import array

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Float32, Header

from siam_tracker_ros.errors import SiamTrackerError
from siam_tracker_ros.io.images import compressed_msg_to_bgr, image_msg_to_bgr
from siam_tracker_ros.io.tracker_messages import (
    heatmap_fields,
    ns_to_stamp,
    stamp_to_ns,
    tracked_box_fields,
)
from siam_tracker_ros.msg import Heatmap, TrackedBox
from siam_tracker_ros.pipeline import TrackerOutput


def header(stamp_ns: int, frame_id: str) -> Header:
    sec, nanosec = ns_to_stamp(stamp_ns)
    return Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=frame_id)


def header_stamp_ns(msg_header: Header) -> int:
    return stamp_to_ns(msg_header.stamp.sec, msg_header.stamp.nanosec)


def tracked_box(output: TrackerOutput, msg_header: Header) -> TrackedBox:
    return TrackedBox(header=msg_header, **tracked_box_fields(output))


def confidence(output: TrackerOutput) -> Float32:
    return Float32(data=float(output.confidence))


def image(fields: dict, msg_header: Header) -> Image:
    """An Image from `io.images`-style fields. `data` goes in as an array.array: the generated setter
    takes that as is, where a bytes object would be checked byte by byte in Python (slow for frames)."""
    msg = Image(header=msg_header, height=fields["height"], width=fields["width"],
                encoding=fields["encoding"], is_bigendian=int(fields["is_bigendian"]), step=fields["step"])
    msg.data = array.array("B", fields["data"])
    return msg


def heatmap(output: TrackerOutput, msg_header: Header) -> Heatmap | None:
    fields = heatmap_fields(output)
    if fields is None:
        return None
    return Heatmap(header=msg_header, image=image(fields.pop("image"), msg_header), **fields)


def diagnostics(status_fields: dict, stamp: Time) -> DiagnosticArray:
    """A DiagnosticArray with one status from `tracker_messages.diagnostic_status_fields`."""
    status = DiagnosticStatus(
        level=bytes([status_fields["level"]]),  # `byte` fields are bytes of length 1 in rclpy
        name=status_fields["name"],
        message=status_fields["message"],
        hardware_id=status_fields["hardware_id"],
        values=[KeyValue(key=k, value=v) for k, v in status_fields["values"]],
    )
    return DiagnosticArray(header=Header(stamp=stamp), status=[status])


def camera_subscription(node, topic: str, transport: str, on_image, on_error, qos, **kwargs):
    """Subscribe `node` to the camera: sensor_msgs/Image on `topic` (transport 'raw') or CompressedImage on
    <topic>/compressed ('compressed'). Each message is decoded to BGR and handed to
    `on_image(image, header)`; one that cannot be decoded is skipped and its error handed to `on_error`."""
    if transport == "compressed":
        msg_type, decode, topic = CompressedImage, compressed_msg_to_bgr, topic.rstrip("/") + "/compressed"
    else:
        msg_type, decode = Image, image_msg_to_bgr

    def receive(msg) -> None:
        try:
            image = decode(msg)
        except SiamTrackerError as exc:
            on_error(exc)
            return
        on_image(image, msg.header)

    return node.create_subscription(msg_type, topic, receive, qos, **kwargs)
