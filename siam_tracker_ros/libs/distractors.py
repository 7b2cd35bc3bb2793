"""Look-alikes the tracker has seen beside its target, remembered so re-detection does not take them.

When the target leaves the view, a same-class neighbour (another player, rider, animal of a herd) that
stayed in view is what re-detection finds first: it passes the Siamese score and, being of the same
kind, the online classifier too. What tells it apart is its history: it was seen *at the same time* as
the target (KeepTrack, Mayer et al. ICCV 2021, keeps track of such candidates by association). So
while the target is tracked confidently, other peaks of the score map that would pass a re-detection
are remembered with their image position; the memory follows the camera motion and re-associates
those peaks frame by frame (while lost too), and a re-detection may not take a place the memory holds.
A returning target comes from elsewhere (out of the frame, from behind an occluder), so it is new.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def local_peaks(score: np.ndarray, min_value: float) -> np.ndarray:
    """Flat indices of the cells that are the maximum of their 3x3 neighbourhood and >= min_value."""
    padded = np.pad(score, 1, constant_values=-np.inf)
    h, w = score.shape
    neighbours = np.stack([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)])
    is_peak = (score >= neighbours.max(axis=0)) & (score >= min_value)
    return np.flatnonzero(is_peak)


@dataclass
class Distractor:
    position: np.ndarray  # image px (cx, cy)
    last_seen: int        # frame number of its last association
    census: bool = False  # found by a frame scan, not beside the target (see `observe`)


class DistractorMemory:
    """Positions of look-alikes. `radius` (in target sizes) is the blocking distance; a peak is the
    same look-alike within half of it (look-alikes move less than half their size between frames
    once the camera motion is taken out). An entry unseen for `max_unseen` frames is forgotten."""

    def __init__(self, radius: float = 1.0, max_unseen: int = 30) -> None:
        self.radius = float(radius)
        self.max_unseen = int(max_unseen)
        self.entries: list[Distractor] = []

    def reset(self) -> None:
        self.entries = []

    def follow(self, shift: np.ndarray) -> None:
        """The camera moved the image content by `shift`; look-alikes at rest move with it."""
        for entry in self.entries:
            entry.position = entry.position + shift

    def _nearest(self, position: np.ndarray, reach: float) -> Distractor | None:
        best, best_distance = None, reach
        for entry in self.entries:
            distance = float(np.hypot(*(entry.position - position)))
            if distance <= best_distance:
                best, best_distance = entry, distance
        return best

    def observe(self, positions, target_size: float, frame: int, add: bool, census: bool = False,
                lost: bool = False) -> None:
        """Associate peaks (image px) with the remembered look-alikes, moving them there; with `add`
        (the target is known to be elsewhere), unassociated peaks become new entries (`census`: found
        by a frame scan). While `lost`, a census entry follows its peak but is not renewed: if the
        tracker was on the wrong object when the scan ran, the entry may be the target itself, and it
        must not block it for ever. Seen beside the target later, it is an ordinary entry."""
        reach = 0.5 * self.radius * target_size
        for position in positions:
            entry = self._nearest(np.asarray(position, dtype=np.float64), reach)
            if entry is not None:
                entry.position = np.asarray(position, dtype=np.float64).copy()
                if add and not census:  # seen beside the target: as sure a look-alike as any
                    entry.census = False
                if not (lost and entry.census):
                    entry.last_seen = frame
            elif add:
                self.entries.append(Distractor(np.asarray(position, dtype=np.float64).copy(), frame, census))
        self.entries = [e for e in self.entries if frame - e.last_seen <= self.max_unseen]

    def blocked(self, positions: np.ndarray, target_size: float) -> np.ndarray:
        """For (2, ...) positions: whether each lies within the blocking distance of a look-alike."""
        positions = np.asarray(positions, dtype=np.float64)
        out = np.zeros(positions.shape[1:], dtype=bool)
        reach = self.radius * target_size
        for entry in self.entries:
            dx = positions[0] - entry.position[0]
            dy = positions[1] - entry.position[1]
            out |= np.hypot(dx, dy) <= reach
        return out
