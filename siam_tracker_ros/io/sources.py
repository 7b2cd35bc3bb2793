"""Frame sources for the offline command line: a video file, a folder of images, an OTB-style sequence
or a rosbag (rosbag2 folder, or ROS 1 `.bag`), all behind one iterable interface.

Every problem surfaces as a `SourceError` that names the path (or frame) and says what to do; a frame
that cannot be decoded stops the run rather than being skipped, because a silently missing frame would
shift every later frame against its ground truth.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from siam_tracker_ros.errors import ConfigError, InvalidImageError, SourceError
from siam_tracker_ros.io.images import compressed_msg_to_bgr, image_msg_to_bgr

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
DEFAULT_FRAME_ID = "camera"  # the frame_id of frames whose source names none (all but rosbags)
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts",
                    ".wmv", ".flv", ".h264", ".h265", ".hevc")
IMAGE_MSGTYPE = "sensor_msgs/msg/Image"
COMPRESSED_MSGTYPE = "sensor_msgs/msg/CompressedImage"
_IMAGE_TYPES = (IMAGE_MSGTYPE, COMPRESSED_MSGTYPE)
_GROUNDTRUTH_NAMES = ("groundtruth_rect.txt", "groundtruth.txt")
# Containers whose header records the exact frame count (sample tables, AVI header); others only estimate it.
_COUNTED_CONTAINERS = (".mp4", ".m4v", ".mov", ".avi")
_FRAME_COUNT_SLACK = 2  # frames an intact file may decode short of its count (edit lists, decoder delay)
# Matroska/WebM headers record the duration, and OpenCV counts duration x frame rate: exact for a constant
# rate, an estimate for a variable one, so only a shortfall beyond this share is taken for a cut file.
_ESTIMATED_CONTAINERS = (".mkv", ".webm")
_ESTIMATE_TOLERANCE = 0.25
# MPEG-TS records no count or duration (OpenCV estimates both from the file size, which shrinks with a cut),
# but it is a run of 188-byte packets (192 with the 4-byte timestamps of M2TS), each opening with the sync
# byte 0x47: a file that ends inside a packet was cut (one cut on a packet boundary is not seen).
_PACKET_CONTAINERS = (".ts", ".m2ts", ".mts")
_TS_SYNC = 0x47
# The keys rosbag2 writes under rosbag2_bagfile_information and readers need.
_BAG_METADATA_KEYS = ("version", "storage_identifier", "relative_file_paths", "duration", "starting_time",
                      "message_count", "topics_with_message_count")
_KINDS_HINT = (
    "pass a video file, a folder of images, an OTB-style sequence folder (img/ + groundtruth_rect.txt) "
    "or a rosbag2 folder"
)


@dataclass
class Frame:
    """One frame: its 0-based position in the source, the BGR uint8 image and its time in nanoseconds."""

    index: int
    image: np.ndarray
    stamp_ns: int
    frame_id: str = DEFAULT_FRAME_ID  # a bag's header.frame_id


class FrameSource(ABC):
    """Frames in order. `len()` is the frame count (for progress bars); it raises TypeError when unknown,
    which is what tqdm and similar tools expect from an iterable of unknown length."""

    name: str = "source"
    initial_box: np.ndarray | None = None
    groundtruth: np.ndarray | None = None

    @abstractmethod
    def __iter__(self) -> Iterator[Frame]: ...

    @abstractmethod
    def _count(self) -> int | None: ...

    @property
    def frame_count(self) -> int | None:
        """Number of frames, or None when it is not known before reading them all."""
        return self._count()

    def __len__(self) -> int:
        count = self._count()
        if count is None:
            raise TypeError(f"the number of frames of {self.name} is not known in advance")
        return count

    def __bool__(self) -> bool:  # without this, bool() would call __len__, which may raise
        return True

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the first frame, or None when it cannot be had without decoding much."""
        return None


def natural_key(name: str) -> tuple:
    """Sort key putting "frame2" before "frame10", as people number frames without zero padding."""
    parts = re.split(r"(\d+)", name.lower())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name


def list_images(folder: Path) -> list[Path]:
    """The image files of `folder` in natural order: the one listing of frames, for image folders and
    sequence folders alike (a plain sort plays "10.png" before "2.png")."""
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
                  key=lambda p: natural_key(p.name))


