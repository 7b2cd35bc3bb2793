"""The Siamese tracking loop, separate from the networks (as in pysot): crop, embed, score, select.

`SiameseTracker` runs any network that offers `embed(crops)` and `head(template_feat, search_feat)`
returning (cls logits N,2,S,S; loc N,4,S,S as left/top/right/bottom distances in crop pixels) — the
anchor-free head of NanoTrack/SiamBAN. The search step is split into `search()` (network outputs for
one crop, decoded to image coordinates) and `select()` (penalties, window, smoothing), so online
modules (DROL) and long-term re-detection can change the scores between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from siam_tracker_ros.errors import ConfigError
from siam_tracker_ros.libs.boxes import clip_center_size, context_size, cxcywh_to_xywh, xywh_to_cxcywh
from siam_tracker_ros.libs.cropping import crop_square
from siam_tracker_ros.libs.penalties import scale_aspect_penalty, smooth_size
from siam_tracker_ros.libs.windows import cosine_window
from siam_tracker_ros.trackers.base import Tracker, TrackResult
from siam_tracker_ros.trackers.state import StateMachine, StateThresholds


@dataclass
class SiameseConfig:
    """Tracking hyper-parameters; the YAML config of each tracker fills these (with sources noted)."""

    exemplar_size: int = 127
    instance_size: int = 255
    context_amount: float = 0.5
    stride: int = 16
    window_influence: float = 0.49
    penalty_k: float = 0.15
    lr: float = 0.385
    min_size: float = 10.0
    state: StateThresholds = field(default_factory=StateThresholds)

    def __post_init__(self) -> None:
        if isinstance(self.state, dict):
            self.state = StateThresholds(**self.state)
        if not 0.0 <= self.window_influence <= 1.0:
            raise ConfigError(f"window_influence must be in [0, 1], got {self.window_influence}")
        if not 0.0 <= self.lr <= 1.0:
            raise ConfigError(f"lr must be in [0, 1], got {self.lr}")
        if self.penalty_k < 0:
            raise ConfigError(f"penalty_k must be >= 0, got {self.penalty_k}")
        if self.instance_size < self.exemplar_size:
            raise ConfigError("instance_size must be at least exemplar_size")


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


class SiameseTracker(Tracker):
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

    # -- network plumbing -------------------------------------------------------------------------
    def _to_tensor(self, crops: list[np.ndarray]) -> torch.Tensor:
        batch = np.stack(crops).transpose(0, 3, 1, 2)  # N, 3, H, W (BGR, 0..255, as trained)
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
        s_z = round(context_size(self.size, cfg.context_amount))
        z = crop_square(image, self.center, s_z, cfg.exemplar_size, self.pad_value)
        self.template_feat = self.embed([z])
        self.state_machine.reset()

    def search_size(self, instance_size: int | None = None) -> tuple[float, float]:
        """(side of the search square in image px, crop px per image px) around the current target."""
        cfg = self.config
        s_z = context_size(self.size, cfg.context_amount)
        scale = cfg.exemplar_size / s_z
        return s_z * (instance_size or cfg.instance_size) / cfg.exemplar_size, scale

    @torch.inference_mode()
    def search(self, image: np.ndarray, centers: list[np.ndarray], instance_size: int | None = None
               ) -> list[SearchOutput]:
        """Score one search crop per centre (batched in one forward pass) at the current target scale."""
        cfg = self.config
        instance_size = instance_size or cfg.instance_size
        s_x, scale = self.search_size(instance_size)
        crops = [crop_square(image, c, round(s_x), instance_size, self.pad_value) for c in centers]
        features = self.network.embed(self._to_tensor(crops))
        cls, loc = self.network.head(self.template_feat, features)
        score = torch.softmax(cls.float(), dim=1)[:, 1].cpu().numpy()
        loc = loc.float().cpu().numpy()
        outputs = []
        for i, center in enumerate(centers):
            boxes, region = self._decode(loc[i], center, scale, instance_size)
            outputs.append(SearchOutput(score[i], boxes, features[i : i + 1], scale, region))
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
        region = np.array([center[0] + first, center[1] + first, size * stride / scale, size * stride / scale])
        return boxes, region

    def select(self, out: SearchOutput, score: np.ndarray | None = None) -> tuple[int, np.ndarray, float]:
        """Pick the best cell after scale/aspect penalty and cosine window; return (index, box, lr).

        `score` replaces `out.score` (e.g. a fused online + Siamese map of the same size).
        """
        cfg = self.config
        score = out.score if score is None else score
        boxes = out.boxes
        penalty = scale_aspect_penalty(boxes[2] * out.scale, boxes[3] * out.scale,
                                       self.size[0] * out.scale, self.size[1] * out.scale, cfg.penalty_k)
        pscore = penalty * score
        pscore = pscore * (1 - cfg.window_influence) + cosine_window(score.shape[0]) * cfg.window_influence
        best = int(np.argmax(pscore))
        r, c = divmod(best, score.shape[1])
        lr = float(penalty[r, c] * score[r, c] * cfg.lr)
        return best, boxes[:, r, c].copy(), lr

    def update_target(self, image: np.ndarray, box_cxcywh: np.ndarray, lr: float) -> None:
        size = smooth_size(self.size, box_cxcywh[2:], lr)
        self.center, self.size = clip_center_size(box_cxcywh[:2], size, image.shape, self.config.min_size)

    def _track(self, image: np.ndarray) -> TrackResult:
        out = self.search(image, [self.center])[0]
        best, box, lr = self.select(out)
        confidence = float(out.score.flat[best])
        self.update_target(image, box, lr)
        state = self.state_machine.update(confidence)
        return TrackResult(
            box=cxcywh_to_xywh(np.concatenate([self.center, self.size])),
            confidence=confidence,
            state=state,
            response=out.score.astype(np.float32),
            search_region=out.region,
        )
