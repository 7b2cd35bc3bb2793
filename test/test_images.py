"""ROS image message <-> BGR conversion on a real frame, with duck-typed messages (as rclpy and rosbags)."""

import array
import functools
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from siam_tracker_ros.errors import InvalidImageError
from siam_tracker_ros.io.images import (
    SUPPORTED_ENCODINGS,
    bgr_to_image_fields,
    compress_bgr,
    compressed_msg_to_bgr,
    float_map_to_image_fields,
    image_fields_to_float_map,
    image_msg_to_bgr,
)

EXACT = {"bgr8", "rgb8", "bgra8", "rgba8", "8UC3", "8UC4"}
GRAY = {"mono8", "8UC1", "mono16", "16UC1"}
YUV = {"yuv422", "yuv422_yuy2", "uyvy", "yuyv"}


@pytest.fixture(scope="module")
def frame(shared_dir):
    image = cv2.imread(str(shared_dir / "data/sequences/vot_bag/img/000001.jpg"), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (360, 480, 3)
    return image


def msg(**fields):
    return SimpleNamespace(**fields)


def test_encoding_list_covers_required_names():
    required = ("bgr8", "rgb8", "mono8", "bgra8", "rgba8", "mono16", "yuv422", "yuv422_yuy2", "8UC3", "8UC1")
    assert set(required) <= set(SUPPORTED_ENCODINGS)
    assert set(SUPPORTED_ENCODINGS) == EXACT | GRAY | YUV


@pytest.mark.parametrize("encoding", SUPPORTED_ENCODINGS)
def test_round_trip_every_encoding(frame, encoding):
    fields = bgr_to_image_fields(frame, encoding)
    assert fields["encoding"] == encoding
    assert fields["height"] == 360 and fields["width"] == 480
    assert len(fields["data"]) == fields["step"] * fields["height"]
    out = image_msg_to_bgr(msg(**fields))
    assert out.shape == frame.shape and out.dtype == np.uint8 and out.flags.c_contiguous
    if encoding in EXACT:
        np.testing.assert_array_equal(out, frame)
    elif encoding in GRAY:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        for c in range(3):
            np.testing.assert_array_equal(out[..., c], gray)
    else:
        diff = np.abs(out.astype(int) - frame.astype(int))
        assert diff.mean() < 2.0 and diff.max() <= 40


def test_byte_orders_match_ros_definitions(frame):
    """Round trips alone would pass with a symmetric mistake, so check the bytes themselves."""
    px = frame[10, 20]
    rgb = bgr_to_image_fields(frame, "rgb8")["data"]
    start = (10 * 480 + 20) * 3
    assert rgb[start:start + 3] == bytes(px[::-1])
    bgra = bgr_to_image_fields(frame, "bgra8")["data"]
    assert bgra[(10 * 480 + 20) * 4:(10 * 480 + 20) * 4 + 4] == bytes([*px, 255])
    red = np.zeros((2, 4, 3), np.uint8)
    red[..., 2] = 255
    uyvy = bgr_to_image_fields(red, "yuv422")["data"]  # U Y0 V Y1
    assert uyvy[0] < 128 < uyvy[2] and abs(uyvy[1] - 82) <= 2
    yuyv = bgr_to_image_fields(red, "yuv422_yuy2")["data"]  # Y0 U Y1 V
    assert yuyv[1] < 128 < yuyv[3] and abs(yuyv[0] - 82) <= 2
    # A hand-made UYVY pair: neutral chroma, dark then bright luma.
    pair = image_msg_to_bgr(msg(encoding="yuv422", height=1, width=2, step=4, is_bigendian=0,
                                data=bytes([128, 40, 128, 200])))
    assert pair[0, 0, 0] < 50 and pair[0, 1, 0] > 200 and np.ptp(pair[0, 0]) <= 1
    pair = image_msg_to_bgr(msg(encoding="yuv422_yuy2", height=1, width=2, step=4, is_bigendian=0,
                                data=bytes([40, 128, 200, 128])))
    assert pair[0, 0, 0] < 50 and pair[0, 1, 0] > 200


@pytest.mark.parametrize("encoding,bpp", [("rgb8", 3), ("mono8", 1), ("bgra8", 4), ("yuv422", 2)])
def test_padded_step_is_honoured(frame, encoding, bpp):
    fields = bgr_to_image_fields(frame, encoding)
    h, w = fields["height"], fields["width"]
    rows = np.frombuffer(fields["data"], np.uint8).reshape(h, w * bpp)
    padded = np.full((h, w * bpp + 13), 0xAB, np.uint8)
    padded[:, : w * bpp] = rows
    expected = image_msg_to_bgr(msg(**fields))
    out = image_msg_to_bgr(msg(**{**fields, "step": w * bpp + 13, "data": padded.tobytes()}))
    np.testing.assert_array_equal(out, expected)


def test_mono16_endianness_and_scaling(frame):
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    values = gray.astype(np.uint16) * 256 + 37  # high and low bytes differ, so byte order matters
    expected = np.round(values / 257.0).astype(np.uint8)
    assert np.abs(expected.astype(int) - gray).max() <= 1
    big = msg(encoding="mono16", height=360, width=480, step=960, is_bigendian=1,
              data=values.astype(">u2").tobytes())
    out = image_msg_to_bgr(big)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], expected)
    little = msg(encoding="mono16", height=360, width=480, step=960, is_bigendian=0,
                 data=values.astype("<u2").tobytes())
    np.testing.assert_array_equal(image_msg_to_bgr(little), out)
    # The same bytes read with the wrong byte order must give a different picture.
    assert not np.array_equal(image_msg_to_bgr(msg(**{**vars(big), "is_bigendian": 0})), out)
    # 12-bit style values scale by 255/65535, not per-frame stretching.
    small = msg(encoding="16UC1", height=1, width=3, step=6, is_bigendian=0,
                data=np.array([0, 1000, 65535], "<u2").tobytes())
    assert image_msg_to_bgr(small)[0, :, 0].tolist() == [0, 4, 255]


