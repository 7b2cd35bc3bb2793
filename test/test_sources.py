"""Frame sources on real frames: OTB sequence, image folder, video and rosbag2 written here with rosbags."""

import shutil

import cv2
import numpy as np
import pytest

from siam_tracker_ros.errors import SourceError
from siam_tracker_ros.io.sources import Frame, open_source, read_groundtruth
from siam_tracker_ros.io.video_writer import AnnotatedVideoWriter

SEQ = "data/sequences/vot_bag"


@pytest.fixture(scope="module")
def seq_dir(shared_dir):
    return shared_dir / SEQ


@pytest.fixture(scope="module")
def frames(seq_dir):
    paths = sorted((seq_dir / "img").glob("*.jpg"))[:10]
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths]
    assert all(im is not None and im.shape == (360, 480, 3) for im in images)
    return images


def small_sequence(seq_dir, dest, n=5, gt_text=None):
    """Copy of the first `n` frames of the real sequence, so tests can damage it."""
    (dest / "img").mkdir(parents=True)
    for p in sorted((seq_dir / "img").glob("*.jpg"))[:n]:
        shutil.copy(p, dest / "img" / p.name)
    lines = (seq_dir / "groundtruth_rect.txt").read_text().splitlines()[:n]
    (dest / "groundtruth_rect.txt").write_text(gt_text if gt_text is not None else "\n".join(lines) + "\n")
    return dest


def test_otb_sequence(seq_dir):
    src = open_source(seq_dir)
    gt = np.loadtxt(seq_dir / "groundtruth_rect.txt", delimiter=",")
    n_images = len(list((seq_dir / "img").glob("*.jpg")))
    assert src.name == "vot_bag"
    assert len(src) == n_images == 196
    assert src.groundtruth.shape == (196, 4)
    np.testing.assert_allclose(src.groundtruth, gt)
    np.testing.assert_allclose(src.initial_box, gt[0])
    assert src.frame_size == (480, 360)
    first = next(iter(src))
    assert isinstance(first, Frame) and first.index == 0 and first.stamp_ns == 0
    np.testing.assert_array_equal(first.image, cv2.imread(str(seq_dir / "img/000001.jpg")))


def test_sequence_frames_in_order_with_stamps(seq_dir, tmp_path):
    src = open_source(small_sequence(seq_dir, tmp_path / "seq"), fps=10.0)
    got = list(src)
    assert [f.index for f in got] == [0, 1, 2, 3, 4]
    assert [f.stamp_ns for f in got] == [0, 100_000_000, 200_000_000, 300_000_000, 400_000_000]
    np.testing.assert_array_equal(got[3].image, cv2.imread(str(seq_dir / "img/000004.jpg")))


def test_groundtruth_separators_and_nan_rows(seq_dir, tmp_path):
    text = "10,20,30,40\n11\t21\t31\t41\nNaN,NaN,NaN,NaN\n13 23  33 43\n\n14, 24, 34, 44\n"
    src = open_source(small_sequence(seq_dir, tmp_path / "seq", gt_text=text))
    assert src.groundtruth.shape == (5, 4)
    assert np.isnan(src.groundtruth[2]).all()
    np.testing.assert_array_equal(src.groundtruth[3], [13, 23, 33, 43])
    np.testing.assert_array_equal(src.initial_box, [10, 20, 30, 40])
    (tmp_path / "bad.txt").write_text("1,2,3,4\n1,2,three,4\n")
    with pytest.raises(SourceError, match="line 2"):
        read_groundtruth(tmp_path / "bad.txt")


def test_corrupt_frame_names_the_file(seq_dir, tmp_path):
    seq = small_sequence(seq_dir, tmp_path / "seq")
    (seq / "img/000003.jpg").write_bytes(b"this is not a jpeg" * 50)
    src = open_source(seq)
    assert len(src) == 5
    seen = []
    with pytest.raises(SourceError, match="img/000003.jpg"):
        for f in src:
            seen.append(f.index)
    assert seen == [0, 1]  # nothing skipped: it stops at the bad frame


