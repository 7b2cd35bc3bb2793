"""Conversion between ROS image messages and numpy BGR uint8 frames, without ROS.

rclpy messages and the rosbags dataclasses share the attribute names of `sensor_msgs/msg/Image`
(`height, width, encoding, is_bigendian, step, data`) and `sensor_msgs/msg/CompressedImage`
(`format, data`), so every function here works on any object that has those attributes. Outgoing
messages are described by plain dicts that the caller splats into its own message class.

Byte orders follow `sensor_msgs/image_encodings`: `yuv422` (new name `uyvy`) is U Y0 V Y1 per pixel pair,
`yuv422_yuy2` (new name `yuyv`) is Y0 U Y1 V.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from siam_tracker_ros.errors import ConfigError, InvalidImageError
from siam_tracker_ros.trackers.base import check_image


@dataclass(frozen=True)
class _Layout:
    name: str  # canonical spelling, as written into outgoing messages
    bytes_per_pixel: int
    kind: str  # bgr, rgb, bgra, rgba, mono8, mono16, uyvy, yuyv


_LAYOUTS = [
    _Layout("bgr8", 3, "bgr"),
    _Layout("rgb8", 3, "rgb"),
    _Layout("bgra8", 4, "bgra"),
    _Layout("rgba8", 4, "rgba"),
    _Layout("mono8", 1, "mono8"),
    _Layout("mono16", 2, "mono16"),
    _Layout("yuv422", 2, "uyvy"),
    _Layout("yuv422_yuy2", 2, "yuyv"),
    _Layout("uyvy", 2, "uyvy"),
    _Layout("yuyv", 2, "yuyv"),
    # OpenCV type names that cameras and cv_bridge users publish; channel order taken as BGR(A).
    _Layout("8UC1", 1, "mono8"),
    _Layout("8UC3", 3, "bgr"),
    _Layout("8UC4", 4, "bgra"),
    _Layout("16UC1", 2, "mono16"),
]
_BY_NAME = {layout.name.lower(): layout for layout in _LAYOUTS}

#: Encodings accepted by `image_msg_to_bgr` and produced by `bgr_to_image_fields`.
SUPPORTED_ENCODINGS: tuple[str, ...] = tuple(layout.name for layout in _LAYOUTS)

_TO_BGR = {
    "rgb": cv2.COLOR_RGB2BGR,
    "bgra": cv2.COLOR_BGRA2BGR,
    "rgba": cv2.COLOR_RGBA2BGR,
    "mono8": cv2.COLOR_GRAY2BGR,
    "uyvy": cv2.COLOR_YUV2BGR_UYVY,
    "yuyv": cv2.COLOR_YUV2BGR_YUY2,
}
_FROM_BGR = {
    "rgb": cv2.COLOR_BGR2RGB,
    "bgra": cv2.COLOR_BGR2BGRA,
    "rgba": cv2.COLOR_BGR2RGBA,
    "mono8": cv2.COLOR_BGR2GRAY,
    # OpenCV >= 4.9 only (Ubuntu's python3-opencv is 4.5/4.6): looked up, so importing never fails there
    "uyvy": getattr(cv2, "COLOR_BGR2YUV_UYVY", None),
    "yuyv": getattr(cv2, "COLOR_BGR2YUV_YUY2", None),
}


def _layout(encoding) -> _Layout:
    name = str(encoding or "").strip()
    layout = _BY_NAME.get(name.lower())
    if layout is None:
        raise InvalidImageError(
            f"unsupported image encoding {name!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}; "
            "publish one of these (bayer_*: subscribe to image_proc's debayered image_color)"
        )
    return layout


def _as_uint8(data) -> np.ndarray:
    """A flat uint8 view of whatever container the message library uses for `data`."""
    if data is None:
        raise InvalidImageError("image message has no data")
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise InvalidImageError(f"image data must be uint8 bytes, got a numpy array of {data.dtype}")
        return data.reshape(-1)
    if isinstance(data, (list, tuple)):
        return _list_to_uint8(data)
    try:
        return np.frombuffer(data, dtype=np.uint8)  # bytes, bytearray, memoryview, array.array
    except TypeError as exc:
        raise InvalidImageError(f"image data of type {type(data).__name__} is not a byte buffer") from exc


def _list_to_uint8(data) -> np.ndarray:
    """A list of byte values as uint8; anything else (256, -1, 1.5, None, nested lists) is refused rather
    than wrapped, truncated or left to raise numpy's OverflowError."""
    try:
        values = np.asarray(data)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim != 1 or (values.size and (
            values.dtype.kind not in "iu" or values.min() < 0 or values.max() > 255)):
        raise InvalidImageError("image data must be a flat list of byte values 0..255; publish uint8[] data")
    return values.astype(np.uint8)