@pytest.mark.parametrize("container", ["bytes", "bytearray", "array", "numpy", "memoryview", "list"])
def test_data_containers(frame, container):
    fields = bgr_to_image_fields(frame[:40, :60].copy(), "rgb8")
    raw = fields["data"]
    data = {
        "bytes": raw,
        "bytearray": bytearray(raw),
        "array": array.array("B", raw),
        "numpy": np.frombuffer(raw, np.uint8).copy(),
        "memoryview": memoryview(raw),
        "list": list(raw),
    }[container]
    out = image_msg_to_bgr(msg(**{**fields, "data": data}))
    np.testing.assert_array_equal(out, frame[:40, :60])
    out[:] = 0  # a copy: writable and independent of the message buffer
    if container == "numpy":
        assert data.any()


def test_unsupported_encoding_lists_supported(frame):
    fields = bgr_to_image_fields(frame, "bgr8")
    with pytest.raises(InvalidImageError) as info:
        image_msg_to_bgr(msg(**{**fields, "encoding": "bayer_rggb8"}))
    text = str(info.value)
    assert "bayer_rggb8" in text
    for name in SUPPORTED_ENCODINGS:
        assert name in text
    with pytest.raises(InvalidImageError, match="supported"):
        bgr_to_image_fields(frame, "32FC1")


