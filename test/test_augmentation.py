"""First-frame augmentations and their labels: the target must land where the label says it is, or the
online classifier learns to fire beside the target."""

import numpy as np
import pytest

from siam_tracker_ros.libs.augmentation import drol_augmentations
from siam_tracker_ros.libs.labels import gaussian_label

OUT = 255


def _marker_patch(big: int = 2 * OUT) -> np.ndarray:
    """A 2x source patch (as the tracker crops it) with a bright 12 px square at its centre."""
    patch = np.full((big, big, 3), 40, np.uint8)
    c = big // 2
    patch[c - 6 : c + 6, c - 6 : c + 6] = 250
    return patch


def _centroid(image: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(image[..., 0] > 145)
    return np.array([xs.mean(), ys.mean()])


@pytest.mark.parametrize("aug", drol_augmentations(OUT), ids=lambda a: f"{a.kind}{a.value}")
def test_the_target_lands_where_the_augmentation_says(aug):
    out, offset = aug.apply(_marker_patch(), OUT)
    assert out.shape == (OUT, OUT, 3)
    centre = np.array([(OUT - 1) / 2.0] * 2)
    np.testing.assert_allclose(_centroid(out), centre + offset, atol=1.0)
    if aug.kind != "shift":
        assert np.array_equal(offset, [0.0, 0.0])


def test_the_four_shifts_go_to_the_four_diagonals():
    shifts = [a.apply(_marker_patch(), OUT)[1] for a in drol_augmentations(OUT) if a.kind == "shift"]
    assert sorted((np.sign(dx), np.sign(dy)) for dx, dy in shifts) == [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    assert all(np.allclose(np.abs(s), 0.6 * OUT / 2) for s in shifts)  # DROL's RELATIVESHIFT 0.6


def test_a_label_peaks_on_the_cell_of_its_offset():
    label = gaussian_label(16, (3.0, -2.0), sigma=1.0)
    row, col = np.unravel_index(np.argmax(label), label.shape)
    assert (col, row) == (16 // 2 + 3, 16 // 2 - 2) and label.max() == pytest.approx(1.0)