def _rows(msg, bytes_per_pixel: int, what: str) -> np.ndarray:
    """The (height, width * bytes_per_pixel) pixel bytes, with any `step` padding dropped.

    `data` must hold exactly step x height bytes (as cv_bridge requires): more bytes mean the step or the
    height is wrong, and reading them anyway would give a sheared or cut-off frame."""
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise InvalidImageError(f"empty {what} image: {width}x{height} pixels")
    row_bytes = width * bytes_per_pixel
    if step < row_bytes:
        raise InvalidImageError(
            f"{what} image step {step} is smaller than width {width} x {bytes_per_pixel} bytes per pixel"
        )
    buf = _as_uint8(msg.data)
    if buf.size != step * height:
        raise InvalidImageError(
            f"{what} image data has {buf.size} bytes, expected step {step} x height {height} = "
            f"{step * height}; fix the publisher's step, height or data"
        )
    return buf.reshape(height, step)[:, :row_bytes]


def image_msg_to_bgr(msg) -> np.ndarray:
    """A contiguous (H, W, 3) BGR uint8 copy of a `sensor_msgs/Image`-like message.

    16-bit images are scaled by 255/65535 (not stretched per frame), so brightness does not flicker
    between frames, which the trackers' appearance models would take for a change of the target.
    """
    layout = _layout(msg.encoding)
    rows = _rows(msg, layout.bytes_per_pixel, layout.name)
    height, width = rows.shape[0], int(msg.width)
    kind = layout.kind
    if kind == "bgr":
        return np.array(rows, order="C").reshape(height, width, 3)  # one copy, padded or not
    if kind == "mono16":
        dtype = ">u2" if msg.is_bigendian else "<u2"
        values = np.ascontiguousarray(rows).view(dtype).reshape(height, width).astype(np.uint32)
        gray = ((values + 128) // 257).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if kind in ("uyvy", "yuyv") and width % 2:
        raise InvalidImageError(f"{layout.name} image width must be even (pixel pairs), got {width}")
    channels = layout.bytes_per_pixel
    pixels = np.ascontiguousarray(rows).reshape(height, width, channels)
    if channels == 1:
        pixels = pixels.reshape(height, width)
    return np.ascontiguousarray(cv2.cvtColor(pixels, _TO_BGR[kind]))


def bgr_to_image_fields(image: np.ndarray, encoding: str = "bgr8") -> dict:
    """Fields of a `sensor_msgs/Image` holding `image` (BGR uint8) in `encoding`, step without padding."""
    image = check_image(image)
    layout = _layout(encoding)
    height, width = image.shape[:2]
    kind = layout.kind
    if kind == "bgr":
        out = image
    elif kind == "mono16":
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        out = (gray.astype(np.uint16) * 257).astype("<u2")
    else:
        if kind in ("uyvy", "yuyv") and width % 2:
            raise InvalidImageError(f"{layout.name} needs an even image width, got {width}")
        code = _FROM_BGR[kind]
        if code is None:
            raise ConfigError(f"writing {layout.name} images needs OpenCV >= 4.9 (this is "
                              f"{cv2.__version__}); write bgr8 or rgb8")
        out = cv2.cvtColor(image, code)
    return {
        "height": int(height),
        "width": int(width),
        "encoding": layout.name,
        "is_bigendian": 0,
        "step": int(width * layout.bytes_per_pixel),
        "data": np.ascontiguousarray(out).tobytes(),
    }


def float_map_to_image_fields(array2d: np.ndarray) -> dict:
    """Fields of a 32FC1 `sensor_msgs/Image` (little endian, step = 4 * width), e.g. a response map."""
    arr = np.asarray(array2d)
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidImageError(f"expected a non-empty 2-D float map, got shape {arr.shape}")
    height, width = arr.shape
    return {
        "height": int(height),
        "width": int(width),
        "encoding": "32FC1",
        "is_bigendian": 0,
        "step": int(4 * width),
        "data": np.ascontiguousarray(arr, dtype="<f4").tobytes(),
    }


def image_fields_to_float_map(msg) -> np.ndarray:
    """The float32 (H, W) array of a 32FC1 `sensor_msgs/Image`-like message (inverse of the above)."""
    encoding = str(msg.encoding or "").strip()
    if encoding.upper() != "32FC1":
        raise InvalidImageError(f"expected a 32FC1 image, got encoding {encoding!r}")
    rows = _rows(msg, 4, "32FC1")
    dtype = ">f4" if msg.is_bigendian else "<f4"
    return np.ascontiguousarray(rows).view(dtype).reshape(rows.shape[0], int(msg.width)).astype(np.float32)


def _jpeg_is_complete(data: bytes) -> bool:
    """Whether a JPEG has its end-of-image marker after the start of its (first) scan.

    OpenCV 4.x decodes a cut-off JPEG with only a warning, its missing part grey. The header segments are
    walked by their lengths, so an EXIF thumbnail's own scan and end marker are skipped; entropy-coded data
    stuffs every 0xFF as 0xFF00, so an 0xFFD9 after the scan starts is the image's real end."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xDA:  # start of scan
            return data.find(b"\xff\xd9", pos) >= 0
        elif marker == 0xD9:  # end of image before any scan
            return False
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return False


def compressed_msg_to_bgr(msg) -> np.ndarray:
    """Decode a `sensor_msgs/CompressedImage`-like message (JPEG or PNG) to BGR uint8, as image_transport's
    compressed subscriber does.

    Format "<original encoding>; <jpeg|png> compressed <order>": image_transport compresses colour as
    bgr8; "compressed rgb*" (other publishers) means the encoded image holds RGB, so it is swapped back.
    EXIF orientation is ignored (as IMREAD_UNCHANGED does there), so the box is in the pixels that rviz,
    rqt_image_view and the controllers see. A JPEG without its end marker is refused, not half grey.
    """
    fmt = str(getattr(msg, "format", "") or "")
    if "compresseddepth" in fmt.lower():
        raise InvalidImageError(
            f"compressedDepth images (format {fmt!r}) are not supported; subscribe to the raw topic"
        )
    buf = _as_uint8(msg.data)
    if buf.size == 0:
        raise InvalidImageError(f"compressed image (format {fmt!r}) has no data")
    if buf[:2].tobytes() == b"\xff\xd8" and not _jpeg_is_complete(buf.tobytes()):
        raise InvalidImageError(
            f"truncated or corrupt JPEG (format {fmt!r}, {buf.size} bytes, no end-of-image marker after its "
            "scan); the message was cut off: check the publisher and the network or bag"
        )
    try:
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise InvalidImageError(
            f"could not decode compressed image of format {fmt!r} ({buf.size} bytes); expected JPEG or PNG"
        )
    if "compressed rgb" in fmt.partition(";")[2].lower():
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    return np.ascontiguousarray(image)


_COMPRESSION = {"jpeg": (".jpg", "jpeg"), "jpg": (".jpg", "jpeg"), "png": (".png", "png")}


def compress_bgr(image: np.ndarray, fmt: str = "jpeg", quality: int = 90) -> tuple[str, bytes]:
    """(`format`, `data`) of a `sensor_msgs/CompressedImage` for `image`, in image_transport's convention."""
    image = check_image(image)
    key = str(fmt).strip().lower()
    if key not in _COMPRESSION:
        raise ConfigError(f"unsupported compression {fmt!r}; use 'jpeg' or 'png'")
    ext, name = _COMPRESSION[key]
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if name == "jpeg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, encoded = cv2.imencode(ext, image, params)
    if not ok:
        raise InvalidImageError(f"OpenCV could not encode a {image.shape} image as {name}")
    return f"bgr8; {name} compressed bgr8", encoded.tobytes()