def test_bad_geometry_and_short_data_raise(frame):
    fields = bgr_to_image_fields(frame, "bgr8")
    with pytest.raises(InvalidImageError, match="empty"):
        image_msg_to_bgr(msg(**{**fields, "height": 0}))
    with pytest.raises(InvalidImageError, match="empty"):
        image_msg_to_bgr(msg(**{**fields, "width": 0}))
    with pytest.raises(InvalidImageError, match="bytes"):
        image_msg_to_bgr(msg(**{**fields, "data": fields["data"][:-1]}))
    with pytest.raises(InvalidImageError, match="step"):
        image_msg_to_bgr(msg(**{**fields, "step": 480 * 3 - 1}))
    with pytest.raises(InvalidImageError):
        image_msg_to_bgr(msg(**{**fields, "data": b""}))
    with pytest.raises(InvalidImageError, match="even"):
        image_msg_to_bgr(msg(encoding="yuv422", height=1, width=3, step=6, is_bigendian=0, data=bytes(6)))
    with pytest.raises(InvalidImageError):
        bgr_to_image_fields(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(InvalidImageError):
        bgr_to_image_fields(frame.astype(np.float32))


def test_float_map_round_trip():
    rng = np.random.default_rng(0)
    response = rng.random((17, 25), dtype=np.float32)
    fields = float_map_to_image_fields(response)
    assert fields["encoding"] == "32FC1" and fields["is_bigendian"] == 0
    assert fields["step"] == 4 * 25 and len(fields["data"]) == 4 * 25 * 17
    np.testing.assert_array_equal(np.frombuffer(fields["data"], "<f4").reshape(17, 25), response)
    back = image_fields_to_float_map(msg(**fields))
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, response)
    big = msg(**{**fields, "is_bigendian": 1, "data": response.astype(">f4").tobytes()})
    np.testing.assert_array_equal(image_fields_to_float_map(big), response)
    padded = np.zeros((17, 25 * 4 + 8), np.uint8)
    padded[:, :100] = np.frombuffer(fields["data"], np.uint8).reshape(17, 100)
    np.testing.assert_array_equal(
        image_fields_to_float_map(msg(**{**fields, "step": 108, "data": padded.tobytes()})), response
    )
    with pytest.raises(InvalidImageError):
        image_fields_to_float_map(msg(**{**fields, "encoding": "mono8"}))
    with pytest.raises(InvalidImageError):
        float_map_to_image_fields(np.zeros((0, 3)))


def test_compressed_round_trip(frame):
    fmt, data = compress_bgr(frame, "jpeg")
    assert "jpeg" in fmt and data[:2] == b"\xff\xd8"
    out = compressed_msg_to_bgr(msg(format=fmt, data=np.frombuffer(data, np.uint8)))
    assert out.shape == frame.shape
    assert np.abs(out.astype(int) - frame.astype(int)).mean() < 4.0
    fmt, data = compress_bgr(frame, "png")
    assert "png" in fmt
    np.testing.assert_array_equal(compressed_msg_to_bgr(msg(format=fmt, data=array.array("B", data))), frame)


def test_compressed_garbage_raises():
    with pytest.raises(InvalidImageError, match="decode"):
        compressed_msg_to_bgr(msg(format="jpeg", data=b"\x00\x01not a jpeg" * 10))
    with pytest.raises(InvalidImageError):
        compressed_msg_to_bgr(msg(format="jpeg", data=b""))
    with pytest.raises(InvalidImageError, match="compressedDepth"):
        compressed_msg_to_bgr(msg(format="16UC1; compressedDepth png", data=b"\x00" * 20))


def test_opencv_before_4_9_imports_and_says_what_yuv422_output_needs(monkeypatch):
    """Ubuntu's python3-opencv (4.5 on Humble, 4.6 on Jazzy) has no BGR->YUV422 codes: the module (and
    with it the node) must import there, reading yuv422 must work, and only writing it says what to do."""
    import importlib

    from siam_tracker_ros.errors import ConfigError
    from siam_tracker_ros.io import images

    for name in ("COLOR_BGR2YUV_UYVY", "COLOR_BGR2YUV_YUY2"):
        monkeypatch.delattr(cv2, name, raising=False)
    try:
        old = importlib.reload(images)
        frame = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
        assert np.array_equal(old.image_msg_to_bgr(SimpleNamespace(**old.bgr_to_image_fields(frame, "rgb8"))),
                              frame)
        with pytest.raises(ConfigError, match="yuv422 images needs OpenCV >= 4.9"):
            old.bgr_to_image_fields(frame, "yuv422")
        uyvy = np.full((4, 12), 128, np.uint8)  # grey, U = V = 128
        decoded = old.image_msg_to_bgr(SimpleNamespace(height=4, width=6, encoding="yuv422", is_bigendian=0,
                                                       step=12, data=uyvy.tobytes()))
        assert decoded.shape == (4, 6, 3) and np.abs(decoded.astype(int) - 128).max() <= 20
    finally:
        monkeypatch.undo()
        importlib.reload(images)


