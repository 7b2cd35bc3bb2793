"""rclpy message classes filled from the ROS-free field dicts of `siam_tracker_ros.io.tracker_messages`.

Only the construction of message objects lives here; every value is computed (and tested without ROS)
in tracker_messages.
"""

from __future__ import annotations

import array

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from sensor_msgs.msg import Image
from std_msgs.msg import Float32, Header

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