def read_groundtruth(path: str | Path) -> np.ndarray:
    """N x 4 float array of x,y,w,h rows (commas, tabs or spaces); NaN rows mean "target not visible".

    The same text format as the result files, so it is read by the one box-file reader."""
    from siam_tracker_ros.evaluation.datasets import read_boxes

    return read_boxes(path)


def _usable_box(row: np.ndarray) -> np.ndarray | None:
    if np.all(np.isfinite(row)) and row[2] > 0 and row[3] > 0:
        return row.copy()
    return None


def _check_fps(fps: float) -> float:
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ConfigError(f"fps must be a positive number, got {fps}")
    return fps


class ImageFolderSource(FrameSource):
    """Images of a folder in natural order; stamps are index / fps since images carry no time."""

    def __init__(self, folder: Path, fps: float = 30.0, root: Path | None = None, name: str | None = None):
        self.folder = folder
        self.root = root or folder  # frame names in errors are given relative to this
        self.fps = _check_fps(fps)
        self.name = name or folder.resolve().name
        self.files = list_images(folder)
        if not self.files:
            raise SourceError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in folder {folder}; {_KINDS_HINT}")
        self._size: tuple[int, int] | None = None

    def _count(self) -> int:
        return len(self.files)

    def _read(self, path: Path) -> np.ndarray:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            try:
                shown = path.relative_to(self.root).as_posix()
            except ValueError:
                shown = str(path)
            raise SourceError(
                f"frame {shown} could not be decoded (in {self.root}); replace or remove the corrupt file"
            )
        return image

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.files):
            image = self._read(path)
            if self._size is None:
                self._size = (image.shape[1], image.shape[0])
            yield Frame(index, image, round(index * 1e9 / self.fps))

    @property
    def frame_size(self) -> tuple[int, int]:
        if self._size is None:
            image = self._read(self.files[0])
            self._size = (image.shape[1], image.shape[0])
        return self._size


class SequenceSource(ImageFolderSource):
    """OTB-style sequence: `img/` frames plus `groundtruth_rect.txt`, whose first row is the initial box."""

    def __init__(self, folder: Path, fps: float = 30.0):
        super().__init__(folder / "img", fps=fps, root=folder, name=folder.resolve().name)
        gt_path = next((folder / n for n in _GROUNDTRUTH_NAMES if (folder / n).is_file()), None)
        if gt_path is not None:
            self.groundtruth = read_groundtruth(gt_path)
            self.initial_box = _usable_box(self.groundtruth[0]) if len(self.groundtruth) else None


class VideoSource(FrameSource):
    """A video file read with OpenCV; stamps from the container's timestamps where it has them."""

    def __init__(self, path: Path, fps: float = 30.0):
        self.path = path
        self.name = path.stem
        cap = self._open()
        try:
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            self._frames = count if count > 0 else None
            width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            self._size = (width, height) if width > 0 and height > 0 else None
            video_fps = cap.get(cv2.CAP_PROP_FPS)
        finally:
            cap.release()
        # The file's own rate beats the caller's default for the fallback stamps.
        self.fps = float(video_fps) if np.isfinite(video_fps) and 0 < video_fps < 1000 else _check_fps(fps)

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"cannot open video {self.path}: OpenCV cannot read this file; convert it to MP4 "
                f"(e.g. ffmpeg -i in out.mp4) or {_KINDS_HINT}"
            )
        return cap

    def _count(self) -> int | None:
        return self._frames

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return self._size

    def __iter__(self) -> Iterator[Frame]:
        cap = self._open()
        index = 0
        last_ms = -1.0
        last_stamp = 0
        try:
            while True:
                ok, image = cap.read()
                if not ok or image is None:
                    break
                pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                if np.isfinite(pos_ms) and pos_ms > last_ms and (pos_ms > 0 or index == 0):
                    stamp = round(pos_ms * 1e6)
                    last_ms = pos_ms
                elif index == 0:
                    stamp = 0
                else:  # no usable container time: continue at the nominal rate
                    stamp = last_stamp + round(1e9 / self.fps)
                last_stamp = stamp
                yield Frame(index, image, stamp)
                index += 1
        finally:
            cap.release()
        if index == 0:
            raise SourceError(
                f"video {self.path} opened but no frame could be decoded; the file may be corrupt"
            )
        # OpenCV reports a truncated or damaged stream as its end; only the container tells them apart.
        cut = self._cut_short(index)
        if cut:
            raise SourceError(f"video {self.path} ends after {index} {cut}: the file is truncated or "
                              "damaged; copy it again from its origin")

    def _cut_short(self, decoded: int) -> str | None:
        """Why `decoded` frames cannot be the whole file, by what its container records; None if they can."""
        declared, suffix = self._frames or 0, self.path.suffix.lower()
        if suffix in _COUNTED_CONTAINERS and decoded < declared - _FRAME_COUNT_SLACK:
            return f"of the {declared} frames its header declares"
        estimated_floor = declared * (1 - _ESTIMATE_TOLERANCE) - _FRAME_COUNT_SLACK
        if suffix in _ESTIMATED_CONTAINERS and decoded < estimated_floor:
            return f"frames, but the duration in its header holds about {declared}"
        if suffix in _PACKET_CONTAINERS:
            packet, size = _ts_packet_size(self.path), self.path.stat().st_size
            if packet and size % packet:
                return f"frames inside a {packet}-byte transport stream packet ({size} bytes)"
        return None