# --- The camera messages as the node and the bag reader get them: rosbags' real message classes. ---

@functools.cache
def _ros_types():
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS2_HUMBLE).types


def _header():
    t = _ros_types()
    return t["std_msgs/msg/Header"](stamp=t["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id="cam")


def ros_image(**fields):
    """A sensor_msgs/msg/Image; `data` as the numpy uint8 array rosbags deserializes into."""
    data = fields.pop("data")
    return _ros_types()["sensor_msgs/msg/Image"](header=_header(), data=np.frombuffer(bytes(data), np.uint8),
                                                 **fields)


def ros_compressed(fmt, data):
    return _ros_types()["sensor_msgs/msg/CompressedImage"](header=_header(), format=fmt,
                                                           data=np.frombuffer(bytes(data), np.uint8))


@pytest.fixture(scope="module")
def jpeg_file(shared_dir):
    """The bytes of a real camera JPEG and cv2.imread of the same file."""
    path = shared_dir / "data/sequences/vot_bag/img/000001.jpg"
    return path.read_bytes(), cv2.imread(str(path), cv2.IMREAD_COLOR)


def test_data_longer_than_step_times_height_is_refused(frame):
    """cv_bridge refuses data of any other size than step * height: more data means a wrong step or height,
    and reading it anyway gives a sheared or cut-off frame. An odd-width (479 px) real frame whose rows
    are padded to 1440 bytes, sent with the unpadded step 1437 (the publisher forgot its padding):"""
    narrow = np.ascontiguousarray(frame[:, :479])
    padded = np.zeros((360, 1440), np.uint8)
    padded[:, :479 * 3] = narrow.reshape(360, -1)
    good = ros_image(height=360, width=479, encoding="bgr8", is_bigendian=0, step=1440, data=padded.tobytes())
    np.testing.assert_array_equal(image_msg_to_bgr(good), narrow)  # the padding honoured, not sheared
    with pytest.raises(InvalidImageError, match="step 1437 x height 360"):
        image_msg_to_bgr(ros_image(height=360, width=479, encoding="bgr8", is_bigendian=0, step=1437,
                                   data=padded.tobytes()))
    # A height that says half of the rows sent: not silently the top half of the frame.
    fields = bgr_to_image_fields(frame, "rgb8")
    with pytest.raises(InvalidImageError, match="expected step 1440 x height 180"):
        image_msg_to_bgr(ros_image(**{**fields, "height": 180}))
    with pytest.raises(InvalidImageError, match="bytes"):
        image_msg_to_bgr(ros_image(**{**fields, "data": fields["data"] + b"\0"}))


@pytest.mark.parametrize("keep", [0.5, 0.9, -2])
def test_truncated_jpeg_is_refused(jpeg_file, keep):
    """OpenCV 4.x (Ubuntu's python3-opencv, and opencv-python < 5) decodes a cut-off JPEG with only a
    warning on stderr, its missing part grey; such a frame must not reach the tracker."""
    data, _ = jpeg_file
    cut = data[:int(len(data) * keep)] if keep > 0 else data[:keep]
    with pytest.raises(InvalidImageError, match="truncated"):
        compressed_msg_to_bgr(ros_compressed("bgr8; jpeg compressed bgr8", cut))


def test_complete_jpegs_still_decode(jpeg_file, frame):
    data, image = jpeg_file
    np.testing.assert_array_equal(compressed_msg_to_bgr(ros_compressed("jpeg", data)), image)
    # Zero padding after the end marker (UVC MJPEG frames) is not truncation.
    np.testing.assert_array_equal(compressed_msg_to_bgr(ros_compressed("jpeg", data + bytes(64))), image)
    ok, progressive = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok
    progressive = progressive.tobytes()
    assert compressed_msg_to_bgr(ros_compressed("jpeg", progressive)).shape == frame.shape
    with pytest.raises(InvalidImageError, match="truncated"):
        compressed_msg_to_bgr(ros_compressed("jpeg", progressive[: len(progressive) * 3 // 4]))


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """`jpeg` with an EXIF APP1 segment holding just the Orientation tag (0x0112)."""
    import struct

    tiff = b"II*\x00" + struct.pack("<IH", 8, 1) + struct.pack("<HHII", 0x0112, 3, 1, orientation) + bytes(4)
    payload = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def test_exif_orientation_is_not_applied(jpeg_file):
    """image_transport decodes with IMREAD_UNCHANGED, which ignores EXIF orientation, and so do rviz,
    rqt_image_view (where the box is clicked) and the controllers that use the box: the node must track
    in the same pixels, not in a frame rotated by 90 degrees."""
    data, image = jpeg_file
    out = compressed_msg_to_bgr(ros_compressed("bgr8; jpeg compressed bgr8", _with_exif_orientation(data, 6)))
    np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("fmt", ["rgb8; png compressed rgb8", "bgr8; png compressed rgb8"])
def test_compressed_rgb_channel_order_is_honoured(frame, fmt):
    """compressed_image_transport's subscriber: 'compressed bgr*' means the encoded image holds BGR, any
    other ('compressed rgb8') that it holds RGB. A publisher that compressed its rgb8 frames as they are
    must not give the tracker a frame with red and blue swapped."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    assert ok
    np.testing.assert_array_equal(compressed_msg_to_bgr(ros_compressed(fmt, png.tobytes())), frame)
    ok, png = cv2.imencode(".png", frame)
    for bgr_fmt in ("rgb8; png compressed bgr8", "png", ""):
        np.testing.assert_array_equal(compressed_msg_to_bgr(ros_compressed(bgr_fmt, png.tobytes())), frame)


@pytest.mark.parametrize("data", [[256, 0, 0], [-1, 0, 0], [1.5, 0, 0], [None, 0, 0], [[1, 2, 3]]])
def test_data_list_of_non_bytes_is_refused(data):
    """A list `data` whose items are not bytes (0..255) is a wrong message, not a numpy OverflowError (which
    the tracking thread would take for a tracker failure) nor silently truncated floats."""
    with pytest.raises(InvalidImageError, match="data"):
        image_msg_to_bgr(msg(encoding="bgr8", height=1, width=1, step=3, is_bigendian=0, data=data))


def test_output_is_an_independent_contiguous_bgr_copy(frame):
    """The node buffers frames while the message memory may be reused: every encoding gives a C-contiguous
    (H, W, 3) uint8 array that shares no memory with the message."""
    for encoding in SUPPORTED_ENCODINGS:
        fields = bgr_to_image_fields(frame, encoding)
        message = ros_image(**fields)
        out = image_msg_to_bgr(message)
        assert out.shape == (360, 480, 3) and out.dtype == np.uint8 and out.flags.c_contiguous, encoding
        assert not np.shares_memory(out, message.data), encoding
    ok, png = cv2.imencode(".png", frame)
    message = ros_compressed("png", png.tobytes())
    out = compressed_msg_to_bgr(message)
    assert out.flags.c_contiguous and not np.shares_memory(out, message.data)


@pytest.mark.parametrize("kind", ["grey", "alpha", "16bit"])
def test_compressed_png_variants_decode_to_bgr(frame, kind):
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if kind == "grey":
        source, expected = gray, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    elif kind == "alpha":
        source, expected = cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA), frame
        source[..., 3] = 0  # fully transparent: the colour is still the camera's
    else:
        source, expected = gray.astype(np.uint16) * 257, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    ok, png = cv2.imencode(".png", source)
    out = compressed_msg_to_bgr(ros_compressed("png", png.tobytes()))
    assert out.shape == frame.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)
