"""Write the pipeline's outputs as a rosbag2 with the node's topics and message types, without ROS.

A bag written offline (`siam-track track ... --out-bag`) therefore replays into the same controllers and
tools as the live node: /tracker/box (siam_tracker_ros/msg/TrackedBox), /tracker/confidence
(std_msgs/msg/Float32), /tracker/heatmap (siam_tracker_ros/msg/Heatmap) and optionally the camera frames.
The package's own message types are read from its .msg files and registered with `rosbags`, so the
definitions stored in the bag are exactly the ones the ROS build generates code from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siam_tracker_ros.errors import SiamTrackerError
from siam_tracker_ros.io.images import bgr_to_image_fields, image_fields_to_float_map
from siam_tracker_ros.io.sources import DEFAULT_FRAME_ID
from siam_tracker_ros.io.tracker_messages import (
    BOX_TOPIC,
    CONFIDENCE_TOPIC,
    HEATMAP_TOPIC,
    HEATMAP_TYPE,
    PACKAGE,
    TRACKED_BOX_TYPE,
    heatmap_fields,
    ns_to_stamp,
    stamp_to_ns,
    tracked_box_fields,
)
from siam_tracker_ros.pipeline import TargetState, TrackerOutput

FLOAT32_TYPE = "std_msgs/msg/Float32"
IMAGE_TYPE = "sensor_msgs/msg/Image"
BAG_VERSION = 8  # rosbag2 metadata version read by Iron and Jazzy (the oldest rosbags writes)


def interface_dir() -> Path:
    """Folder of the package's .msg files: the installed copy beside the package's modules (package data
    `interface_files`, placed there by pip and by the CMake install alike), else the source tree's msg/.

    Found by path rather than importlib.resources: `interface_files` has no __init__.py, and files() of
    such a namespace package is a MultiplexedPath whose str() is not a path.
    """
    here = Path(__file__).resolve()
    installed = here.parents[1] / "interface_files"
    return installed if any(installed.glob("*.msg")) else here.parents[2] / "msg"


def message_definitions() -> dict[str, str]:
    """{'siam_tracker_ros/msg/<Name>': .msg text} for every message of the package."""
    folder = interface_dir()
    found = {f"{PACKAGE}/msg/{p.stem}": p.read_text() for p in sorted(folder.glob("*.msg"))}
    if not found:
        raise SiamTrackerError(f"no .msg files found in {folder}; reinstall the package")
    return found


def make_typestore():
    """A rosbags typestore with the standard ROS 2 types and the package's own messages."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types = {}
    for name, text in message_definitions().items():
        types.update(get_types_from_msg(text, name))
    store.register(types)
    return store


def check_new_bag(path) -> None:
    """A bag is never written over (rosbag2 refuses to, and it may be a recording the user needs)."""
    if Path(path).exists():
        raise SiamTrackerError(f"output bag {path} already exists; remove it or choose another path")


class BagOutputWriter:
    """Context manager writing one message per topic for every `write(output)`.

    Each message's header carries the output's stamp (the stamp of the frame it was computed on) and is
    also the bag's receive time, as recorded from the live node. `image_topic`: also store the frames
    given to `write(..., image=...)` as sensor_msgs/Image bgr8 on that topic.
    """

    def __init__(self, path, image_topic: str | None = None, with_heatmap: bool = True) -> None:
        self.path = Path(path)
        self.image_topic = image_topic
        self.with_heatmap = with_heatmap
        self._writer = None
        self._connections: dict[str, object] = {}
        self._store = None
        self.count = 0

    def __enter__(self) -> BagOutputWriter:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        from rosbags.rosbag2 import Writer

        check_new_bag(self.path)
        self._store = make_typestore()
        writer = Writer(self.path, version=BAG_VERSION)
        try:
            writer.open()
        except Exception as exc:  # rosbags raises its own WriterError (missing parent, permissions)
            raise SiamTrackerError(f"cannot write the bag {self.path}: {exc}") from exc
        self._writer = writer
        topics = {BOX_TOPIC: TRACKED_BOX_TYPE, CONFIDENCE_TOPIC: FLOAT32_TYPE}
        if self.with_heatmap:
            topics[HEATMAP_TOPIC] = HEATMAP_TYPE
        if self.image_topic:
            topics[self.image_topic] = IMAGE_TYPE
        for topic, msgtype in topics.items():
            self._connections[topic] = writer.add_connection(topic, msgtype, typestore=self._store)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def write(self, output: TrackerOutput, frame_id: str = DEFAULT_FRAME_ID, image: np.ndarray | None = None
              ) -> None:
        """Write one output (and its frame, when the writer has an image topic)."""
        if self._writer is None:
            raise SiamTrackerError("BagOutputWriter.write called outside its `with` block")
        types = self._store.types
        sec, nanosec = ns_to_stamp(output.stamp_ns)
        header = types["std_msgs/msg/Header"](
            stamp=types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id=frame_id
        )
        messages = [
            (BOX_TOPIC, types[TRACKED_BOX_TYPE](header=header, **tracked_box_fields(output))),
            (CONFIDENCE_TOPIC, types[FLOAT32_TYPE](data=float(output.confidence))),
        ]
        fields = heatmap_fields(output) if self.with_heatmap else None
        if fields is not None:
            image_msg = self._image(header, fields.pop("image"))
            messages.append((HEATMAP_TOPIC, types[HEATMAP_TYPE](header=header, image=image_msg, **fields)))
        if self.image_topic and image is not None:
            messages.append((self.image_topic, self._image(header, bgr_to_image_fields(image))))
        for topic, msg in messages:
            data = self._store.serialize_cdr(msg, msg.__msgtype__)
            self._writer.write(self._connections[topic], int(output.stamp_ns), data)
        self.count += 1

    def _image(self, header, fields: dict):
        data = np.frombuffer(fields.pop("data"), dtype=np.uint8)
        return self._store.types[IMAGE_TYPE](header=header, data=data, **fields)


def read_bag(path) -> dict[str, list]:
    """{topic: [deserialised message, ...]} in bag order, using the package's message definitions."""
    from rosbags.rosbag2 import Reader

    store = make_typestore()
    topics: dict[str, list] = {}
    with Reader(Path(path)) as reader:
        for connection, _, raw in reader.messages():
            msg = store.deserialize_cdr(raw, connection.msgtype)
            topics.setdefault(connection.topic, []).append(msg)
    return topics


def read_outputs(path) -> list[TrackerOutput]:
    """The TrackerOutputs stored in a bag written by BagOutputWriter (latency is not stored: 0)."""
    topics = read_bag(path)
    heatmaps = {}
    for msg in topics.get(HEATMAP_TOPIC, []):
        stamp = stamp_to_ns(msg.header.stamp.sec, msg.header.stamp.nanosec)
        heatmaps[stamp] = (image_fields_to_float_map(msg.image), (msg.x, msg.y, msg.width, msg.height))
    outputs = []
    for msg in topics.get(BOX_TOPIC, []):
        stamp = stamp_to_ns(msg.header.stamp.sec, msg.header.stamp.nanosec)
        response, region = heatmaps.get(stamp, (None, None))
        outputs.append(TrackerOutput(
            stamp_ns=stamp,
            box=(float(msg.x), float(msg.y), float(msg.width), float(msg.height)),
            confidence=float(msg.confidence),
            state=TargetState(msg.state),
            tracker_name=msg.tracker,
            response=response,
            search_region=None if region is None else tuple(float(v) for v in region),
        ))
    return outputs