def _ts_packet_size(path: Path) -> int | None:
    """188 (MPEG-TS) or 192 (M2TS) from where the first packets' sync bytes are; None if neither fits."""
    with open(path, "rb") as f:
        head = f.read(3 * 192 + 5)
    for size, offset in ((188, 0), (192, 4)):
        marks = [k * size + offset for k in range(3)]
        if marks[-1] < len(head) and all(head[m] == _TS_SYNC for m in marks):
            return size
    return None


class RosbagSource(FrameSource):
    """Image or CompressedImage messages of one topic of a rosbag2 folder (or ROS 1 bag), in log order.

    Stamps come from `header.stamp`; a zero stamp (publisher left it unset) falls back to the log time.
    """

    def __init__(self, path: Path, image_topic: str | None = None):
        from rosbags.typesys import Stores, get_typestore

        self.path = path
        self.name = path.stem if path.suffix == ".bag" else path.resolve().name
        if path.is_dir():
            _check_bag_metadata(path / "metadata.yaml")
        # Humble and Jazzy define sensor_msgs identically; used only for bags without embedded definitions.
        self._typestore = get_typestore(Stores.ROS2_HUMBLE)
        with self._reader() as reader:
            connections = list(reader.connections)
        images = [c for c in connections if c.msgtype in _IMAGE_TYPES]
        image_topics = sorted({c.topic for c in images})
        listed = ", ".join(image_topics) if image_topics else "none"
        if image_topic is None:
            if len(image_topics) != 1:
                all_topics = ", ".join(sorted({f"{c.topic} ({c.msgtype})" for c in connections})) or "none"
                if not image_topics:
                    raise SourceError(f"rosbag {path} has no sensor_msgs Image or CompressedImage topic; "
                                      f"its topics: {all_topics}")
                raise SourceError(f"rosbag {path} has several image topics: {listed}; choose one of them "
                                  "with --image-topic (siam-track) or image_topic=...")
            topic = image_topics[0]
        else:
            topic = image_topic.strip()
            if topic not in {c.topic for c in connections} and "/" + topic.lstrip("/") in image_topics:
                topic = "/" + topic.lstrip("/")  # accept "camera/image" for "/camera/image"
            if topic not in image_topics:
                other = [c for c in connections if c.topic == topic]
                what = f"has type {other[0].msgtype}, not an image" if other else "is not in the bag"
                raise SourceError(f"topic {topic} {what} in rosbag {path}; image topics: {listed}")
        self.topic = topic
        self._frames = sum(int(c.msgcount) for c in images if c.topic == topic)
        self._size: tuple[int, int] | None = None

    @contextmanager
    def _reader(self):
        """The opened bag, with rosbags' errors turned into SourceError."""
        from rosbags.highlevel import AnyReader, AnyReaderError

        try:
            reader = AnyReader([self.path], default_typestore=self._typestore)
            reader.open()
        except (AnyReaderError, OSError, ValueError, KeyError) as exc:
            raise SourceError(f"cannot read rosbag {self.path}: {exc}") from exc
        try:
            yield reader
        finally:
            reader.close()

    def _count(self) -> int:
        return self._frames

    @property
    def frame_size(self) -> tuple[int, int] | None:
        if self._size is None and self._frames:
            with closing(iter(self)) as frames:  # closes the bag right after the first message
                first = next(frames, None)
            if first is not None:
                self._size = (first.image.shape[1], first.image.shape[0])
        return self._size

    def __iter__(self) -> Iterator[Frame]:
        with self._reader() as reader:
            # Connections belong to the reader that listed them, so select them again on this one.
            mine = [c for c in reader.connections if c.topic == self.topic and c.msgtype in _IMAGE_TYPES]
            for index, (conn, log_ns, raw) in enumerate(reader.messages(connections=mine)):
                where = f"message {index} on {self.topic} of rosbag {self.path}"
                try:
                    msg = reader.deserialize(raw, conn.msgtype)
                except Exception as exc:  # any deserializer failure means a corrupt or mistyped message
                    raise SourceError(f"{where} could not be deserialized: {exc}") from exc
                try:
                    if conn.msgtype == COMPRESSED_MSGTYPE:
                        image = compressed_msg_to_bgr(msg)
                    else:
                        image = image_msg_to_bgr(msg)
                except InvalidImageError as exc:
                    raise SourceError(f"{where} could not be converted: {exc}") from exc
                stamp = msg.header.stamp
                stamp_ns = int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)
                yield Frame(index, image, stamp_ns if stamp_ns > 0 else int(log_ns),
                            str(msg.header.frame_id) or DEFAULT_FRAME_ID)


