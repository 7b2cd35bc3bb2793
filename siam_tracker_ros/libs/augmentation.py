"""First-frame augmentations for online classifiers (ATOM / DROL style).

Each augmentation maps a (2x larger) source patch to an output patch and tells where the patch centre
(the target) moves, so its label can follow. Working on a 2x patch and cropping the middle avoids the
padding borders that rotating or shifting a tight crop would show.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Augmentation:
    """kind: identity | shift | fliplr | blur | rotate; value: shift (dx, dy) in output px, blur sigmas
    (sx, sy), or rotation angle in degrees."""

    kind: str
    value: tuple = ()

    def apply(self, patch: np.ndarray, out_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (augmented out_size crop, target offset (dx, dy) from the output centre in px)."""
        big = patch.shape[0]
        scale = out_size / (big / 2.0)  # the output is the middle half of the source, resized
        c = (big - 1) / 2.0
        offset = np.zeros(2)
        src = patch
        if self.kind == "blur":
            sx, sy = self.value
            kx, ky = (int(2 * round(3 * s / scale) + 1) for s in (sx, sy))
            src = cv2.GaussianBlur(patch, (max(kx, 1), max(ky, 1)), sigmaX=sx / scale, sigmaY=sy / scale)
        elif self.kind == "fliplr":
            src = patch[:, ::-1]
        elif self.kind == "rotate":
            m = cv2.getRotationMatrix2D((c, c), float(self.value[0]), 1.0)
            src = cv2.warpAffine(patch, m, (big, big), borderMode=cv2.BORDER_REPLICATE)
        center = np.array([c, c])
        if self.kind == "shift":
            shift = np.asarray(self.value, dtype=np.float64)  # output px: the crop window moves by -shift
            center = center - shift / scale
            offset = shift
        # scale about `center` and put it at the output centre
        o = (out_size - 1) / 2.0
        m = np.array([[scale, 0.0, o - center[0] * scale], [0.0, scale, o - center[1] * scale]])
        out = cv2.warpAffine(np.ascontiguousarray(src), m, (out_size, out_size), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
        return out, offset


def drol_augmentations(out_size: int, shift_fraction: float = 0.6,
                       blurs=((2, 0.2), (0.2, 2), (3, 1), (1, 3), (2, 2)),
                       rotations=(5, -5, 10, -10, 20, -20, 30, -30, 45, -45, 60, -60),
                       flip: bool = True) -> list[Augmentation]:
    """The released DROL/ATOM list: identity, 4 diagonal shifts of shift_fraction * out_size / 2,
    horizontal flip, 5 blurs, 12 rotations (23 image samples; dropout copies are made on features)."""
    s = shift_fraction * out_size / 2.0
    augs = [Augmentation("identity")]
    augs += [Augmentation("shift", (dx * s, dy * s)) for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
    if flip:
        augs.append(Augmentation("fliplr"))
    augs += [Augmentation("blur", tuple(b)) for b in blurs]
    augs += [Augmentation("rotate", (float(a),)) for a in rotations]
    return augs
