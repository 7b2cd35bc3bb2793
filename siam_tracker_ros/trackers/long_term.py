"""Long-term mode of the Siamese trackers: the lost state, re-detection, look-alikes, camera motion.

`SiameseTracker` (trackers/siamese.py) mixes this in; it runs for any base when its config says
`long_term: true` (and `motion_compensation`, `distractor_memory`, `census_every` for the parts below).

Once the state machine says LOST the box is held, the search grows to `lost_instance_size` (831, as
pysot's long-term tracker) around the held position with almost no cosine window, and after
`full_frame_after` lost frames the whole frame is tiled with such crops, batched in one forward pass. With
`near_radius`, a target lost while expected in view is re-found only within that many target sizes of
where it was until the full-frame search starts (a look-alike can be anywhere in the enlarged crop). A
candidate ends LOST only if its confidence passes the state machine's `found_above` and `accept_candidate`
agrees (DROL adds its classifier check there). For `probation_frames` after that, every frame must pass
`holds_after_redetection`, or the re-detection is taken back (LOST again, the box held before it
restored); the first `confirm_frames` of them still report LOST and the held box, so a look-alike seen for
one frame never moves the box (DROL asks its re-detection gate again on them). A candidate within
`in_place_radius` target sizes of the held box while the target is expected in view is `in_place`: the
target lost in view is mostly still there with a changed look, where a look-alike seldom stands (DROL asks
its classifier less of it). With `distractor_memory`,
look-alikes seen beside the confidently tracked target are remembered and may not be re-detected
(libs/distractors.py); with `census_every`, a full-frame pass every so many confident frames also
remembers those that never came beside it. The pass runs `census_tiles_per_frame` tiles a frame, so its
cost is spread over frames instead of one latency spike.

With `motion_compensation: true` the long-term mode also follows the camera (libs/motion.py): the last
confident box moves with the measured image shift plus the target's own velocity. When that expected box
has (mostly) left the frame the target is declared out of view (LOST) at once, whatever the network says
about the background now under the search region; the normal search looks where camera and velocity put
the target and, when the camera moved noticeably, also where the target was in the image (a camera that
follows it); while lost the enlarged search is centred on the expected box clamped into the frame (where
an out-of-view target comes back).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from siam_tracker_ros.libs.boxes import visible_fraction
from siam_tracker_ros.libs.distractors import DistractorMemory, local_peaks
from siam_tracker_ros.libs.motion import CameraMotion, ExpectedTarget
from siam_tracker_ros.trackers.base import TrackResult, TrackState

if TYPE_CHECKING:
    from siam_tracker_ros.trackers.siamese import Candidate, SearchOutput, SiameseConfig


class LongTermMixin:
    """Lost-mode machinery of `SiameseTracker`, kept apart so the tracking loop reads on its own. It
    uses the host's `config`, target (`center`, `size`, `target_extent`), `state_machine` and
    `frame_index`, searches with its `search`, `_best_in`, `_candidate_at` and `online_scores`, asks
    `accept_candidate`, and reports through `update_target`, `_adopt` and `_result`."""

    def _init_long_term(self, config: SiameseConfig) -> None:
        self.camera = CameraMotion(config.motion_width) if config.motion_compensation else None
        self.expected = ExpectedTarget()
        self.distractors = DistractorMemory(config.distractor_radius, config.distractor_max_unseen)
        self._before_redetection: tuple | None = None  # what a failed re-detection restores
        self._clear_long_term()

    def _clear_long_term(self) -> None:
        self.lost_frames = 0
        self._tile_cursor = 0
        self.velocity = np.zeros(2)  # target's own motion, px/frame, camera motion removed
        self.probation = 0  # frames a re-detection has left to prove itself
        self.unconfirmed = 0  # frames a re-detection is still reported as LOST (see confirm_frames)
        self.redetected_in_place = False  # the re-detection on probation was in place (Candidate.in_place)
        self._census_tiles: list[np.ndarray] = []  # tile centres of a census still to scan

    def _restart_long_term(self, image: np.ndarray, box_cxcywh: np.ndarray) -> None:
        """A new target: nothing is lost, remembered or expected but the drawn box."""
        self._clear_long_term()
        self.expected.observe(box_cxcywh)
        self.distractors.reset()
        if self.camera is not None:
            self.camera.reset(image)

    # -- look-alikes --------------------------------------------------------------------------------
    def _confidently_here(self, state: TrackState) -> bool:
        """The target is where the tracker is (TRACKING, no re-detection on probation): any other
        look-alike seen now is elsewhere."""
        return state is TrackState.TRACKING and self.probation == 0

    def peaks(self, out: SearchOutput) -> tuple[np.ndarray, np.ndarray]:
        """The Siamese map's peaks that pass `redetect_min_score`: their flat cell indices (K,) and
        boxes (K, 4: cx, cy, w, h, a copy), in cell order."""
        cells = local_peaks(out.score, self.config.redetect_min_score)
        return cells, out.boxes.reshape(4, -1)[:, cells].T

    def _look_alike_positions(self, out: SearchOutput) -> list[np.ndarray]:
        """Centres of the Siamese map's peaks that pass `redetect_min_score`. The online score is not
        asked: a look-alike the classifier suppresses beside the target can score high on it once
        the target is gone."""
        return [box[:2] for box in self.peaks(out)[1]]

    def _remember_look_alikes(self, pick: Candidate, state: TrackState) -> None:
        """After a normal frame: follow the remembered look-alikes to this frame's peaks (not the
        target's own); while the target is confidently here (TRACKING, no probation), peaks more than
        `distractor_radius` target sizes away become new look-alikes."""
        extent = self.target_extent()
        peaks = [(p, float(np.hypot(*(p - self.center)))) for p in self._look_alike_positions(pick.out)]
        if state is not TrackState.LOST:
            peaks = [(p, distance) for p, distance in peaks if distance > 0.5 * extent]
        self.distractors.observe([p for p, _ in peaks], extent, self.frame_index, add=False)
        if self._confidently_here(state):
            far = [p for p, distance in peaks if distance > self.config.distractor_radius * extent]
            self.distractors.observe(far, extent, self.frame_index, add=True)

    def _look_alike_census(self, image: np.ndarray, state: TrackState) -> None:
        """While the target is confidently here, scan frame tiles (in turn, as a full-frame
        re-detection pass) for places re-detection would accept now: they are look-alikes, remembered
        even when they never came into the normal search region beside the target. A scan starts
        every `census_every` frames and runs `census_tiles_per_frame` of its tiles a frame; it is
        dropped once the target is not confidently here (what it finds could be the target)."""
        cfg = self.config
        if not self._confidently_here(state):
            self._census_tiles = []
            return
        if not self._census_tiles and self.frame_index % cfg.census_every == 0:
            self._census_tiles = self.tile_centers(image.shape)
        if not self._census_tiles:
            return
        count = cfg.census_tiles_per_frame or len(self._census_tiles)
        tiles, self._census_tiles = self._census_tiles[:count], self._census_tiles[count:]
        extent = self.target_extent()
        reach = cfg.distractor_radius * extent
        found = []
        for out in self.search(image, tiles, cfg.lost_instance_size):
            online = self.online_scores(out)
            for i, box in zip(*self.peaks(out)):
                if float(np.hypot(*(box[:2] - self.center))) <= reach:
                    continue
                cand = self._candidate_at(out, online, int(i), box, 0.0)
                if cand.confidence >= cfg.state.found_above and self.accept_candidate(cand):
                    found.append(box[:2])
        self.distractors.observe(found, extent, self.frame_index, add=True, census=True)

    # -- camera motion and the expected target --------------------------------------------------------
    def _follow_camera(self, image: np.ndarray) -> np.ndarray:
        """Move the expected box with the camera and the target's own velocity; return that motion."""
        if self.camera is None:
            return np.zeros(2)
        shift = self.camera.update(image)
        self.distractors.follow(shift)
        motion = shift + self.velocity
        self.expected.follow(motion)
        return motion

    def _observe(self, box: np.ndarray) -> None:
        """A confident frame: the expected box becomes the tracked one (centre not clipped to the
        image), and the velocity corrects by a share of the miss (an alpha-beta filter's beta step)."""
        if self.camera is None:
            return
        miss = (box[:2] - self.expected.box[:2]) / max(1, self.expected.frames_unseen)
        self.velocity = self.velocity + self.config.velocity_smoothing * miss
        self.expected.observe(box)

    def out_of_view(self, image_shape) -> bool:
        """The expected box lies outside the frame (all but `out_of_view_visible` of it): the camera or
        the target moved it out."""
        return visible_fraction(self.expected.box, image_shape) <= self.config.out_of_view_visible

    # -- re-detection -------------------------------------------------------------------------------
    def tile_centers(self, image_shape) -> list[np.ndarray]:
        """Centres of enlarged crops covering the whole frame; at most `max_tiles` per call, in turn."""
        height, width = image_shape[:2]
        side, _ = self.search_size(self.config.lost_instance_size)
        nx, ny = max(1, math.ceil(width / side)), max(1, math.ceil(height / side))
        xs = (np.arange(nx) + 0.5) * width / nx
        ys = (np.arange(ny) + 0.5) * height / ny
        tiles = [np.array([x, y]) for y in ys for x in xs]
        if len(tiles) <= self.config.max_tiles:
            return tiles
        start = self._tile_cursor % len(tiles)
        self._tile_cursor = start + self.config.max_tiles
        return [tiles[(start + k) % len(tiles)] for k in range(self.config.max_tiles)]

    def _redetect_in(self, out: SearchOutput, window_influence: float, near: np.ndarray | None = None
                     ) -> Candidate:
        """Best re-detection candidate of one lost-mode crop; with the distractor memory, the
        remembered look-alikes are first followed to this crop's peaks and then kept out. With `near`,
        cells farther than `near_radius` target sizes from it are kept out too."""
        extent = self.target_extent()
        blocked = None
        if near is not None:
            distance = np.hypot(out.boxes[0] - near[0], out.boxes[1] - near[1])
            blocked = distance > self.config.near_radius * extent
        if self.config.distractor_memory and self.distractors.entries:
            self.distractors.observe(self._look_alike_positions(out), extent, self.frame_index, add=False,
                                     lost=True)
            remembered = self.distractors.blocked(out.boxes[:2], extent)
            blocked = remembered if blocked is None else blocked | remembered
        return self._best_in(out, window_influence, blocked)

    def _in_place(self, pick: Candidate) -> bool:
        """The candidate stands where the target was lost: within `in_place_radius` target sizes of the
        held box (asked only while the target is expected in view)."""
        radius = self.config.in_place_radius
        return radius > 0 and float(np.hypot(*(pick.box[:2] - self.center))) <= radius * self.target_extent()

    def _track_lost(self, image: np.ndarray) -> TrackResult:
        """One lost-mode frame: enlarged (or full-frame) search; the box stays held unless re-found."""
        cfg = self.config
        self.lost_frames += 1
        full = cfg.full_frame_after > 0 and self.lost_frames >= cfg.full_frame_after
        near = self.center
        if self.camera is not None:  # where the target should be; clamped: an out-of-view one re-enters there
            height, width = image.shape[:2]
            near = np.clip(self.expected.box[:2], [0.0, 0.0], [float(width), float(height)])
        centers = self.tile_centers(image.shape) if full else [near]
        outs = self.search(image, centers, cfg.lost_instance_size)
        window = 0.0 if full else cfg.lost_window_influence
        # lost in view (an occlusion, a sudden change of look): the target is still about where it was
        # lost, while a look-alike is found anywhere in the enlarged crop
        in_view = self.camera is None or not self.out_of_view(image.shape)
        only_near = not full and cfg.near_radius > 0 and in_view
        pick = max((self._redetect_in(out, window, near if only_near else None) for out in outs),
                   key=lambda cand: cand.confidence)
        pick.in_place = in_view and self._in_place(pick)
        self._adopt(pick)
        conf, box, out = pick.confidence, pick.box, pick.out
        accepted = self.accept_candidate(pick, image) and not pick.blocked
        if not accepted:  # a rejected candidate is no evidence of the target: report it as absent
            conf = min(conf, self.config.state.lost_below)
        state = self.state_machine.update(conf, can_recover=accepted)
        if state is not TrackState.LOST:
            self._before_redetection = (self.center.copy(), self.size.copy(), self.expected.box.copy(),
                                        self.expected.frames_unseen, self.velocity.copy())
            self.probation = cfg.probation_frames
            self.unconfirmed = cfg.confirm_frames
            self.redetected_in_place = pick.in_place
            self.center = box[:2].copy()  # jump to the re-detection; size from the candidate, smoothed
            self.update_target(image, box, pick.lr)
            self.lost_frames = 0
            self.velocity = np.zeros(2)
            self.expected.observe(box)
        return self._result(conf, state, out.score, out.region)

    def _undo_redetection(self) -> None:
        """A re-detection that failed its probation was a look-alike: back to LOST with the held box
        and the expected target as they were before it."""
        self.center, self.size, box, unseen, self.velocity = self._before_redetection
        self.expected.box, self.expected.frames_unseen = box, unseen
        self.probation = 0
        self.unconfirmed = 0
        self.redetected_in_place = False
        self.state_machine.force_lost()