def test_image_folder_natural_order(frames, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    for i, name in [(0, "f1.png"), (1, "f2.jpg"), (2, "f10.png"), (3, "F11.bmp")]:
        cv2.imwrite(str(folder / name), frames[i])
    (folder / "notes.txt").write_text("not an image")
    src = open_source(folder)
    assert src.name == "shots" and len(src) == 4 and src.initial_box is None and src.groundtruth is None
    got = list(src)
    np.testing.assert_array_equal(got[0].image, frames[0])
    np.testing.assert_array_equal(got[2].image, frames[2])  # f10 after f2, not after f1
    np.testing.assert_array_equal(got[3].image, frames[3])
    assert np.abs(got[1].image.astype(int) - frames[1]).mean() < 4  # jpeg


def test_missing_and_empty_paths(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(tmp_path / "nope.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no images"):
        open_source(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceError, match="is not a video"):  # FFmpeg would play it as frames of text
        open_source(tmp_path / "notes.txt")
    (tmp_path / "fake.mp4").write_text("hello")
    with pytest.raises(SourceError, match="cannot open video"):
        open_source(tmp_path / "fake.mp4")


def test_video_written_and_read_back(frames, tmp_path):
    path = tmp_path / "out" / "clip.mp4"
    with AnnotatedVideoWriter(path, fps=20.0) as writer:
        for image in frames:
            writer.write(image)
    assert writer.frames_written == 10 and path.stat().st_size > 0
    src = open_source(path)
    assert src.name == "clip" and len(src) == 10 and src.frame_size == (480, 360)
    got = list(src)
    assert len(got) == 10
    assert all(f.image.shape == (360, 480, 3) for f in got)
    assert [f.stamp_ns for f in got] == [i * 50_000_000 for i in range(10)]
    assert np.abs(got[5].image.astype(int) - frames[5]).mean() < 8


def test_video_writer_errors(frames, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SourceError), AnnotatedVideoWriter(blocker / "sub" / "a.mp4") as writer:
        writer.write(frames[0])
    assert not (tmp_path / "never.mp4").exists()
    with AnnotatedVideoWriter(tmp_path / "never.mp4"):
        pass  # nothing written: no file
    assert not (tmp_path / "never.mp4").exists()


@pytest.mark.parametrize(("container", "codec"), [("avi", "MJPG"), ("mkv", "MJPG"), ("ts", "mp4v")])
def test_a_cut_short_video_is_an_error_not_an_early_end(shared_dir, tmp_path, container, codec):
    """OpenCV takes a truncated stream for its end; the header (AVI: frame count; Matroska: duration) or
    the transport stream's fixed packets (MPEG-TS: a file cut inside one) tell them apart."""
    images = [cv2.imread(str(p)) for p in sorted((shared_dir / "data/sequences/vot_ball1/img").glob("*.jpg"))]
    images = images[:40]
    path = tmp_path / f"clip.{container}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 20.0, images[0].shape[1::-1])
    assert writer.isOpened()
    for image in images:
        writer.write(image)
    writer.release()
    assert len(list(open_source(path))) == 40  # intact: every frame, no error
    cut = path.stat().st_size // 2
    cut += 1 if cut % 188 == 0 else 0  # inside a packet (one cut on a packet boundary is not seen)
    path.write_bytes(path.read_bytes()[:cut])
    seen = []
    with pytest.raises(SourceError, match="truncated") as info:
        for f in open_source(path):
            seen.append(f.index)
    assert 0 < len(seen) < 40 and seen == list(range(len(seen)))
    assert f"ends after {len(seen)} " in str(info.value)
    assert ("40" if container != "ts" else "188-byte") in str(info.value)


# --- rosbag2 ---------------------------------------------------------------------------------------------

BASE_SEC = 1_700_000_000


def stamp_of(i):
    return BASE_SEC + i // 2, (i % 2) * 500_000_000 + 1234


def write_bag(path, frames, topics, frame_id="camera", broken=None):
    """A rosbag2 (sqlite3) with `topics` = {name: kind}, kind in bgr8, rgb8, jpeg, text.

    `broken`: index of a frame whose Image messages claim an encoding no reader knows (a recorder's bug)."""
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    Image = store.types["sensor_msgs/msg/Image"]
    Compressed = store.types["sensor_msgs/msg/CompressedImage"]
    Header = store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    String = store.types["std_msgs/msg/String"]
    with Writer(path, version=9) as writer:
        for topic, kind in topics.items():
            msgtype = {"jpeg": Compressed, "text": String}.get(kind, Image).__msgtype__
            conn = writer.add_connection(topic, msgtype, typestore=store)
            for i, image in enumerate(frames):
                sec, nsec = stamp_of(i)
                header = Header(stamp=Time(sec=sec, nanosec=nsec), frame_id=frame_id)
                if kind == "jpeg":
                    ok, enc = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
                    msg = Compressed(header=header, format="jpeg", data=enc.reshape(-1))
                elif kind == "text":
                    msg = String(data=f"frame {i}")
                else:
                    pixels = image if kind == "bgr8" else image[..., ::-1]
                    h, w = image.shape[:2]
                    msg = Image(header=header, height=h, width=w, is_bigendian=0, step=w * 3,
                                encoding="bayer_nonsense" if i == broken else kind,
                                data=np.ascontiguousarray(pixels).reshape(-1))
                log_time = (BASE_SEC + 100 + i) * 1_000_000_000  # differs from header stamps on purpose
                writer.write(conn, log_time, store.serialize_cdr(msg, msgtype))
    return path


@pytest.fixture(scope="module")
def bag(frames, tmp_path_factory):
    path = tmp_path_factory.mktemp("bags") / "flight_01"
    return write_bag(path, frames[:5], {"/cam/bgr": "bgr8", "/cam/rgb": "rgb8", "/cam/jpeg": "jpeg",
                                        "/chatter": "text"})


@pytest.mark.parametrize("topic", ["/cam/bgr", "/cam/rgb", "/cam/jpeg"])
def test_rosbag_topics_read_back(bag, frames, topic):
    src = open_source(bag, image_topic=topic)
    assert src.name == "flight_01" and len(src) == 5 and src.frame_size == (480, 360)
    got = list(src)
    assert [f.index for f in got] == list(range(5))
    expected_stamps = [sec * 1_000_000_000 + nsec for sec, nsec in map(stamp_of, range(5))]
    assert [f.stamp_ns for f in got] == expected_stamps
    for f, image in zip(got, frames[:5]):
        if topic == "/cam/jpeg":
            assert np.abs(f.image.astype(int) - image).mean() < 3
        else:
            np.testing.assert_array_equal(f.image, image)


def test_rosbag_topic_choice_errors(bag):
    with pytest.raises(SourceError) as info:
        open_source(bag)
    for topic in ("/cam/bgr", "/cam/rgb", "/cam/jpeg"):
        assert topic in str(info.value)
    assert "/chatter" not in str(info.value)
    with pytest.raises(SourceError, match="not an image"):
        open_source(bag, image_topic="/chatter")
    with pytest.raises(SourceError, match="not in the bag"):
        open_source(bag, image_topic="/cam/depth")
    assert len(open_source(bag, image_topic="cam/rgb")) == 5  # leading slash optional


def test_rosbag_single_image_topic_is_picked(frames, tmp_path):
    path = write_bag(tmp_path / "one", frames[:3], {"/camera/image_raw": "rgb8", "/chatter": "text"})
    src = open_source(path)
    assert src.topic == "/camera/image_raw" and len(src) == 3
    np.testing.assert_array_equal(next(iter(src)).image, frames[0])
    empty = write_bag(tmp_path / "none", frames[:1], {"/chatter": "text"})
    with pytest.raises(SourceError, match="no sensor_msgs"):
        open_source(empty)


@pytest.mark.parametrize("damage", ["not yaml", "not rosbag2", "a key missing"])
def test_rosbag_with_broken_metadata_names_the_file_and_the_fix(frames, tmp_path, damage):
    path = write_bag(tmp_path / "flight", frames[:2], {"/cam/bgr": "bgr8"})
    metadata = path / "metadata.yaml"
    text = {"not yaml": "rosbag2_bagfile_information:\n  version: [9\n  : :\n",
            "not rosbag2": "camera: front\nnotes: flight 1\n",
            "a key missing": metadata.read_text().replace("  storage_identifier:", "  storage:")}[damage]
    metadata.write_text(text)
    with pytest.raises(SourceError) as info:
        open_source(path)
    message = str(info.value)
    assert "\n" not in message and str(metadata) in message and f"ros2 bag reindex {path}" in message
    if damage == "a key missing":
        assert "storage_identifier" in message