def _check_bag_metadata(path: Path) -> None:
    """rosbags reports a damaged metadata.yaml with the YAML parser's multi-line text or a bare missing key;
    name the file and the fix instead. Parsed with rosbags' own YAML reader, so that both agree."""
    from ruamel.yaml import YAML, YAMLError

    fix = f"recreate it with `ros2 bag reindex {path.parent}`"
    try:
        metadata = YAML(typ="safe").load(path.read_bytes())
    except OSError as exc:
        raise SourceError(f"cannot read rosbag metadata {path} ({exc.strerror or exc}); check that it is "
                          "readable") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SourceError(f"rosbag metadata {path} is not valid YAML{where}; {fix}") from None
    info = metadata.get("rosbag2_bagfile_information") if isinstance(metadata, dict) else None
    if not isinstance(info, dict):
        raise SourceError(f"rosbag metadata {path} has no rosbag2_bagfile_information section; {fix}")
    missing = [k for k in _BAG_METADATA_KEYS if k not in info]
    if missing:
        raise SourceError(f"rosbag metadata {path} lacks {', '.join(missing)}; {fix}")


def open_source(path: str | Path, image_topic: str | None = None, fps: float = 30.0) -> FrameSource:
    """The frame source for `path`, chosen by what is there.

    `image_topic` selects the topic of a rosbag (needed only when it has several image topics) and is
    ignored for other sources; `fps` gives the stamps of image folders and of videos without a rate.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise SourceError(f"{path} does not exist; {_KINDS_HINT}")
    if path.is_dir():
        if (path / "metadata.yaml").is_file():
            return RosbagSource(path, image_topic)
        if (path / "img").is_dir():
            return SequenceSource(path, fps)
        if any(p.suffix in (".db3", ".mcap") for p in path.iterdir()):
            raise SourceError(f"{path} holds rosbag2 storage files but no metadata.yaml; recreate it with "
                              "'ros2 bag reindex' and try again")
        return ImageFolderSource(path, fps)
    if path.suffix == ".bag":
        return RosbagSource(path, image_topic)
    if path.suffix in (".db3", ".mcap") and (path.parent / "metadata.yaml").is_file():
        return RosbagSource(path.parent, image_topic)
    if path.suffix.lower() not in VIDEO_EXTENSIONS:  # FFmpeg would "play" a text file as a video
        raise SourceError(f"{path} is not a video ({', '.join(VIDEO_EXTENSIONS)}); {_KINDS_HINT}")
    return VideoSource(path, fps)
