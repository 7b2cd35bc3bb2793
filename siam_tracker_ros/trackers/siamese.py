"""The Siamese tracking loop, separate from the networks (as in pysot): crop, embed, score, select.

`SiameseTracker` runs any network that offers `embed(crops)` and `head(template_feat, search_feat)`
returning (cls logits N,2,S,S; loc N,4,S,S as left/top/right/bottom distances in crop pixels) — the
anchor-free head of NanoTrack/SiamBAN. The search step is split into `search()` (network outputs for
one crop, decoded to image coordinates) and `select()` (penalties, window, smoothing), so online
modules (DROL) and long-term re-detection can change the scores between the two.

Long-term mode (`long_term: true` in a tracker config, any base): the lost state, re-detection, the
memory of look-alikes and camera motion live in trackers/long_term.py, mixed into `SiameseTracker`;
`_track` below shows where they come in (probation of a re-detection, out of view, lost frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from siam_tracker_ros.errors import ConfigError
from siam_tracker_ros.libs.appearance import similarity, target_descriptor
from siam_tracker_ros.libs.boxes import (
    clip_center_size,
    context_size,
    cxcywh_to_xywh,
    xywh_to_cxcywh,
)
from siam_tracker_ros.libs.cropping import crop_square
from siam_tracker_ros.libs.penalties import scale_aspect_penalty, smooth_size
from siam_tracker_ros.libs.windows import WINDOWS, cosine_window
from siam_tracker_ros.trackers.base import Tracker, TrackResult, TrackState
from siam_tracker_ros.trackers.long_term import LongTermMixin
from siam_tracker_ros.trackers.state import StateMachine, StateThresholds


@dataclass
class SiameseConfig:
    """Tracking hyper-parameters; the YAML config of each tracker fills these (with sources noted)."""

    exemplar_size: int = 127
    instance_size: int = 255
    context_amount: float = 0.5
    stride: int = 16
    window_influence: float = 0.49
    window: str = "hann"                 # cosine window shape (libs/windows.py: hann, hann_sqrt)
    penalty_k: float = 0.15
    lr: float = 0.385
    min_size: float = 10.0               # smallest side of the tracked box, px
    channel_order: str = "bgr"           # colour order the network was trained on ("bgr" or "rgb")
    state: StateThresholds = field(default_factory=StateThresholds)
    # long-term re-detection (off: the short-term baseline, box follows the best cell every frame)
    long_term: bool = False
    lost_instance_size: int = 831        # pysot TRACK.LOST_INSTANCE_SIZE
    lost_window_influence: float = 0.001  # pysot long-term: near-global search inside the enlarged crop
    full_frame_after: int = 5            # lost frames before the whole frame is tiled (0: never)
    max_tiles: int = 4                   # crops per full-frame pass; more tiles are visited in turn
    near_radius: float = 0.0             # >0: in the near search, a target expected in view is re-found
                                         # within this many target sizes of where it is expected
    in_place_radius: float = 0.0         # >0: a candidate within this many target sizes of the held box,
                                         # the target expected in view, is found in place (Candidate.in_place)
    redetect_min_score: float = 0.0      # Siamese probability a re-detection candidate needs
    probation_frames: int = 0            # frames after a re-detection it must keep passing its checks
    confirm_frames: int = 0              # of those, frames still reported LOST (box held) before it counts
    # camera motion: the search follows it; long-term mode: out of view from the expected box
    motion_compensation: bool = False
    motion_width: int = 160              # px width of the grey copy phase correlation runs on
    velocity_smoothing: float = 0.3      # share of a new velocity measurement in the running estimate
    search_follows_camera: bool = True   # also search where camera and velocity put the target
    camera_hypothesis_min: float = 0.25  # motion (target sizes) above which both crops are searched
    out_of_view_visible: float = 0.0     # out of view: expected box's share inside the frame <= this
    # long-term mode: look-alikes seen beside the target are not re-detected (libs/distractors.py)
    distractor_memory: bool = False
    distractor_radius: float = 1.0       # target sizes: blocking distance (association: half)
    distractor_max_unseen: int = 30      # frames a look-alike is remembered without being seen
    census_every: int = 0                # >0: every this many confident frames, scan for look-alikes
    census_tiles_per_frame: int = 0      # tiles of that scan run per frame (0: all in one frame)

    def __post_init__(self) -> None:
        if isinstance(self.state, dict):
            self.state = StateThresholds(**self.state)
        if not 0.0 <= self.window_influence <= 1.0:
            raise ConfigError(f"window_influence must be in [0, 1], got {self.window_influence}")
        if not 0.0 <= self.lr <= 1.0:
            raise ConfigError(f"lr must be in [0, 1], got {self.lr}")
        if self.penalty_k < 0:
            raise ConfigError(f"penalty_k must be >= 0, got {self.penalty_k}")
        if self.window not in WINDOWS:
            raise ConfigError(f"window must be one of {WINDOWS}, got {self.window!r}")
        if self.channel_order not in ("bgr", "rgb"):
            raise ConfigError(f"channel_order must be 'bgr' or 'rgb', got {self.channel_order!r}")
        if self.instance_size < self.exemplar_size:
            raise ConfigError("instance_size must be at least exemplar_size")
        if self.lost_instance_size < self.instance_size:
            raise ConfigError("lost_instance_size must be at least instance_size")
        if self.probation_frames < 0:
            raise ConfigError(f"probation_frames must be >= 0, got {self.probation_frames}")
        if not 0 <= self.confirm_frames <= self.probation_frames:
            raise ConfigError(f"confirm_frames ({self.confirm_frames}) must lie in [0, probation_frames "
                              f"({self.probation_frames})]: a re-detection is confirmed within its probation")
        if self.full_frame_after < 0 or self.max_tiles < 1:
            raise ConfigError("full_frame_after must be >= 0 and max_tiles >= 1")
        if self.motion_width < 16 or not 0.0 <= self.velocity_smoothing <= 1.0:
            raise ConfigError("motion_width must be >= 16 and velocity_smoothing in [0, 1]")
        if not 0.0 <= self.out_of_view_visible < 1.0:
            raise ConfigError(f"out_of_view_visible must be in [0, 1), got {self.out_of_view_visible}")
        if self.near_radius < 0:
            raise ConfigError(f"near_radius must be >= 0 (0: anywhere in the near crop), got "
                              f"{self.near_radius}")
        if self.in_place_radius < 0:
            raise ConfigError(f"in_place_radius must be >= 0 (0: off), got {self.in_place_radius}")
        if self.distractor_radius <= 0 or self.distractor_max_unseen < 0:
            raise ConfigError("distractor_radius must be > 0 and distractor_max_unseen >= 0")
        if self.census_every < 0:
            raise ConfigError(f"census_every must be >= 0 (0: no look-alike census), got {self.census_every}")
        if self.census_tiles_per_frame < 0:
            raise ConfigError("census_tiles_per_frame must be >= 0 (0: the whole scan in one frame), got "
                              f"{self.census_tiles_per_frame}")


@dataclass
class SearchOutput:
    """Network outputs for one search crop, in image coordinates.

    score: (S, S) target probability per cell; boxes: (4, S, S) candidate boxes cx, cy, w, h in image
    pixels; features: the search features (for online modules); scale: crop px per image px;
    region: (x, y, w, h) of the image the score cells cover.
    """

    score: np.ndarray
    boxes: np.ndarray
    features: torch.Tensor
    scale: float
    region: np.ndarray
    logit: np.ndarray | None = None  # (S, S) target-minus-background logit (the probability saturates)


@dataclass
class Candidate:
    """The pick in one search crop: its cell, box (cx, cy, w, h), size lr and the scores behind it."""

    out: SearchOutput
    index: int
    box: np.ndarray
    lr: float
    siamese: float
    online: float | None
    logit: float
    confidence: float
    blocked: bool = False  # the cell is a remembered look-alike's place (see libs/distractors.py)
    in_place: bool = False  # lost mode: where the target was lost, still in view (see in_place_radius)


class SiameseTracker(LongTermMixin, Tracker):
    def __init__(self, name: str, network: torch.nn.Module, config: SiameseConfig,
                 device: str = "cpu", fp16: bool = False) -> None:
        super().__init__()
        self.name = name
        self.network = network
        self.config = config
        self.device = torch.device(device)
        self.dtype = torch.float16 if fp16 else torch.float32
        self.state_machine = StateMachine(config.state)
        self.center = np.zeros(2)
        self.size = np.ones(2)
        self.pad_value = np.zeros(3)
        self.template_feat: torch.Tensor | None = None
        self.first_look: torch.Tensor | None = None  # target descriptor of the first frame's template
        self.last_scores: tuple[float, float | None] = (1.0, None)  # (Siamese, online) behind confidence
        self.last_logit = 0.0
        self.frame_index = 0  # frames tracked since init (the census and DROL's template schedule count them)
        self._init_long_term(config)

    # -- network plumbing -------------------------------------------------------------------------
    def _to_tensor(self, crops: list[np.ndarray]) -> torch.Tensor:
        batch = np.stack(crops).transpose(0, 3, 1, 2)  # N, 3, H, W (BGR, 0..255)
        if self.config.channel_order == "rgb":
            batch = np.ascontiguousarray(batch[:, ::-1])  # torch takes no negative strides
        return torch.from_numpy(batch).to(self.device, self.dtype)

    @torch.inference_mode()
    def embed(self, crops: list[np.ndarray]) -> torch.Tensor:
        return self.network.embed(self._to_tensor(crops))

    # -- tracking -----------------------------------------------------------------------------------
    def _init(self, image: np.ndarray, box: np.ndarray) -> None:
        cfg = self.config
        cxcywh = xywh_to_cxcywh(box)
        self.center, self.size = cxcywh[:2], cxcywh[2:]
        self.pad_value = image.mean(axis=(0, 1))
        z = self.crop(image, self.center, self.context_side(), cfg.exemplar_size)
        self.template_feat = self.embed([z])
        self.first_look = target_descriptor(self.template_feat)
        self.state_machine.reset()
        self.frame_index = 0
        self._restart_long_term(image, cxcywh)

    def crop(self, image: np.ndarray, center: np.ndarray, side: float, out_size: int) -> np.ndarray:
        """The network's input around `center`: a square of `side` image px, padded with the mean of
        the first frame, resized to `out_size`."""
        return crop_square(image, center, side, out_size, self.pad_value)

    def context_side(self) -> float:
        """Side of the exemplar's context square around the current target, image px."""
        return context_size(self.size, self.config.context_amount)

    def search_size(self, instance_size: int | None = None) -> tuple[float, float]:
        """(side of the search square in image px, crop px per image px) around the current target."""
        cfg = self.config
        s_z = self.context_side()
        scale = cfg.exemplar_size / s_z
        return s_z * (instance_size or cfg.instance_size) / cfg.exemplar_size, scale

    @torch.inference_mode()
    def search(self, image: np.ndarray, centers: list[np.ndarray], instance_size: int | None = None
               ) -> list[SearchOutput]:
        """Score one search crop per centre (batched in one forward pass) at the current target scale."""
        cfg = self.config
        instance_size = instance_size or cfg.instance_size
        s_x, scale = self.search_size(instance_size)
        crops = [self.crop(image, c, s_x, instance_size) for c in centers]
        features = self.network.embed(self._to_tensor(crops))
        return self.score_features(features, self.template_feat, centers, scale, instance_size)

    @torch.inference_mode()
    def score_features(self, features: torch.Tensor, template_feat: torch.Tensor, centers, scale: float,
                       instance_size: int) -> list[SearchOutput]:
        """Head + decoding for already embedded crops (a second template reuses the search features)."""
        cls, loc = self.network.head(template_feat, features)
        cls = cls.float()
        score = torch.softmax(cls, dim=1)[:, 1].cpu().numpy()
        logit = (cls[:, 1] - cls[:, 0]).cpu().numpy()
        loc = loc.float().cpu().numpy()
        outputs = []
        for i, center in enumerate(centers):
            boxes, region = self._decode(loc[i], center, scale, instance_size)
            outputs.append(SearchOutput(score[i], boxes, features[i : i + 1], scale, region, logit[i]))
        return outputs

    def _decode(self, loc: np.ndarray, center: np.ndarray, scale: float, instance_size: int
                ) -> tuple[np.ndarray, np.ndarray]:
        """Anchor-free boxes: each cell predicts distances to the box sides from its point."""
        size = loc.shape[-1]
        stride = self.config.stride
        offsets = (np.arange(size) - size // 2) * stride  # cell points relative to the crop centre
        px, py = np.meshgrid(offsets, offsets)
        x1, y1 = px - loc[0], py - loc[1]
        x2, y2 = px + loc[2], py + loc[3]
        boxes = np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]) / scale
        boxes[0] += center[0]
        boxes[1] += center[1]
        first = (offsets[0] - stride / 2) / scale
        side = size * stride / scale
        region = np.array([center[0] + first, center[1] + first, side, side])
        return boxes, region

    def select(self, out: SearchOutput, score: np.ndarray | None = None, online: np.ndarray | None = None,
               online_weight: float = 0.0, window_influence: float | None = None
               ) -> tuple[int, np.ndarray, float]:
        """Pick the best cell after scale/aspect penalty and cosine window; return (index, box, lr).

        `score` replaces `out.score` (e.g. a fused online + Siamese map of the same size). `online`, a
        map of the same size, is min-max normalised and fused after the penalty and before the window
        as `online_weight * online + (1 - online_weight) * penalised Siamese` (DROL's released code).
        The size-smoothing lr uses the Siamese score, as that code does.
        """
        cfg = self.config
        score = out.score if score is None else score
        boxes = out.boxes
        penalty = scale_aspect_penalty(boxes[2] * out.scale, boxes[3] * out.scale,
                                       self.size[0] * out.scale, self.size[1] * out.scale, cfg.penalty_k,
                                       self.scale_reference(out))
        pscore = penalty * score
        if online is not None and online_weight > 0:
            lo, hi = float(online.min()), float(online.max())
            norm = (online - lo) / (hi - lo) if hi > lo else np.zeros_like(online)
            pscore = pscore * (1 - online_weight) + norm * online_weight
        wi = cfg.window_influence if window_influence is None else window_influence
        pscore = pscore * (1 - wi) + cosine_window(score.shape[0], cfg.window) * wi
        best = int(np.argmax(pscore))
        r, c = divmod(best, score.shape[1])
        lr = float(penalty[r, c] * score[r, c] * cfg.lr)
        return best, boxes[:, r, c].copy(), lr

    def scale_reference(self, out: SearchOutput) -> tuple[float, float] | None:
        """What a candidate's size change is measured against; None: the current size (pysot)."""
        return None

    def update_target(self, image: np.ndarray, box_cxcywh: np.ndarray, lr: float) -> None:
        size = smooth_size(self.size, box_cxcywh[2:], lr)
        self.center, self.size = clip_center_size(box_cxcywh[:2], size, image.shape, self.config.min_size)

    # -- hooks for online modules (DROL); the plain base has none ---------------------------------
    def online_scores(self, out: SearchOutput) -> np.ndarray | None:
        """Online classifier map on `out`'s cell grid (raw scale, label peak 1), or None."""
        return None

    @property
    def online_weight(self) -> float:
        return 0.0

    def confidence(self, siamese: float, online: float | None, logit: float | None = None) -> float:
        """Confidence in [0, 1] of a chosen cell: the base uses its Siamese probability."""
        return float(np.clip(siamese, 0.0, 1.0))

    def accept_candidate(self, pick: Candidate, image: np.ndarray | None = None) -> bool:
        """Whether a re-detection candidate may end LOST (besides the confidence threshold). `image` is
        the frame, for checks that look at it again (DROL's first-frame look); without it only the
        scores are checked (the look-alike census asks this of many candidates)."""
        return pick.siamese >= self.config.redetect_min_score

    def holds_after_redetection(self, pick: Candidate, image: np.ndarray, confirming: bool = False) -> bool:
        """Whether a frame in a re-detection's probation still looks like the target; `confirming`: one
        of its first `confirm_frames`, before the caller is told (DROL asks more there)."""
        return pick.siamese >= self.config.redetect_min_score

    def first_frame_similarity(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """How much the objects in `boxes` (N x cx, cy, w, h; one batch) look like the target the user
        drew: cosine of target descriptors (libs/appearance.py), exemplar crops against the template."""
        boxes = np.atleast_2d(boxes)
        crops = [self.crop(image, b[:2], context_size(b[2:], self.config.context_amount),
                           self.config.exemplar_size) for b in boxes]
        return similarity(target_descriptor(self.embed(crops)), self.first_look)

    def after_frame(self, image: np.ndarray, out: SearchOutput, best: int, state: TrackState) -> None:
        """Called after a normal (not lost-mode) frame, once the target is updated."""

    def _result(self, confidence: float, state: TrackState, response: np.ndarray, region) -> TrackResult:
        center, size = self.center, self.size
        if self.unconfirmed > 0 and state is not TrackState.LOST:
            # a re-detection not yet confirmed: the caller still sees LOST and the held box
            center, size = self._before_redetection[:2]
            confidence, state = min(confidence, self.config.state.lost_below), TrackState.LOST
        return TrackResult(
            box=cxcywh_to_xywh(np.concatenate([center, size])),
            confidence=float(confidence),
            state=state,
            response=np.clip(response, 0.0, 1.0).astype(np.float32),
            search_region=np.asarray(region, dtype=np.float64),
        )

    def _track(self, image: np.ndarray) -> TrackResult:
        self.frame_index += 1
        motion = self._follow_camera(image)
        if self.config.long_term and self.state_machine.state is TrackState.LOST:
            return self._track_lost(image)
        pick = self._search_hypotheses(image, motion)
        confidence, box = pick.confidence, pick.box
        undone, confirming = False, self.unconfirmed > 0
        if self.probation > 0:
            self.probation -= 1
            self.unconfirmed = max(0, self.unconfirmed - 1)
            undone = not self.holds_after_redetection(pick, image, confirming)
        if undone:
            self._undo_redetection()
            confidence = min(confidence, self.config.state.lost_below)
            state = TrackState.LOST
        elif self.camera is not None and self.config.long_term and self.out_of_view(image.shape):
            confidence = min(confidence, self.config.state.lost_below)
            state = self.state_machine.force_lost()
        else:
            state = self.state_machine.update(confidence)
        if confirming and state is TrackState.LOST and not undone:
            self._undo_redetection()  # lost before it was confirmed: the box held before it stays
        if self.config.long_term and state is TrackState.LOST:
            # hold the box from this frame on (re-detection starts next frame). The search moved the
            # centre with the camera, which can put it off the image: the held box is where the target
            # was last in view (a controller turns towards it), never outside the frame.
            self.lost_frames = 0
            self.center, self.size = clip_center_size(self.center, self.size, image.shape,
                                                      self.config.min_size)
        else:
            self.update_target(image, box, pick.lr)
            if state is TrackState.TRACKING:
                self._observe(np.concatenate([box[:2], self.size]))
        if self.config.long_term and self.config.distractor_memory:
            self._remember_look_alikes(pick, state)
        self.after_frame(image, pick.out, pick.index, state)
        if self.config.long_term and self.config.distractor_memory and self.config.census_every > 0:
            self._look_alike_census(image, state)
        return self._result(confidence, state, pick.out.score, pick.out.region)

    def _best_in(self, out: SearchOutput, window_influence: float | None = None,
                 blocked: np.ndarray | None = None) -> Candidate:
        """Select the best cell of one crop and score it (online map, Siamese, logit, confidence).
        Cells in `blocked` (remembered look-alikes) are not selected; if nothing else is left the
        pick is marked blocked and has confidence 0."""
        online = self.online_scores(out)
        score = None
        if blocked is not None and blocked.any():
            score = np.where(blocked, 0.0, out.score)
            if online is not None:
                online = np.where(blocked, float(online.min()), online)
        index, box, lr = self.select(out, score=score, online=online, online_weight=self.online_weight,
                                     window_influence=window_influence)
        pick = self._candidate_at(out, online, index, box, lr)
        if blocked is not None and bool(blocked.flat[index]):
            pick.confidence, pick.blocked = 0.0, True
        return pick

    def _candidate_at(self, out: SearchOutput, online: np.ndarray | None, index: int, box: np.ndarray,
                      lr: float) -> Candidate:
        """Cell `index` of a crop as a candidate: its Siamese, online and logit scores and confidence."""
        siamese = float(out.score.flat[index])
        onl = None if online is None else float(online.flat[index])
        logit = float(out.logit.flat[index])
        return Candidate(out, index, box, lr, siamese, onl, logit, self.confidence(siamese, onl, logit))

    def target_extent(self) -> float:
        """The target's size as one length (geometric mean of width and height), image px."""
        return float(np.sqrt(self.size[0] * self.size[1]))

    def _adopt(self, pick: Candidate) -> None:
        """The picked candidate's scores become the ones the confidence and the node report."""
        self.last_scores = (pick.siamese, pick.online)
        self.last_logit = pick.logit

    def _search_hypotheses(self, image: np.ndarray, motion: np.ndarray) -> Candidate:
        """Normal search. When the camera moved, the target either moved with the scene (a static
        target, a panning camera: search where camera and velocity put it) or stayed where it was in
        the image (a camera following it, the drone's case). Both crops run in one batch and the one
        whose pick is more confident, weighted by how close it lies to its crop's centre as the cosine
        window weights cells, wins; a still camera gives one crop."""
        cfg = self.config
        centers = [self.center]
        if self.camera is not None and cfg.search_follows_camera:
            moved = self.center + motion
            if np.hypot(*motion) > cfg.camera_hypothesis_min * float(np.mean(self.size)):
                centers = [moved, self.center]
            else:
                centers = [moved]
        outs = self.search(image, centers)
        wi = cfg.window_influence
        pick, pick_center, pick_value = None, None, -np.inf
        for center, out in zip(centers, outs):
            self.center = center  # the crop's own centre (DROL's short-term template decodes from it)
            cand = self._best_in(out)
            near_centre = float(cosine_window(out.score.shape[0], cfg.window).flat[cand.index])
            value = (1 - wi) * cand.confidence + wi * near_centre
            if value > pick_value:
                pick, pick_center, pick_value = cand, center, value
        self.center = pick_center
        if pick.out is not outs[-1]:
            self.online_scores(pick.out)  # an online module keeps the chosen crop's features
        self._adopt(pick)
        return pick







