"""Result drawing on a real frame: state colours on the box outline, heatmap inset and overlay, and no
crash for search regions or boxes outside the frame or for tiny frames."""

import cv2
import numpy as np
import pytest

from siam_tracker_ros.trackers.base import TrackResult, TrackState
from siam_tracker_ros.visualization import STATE_COLORS, draw_box, draw_result, heatmap_to_bgr

BOX = (100.0, 120.0, 120.0, 100.0)  # x, y, w, h: away from the text line and the inset corner
REGION = (60.0, 80.0, 200.0, 180.0)


@pytest.fixture(scope="module")
def frame(shared_dir):
    image = cv2.imread(str(shared_dir / "data/sequences/vot_bag/img/000001.jpg"), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def peak_response(size=17):
    yy, xx = np.mgrid[:size, :size]
    c = (size - 1) / 2
    return np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / 8.0).astype(np.float32)


def result(state=TrackState.TRACKING, box=BOX, region=REGION, response=None, confidence=0.87):
    return TrackResult(
        box=np.asarray(box, dtype=np.float64),
        confidence=confidence,
        state=state,
        response=peak_response() if response is None else response,
        search_region=np.asarray(region, dtype=np.float64),
    )


def is_color(pixels, color):
    return np.all(pixels == np.asarray(color, np.uint8), axis=-1)


@pytest.mark.parametrize("state", [TrackState.TRACKING, TrackState.UNCERTAIN])
def test_box_outline_has_state_colour(frame, state):
    out = draw_result(frame, result(state), "nano")
    color = STATE_COLORS[state]
    assert out.shape == frame.shape and out.dtype == np.uint8
    top = out[120, 110:210]  # top edge, y = 120
    left = out[130:210, 100]  # left edge, x = 100
    assert is_color(top, color).all() and is_color(left, color).all()
    assert not is_color(frame[120, 110:210], color).any()
    assert not is_color(out[170, 130:190], color).any()  # the inside is left alone
    assert not np.shares_memory(out, frame)


def test_lost_box_is_dashed_red(frame):
    out = draw_result(frame, result(TrackState.LOST), "nano")
    top = is_color(out[120, 100:221], STATE_COLORS[TrackState.LOST])
    assert 0.3 < top.mean() < 0.9  # dashes: partly drawn, with gaps
    assert not is_color(out, STATE_COLORS[TrackState.TRACKING]).any()


def test_colours_differ_by_state(frame):
    assert len(set(STATE_COLORS.values())) == 3
    assert STATE_COLORS[TrackState.TRACKING] == (0, 255, 0)
    assert STATE_COLORS[TrackState.UNCERTAIN] == (0, 255, 255)
    assert STATE_COLORS[TrackState.LOST] == (0, 0, 255)


def test_text_inset_and_overlay(frame):
    plain = draw_result(frame, result(), None, inset=False, overlay=False)
    with_text = draw_result(frame, result(), "siamrpn", inset=False, overlay=False)
    assert not np.array_equal(with_text[:25, :250], plain[:25, :250])  # tracker name adds text
    # Inset: top-right corner changes only with inset=True.
    corner = (slice(5, 80), slice(400, 475))
    np.testing.assert_array_equal(plain[corner], frame[corner])
    with_inset = draw_result(frame, result(), inset=True)
    assert np.abs(with_inset[corner].astype(int) - frame[corner]).mean() > 10
    # Overlay: centre of the search region tinted towards the peak colour, outside untouched.
    over = draw_result(frame, result(), inset=False, overlay=True)
    cy, cx = 80 + 90, 60 + 100
    peak = heatmap_to_bgr(np.ones((1, 1), np.float32))[0, 0].astype(int)
    before = np.abs(plain[cy, cx].astype(int) - peak).sum()
    after = np.abs(over[cy, cx].astype(int) - peak).sum()
    assert after < before
    np.testing.assert_array_equal(over[300:, 300:], plain[300:, 300:])


@pytest.mark.parametrize(
    "region",
    [(-500, -500, 100, 100), (1000, 900, 50, 50), (-100, -100, 2000, 2000), (400, 300, 500, 500),
     (-1e12, -1e12, 1e13, 1e13), (np.nan, 0, 10, 10), (10, 10, 0, 0)],
)
def test_regions_outside_the_frame(frame, region):
    """Whatever the search region, the box is still drawn where it is (a clipped box at the frame's
    bottom-right corner keeps its state colour on its top edge)."""
    height, width = frame.shape[:2]
    x, y = width - 30, height - 20
    for overlay in (False, True):
        out = draw_result(frame, result(box=(x, y, 100, 100), region=region), "nano", overlay=overlay)
        assert out.shape == frame.shape
        assert is_color(out[y, x + 5 : width - 5], STATE_COLORS[TrackState.TRACKING]).all()


def test_tiny_frame_and_odd_inputs(frame):
    tiny = np.ascontiguousarray(frame[:20, :20])
    for state in TrackState:
        out = draw_result(tiny, result(state, box=(5, 5, 30, 30), region=(-10, -10, 40, 40)), "nano",
                          overlay=True)
        assert out.shape == (20, 20, 3)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    drawn = draw_result(gray, result())
    inside = drawn[170, 130:190]  # inside the box: the grey picture, in three equal channels
    assert drawn.shape == frame.shape and np.array_equal(inside, np.repeat(gray[170, 130:190, None], 3, 1))
    empty = result(response=np.zeros((0, 0), np.float32))  # nothing to overlay: as without the overlay
    assert np.array_equal(draw_result(frame, empty, overlay=True), draw_result(frame, empty, overlay=False))
    far = result(box=(1e9, -1e9, 5, 5), confidence=float("nan"))
    assert draw_result(frame, far).shape == frame.shape


def test_heatmap_to_bgr():
    values = np.array([[0.0, 0.5, 1.0, 2.0, -1.0, np.nan]], np.float32)
    colors = heatmap_to_bgr(values)
    assert colors.shape == (1, 6, 3) and colors.dtype == np.uint8
    low, high = colors[0, 0].astype(int), colors[0, 2].astype(int)
    assert low[0] > low[2] and high[2] > high[0]  # JET: blue for 0, red for 1
    np.testing.assert_array_equal(colors[0, 3], colors[0, 2])  # clipped above
    np.testing.assert_array_equal(colors[0, 4], colors[0, 0])  # clipped below
    np.testing.assert_array_equal(colors[0, 5], colors[0, 0])  # NaN as 0


def test_draw_box_for_ground_truth(frame):
    canvas = frame.copy()
    returned = draw_box(canvas, (50, 60, 80, 40), (255, 0, 255), label="gt")
    assert returned is canvas
    assert is_color(canvas[60, 60:120], (255, 0, 255)).all()
    assert not np.array_equal(canvas[40:58, 50:80], frame[40:58, 50:80])  # label above the box
    untouched = frame.copy()
    draw_box(untouched, (np.nan, np.nan, np.nan, np.nan), (255, 0, 255), label="gt")
    np.testing.assert_array_equal(untouched, frame)
