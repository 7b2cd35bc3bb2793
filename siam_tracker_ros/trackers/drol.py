"""DROL (Zhou et al., AAAI 2020): an online attention classifier and short-term template on a Siamese base.

`OnlineClassifier` knows only feature tensors and score maps: 1x1 compression -> channel + spatial
attention (parallel, additive, as the released code) -> 4x4 single-output filter, L2 against Gaussian
labels. Compression and attention are fitted on the first frame only (Gauss-Newton-CG over augmented
samples); afterwards only the filter is refitted by CG from a weighted sample memory. Any base whose
`search()` returns backbone features on its score-map grid can carry it: `DROLTracker` plugs it into
`SiameseTracker` through the `online_scores` / `confidence` / `accept_candidate` / `after_frame` hooks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from siam_tracker_ros.errors import ConfigError
from siam_tracker_ros.libs.augmentation import drol_augmentations
from siam_tracker_ros.libs.boxes import cxcywh_to_xywh, iou_xywh
from siam_tracker_ros.libs.cropping import crop_square
from siam_tracker_ros.libs.labels import gaussian_label, label_sigma
from siam_tracker_ros.libs.optimization import conjugate_gradient, conjugate_gradient_steps, gauss_newton_cg
from siam_tracker_ros.trackers.base import TrackState
from siam_tracker_ros.trackers.siamese import SearchOutput, SiameseConfig, SiameseTracker

NOT_FOUND, UNCERTAIN, HARD_NEGATIVE, NORMAL = "not_found", "uncertain", "hard_negative", "normal"
_RIVALS = 8  # strongest other peaks a first-frame-look rescue is compared with (one batch of crops)


@dataclass
class OnlineConfig:
    """Classifier hyper-parameters; config/trackers/drol_nano.yaml gives the source of each."""

    compressed_dim: int = 64
    projection_relu: bool = False
    attention: bool = True
    attention_reduction: int = 2
    filter_size: int = 4
    projection_reg: float = 1e-4
    filter_reg: float = 1e-1
    sigma_factor: float = 0.25
    augment_shift: float = 0.6
    dropout_samples: int = 7
    dropout_p: float = 0.2
    init_gn_iter: int = 6
    init_cg_iter: int = 10
    cg_iter: int = 5
    hard_negative_cg_iter: int = 5
    cg_per_frame: int = 1  # CG iterations per frame while a solve runs (0: whole solve at once)
    update_every: int = 10
    memory_size: int = 250
    learning_rate: float = 0.01
    hard_negative_learning_rate: float = 0.02
    init_min_weight: float = 0.25
    not_found_threshold: float = 0.25
    distractor_threshold: float = 0.8
    hard_negative_threshold: float = 0.5
    neighborhood_scale: float = 2.2
    displacement_scale: float = 0.8
    seed: int = 12345

    def __post_init__(self) -> None:
        if self.memory_size < 1 or self.update_every < 1 or self.filter_size < 1:
            raise ConfigError("memory_size, update_every and filter_size must be >= 1")
        if not 0.0 < self.learning_rate < 1.0 or not 0.0 < self.hard_negative_learning_rate < 1.0:
            raise ConfigError("online learning rates must lie in (0, 1)")


def _normalize(features: Tensor) -> Tensor:
    """Unit RMS per sample, so the regularisers mean the same whatever the backbone's feature scale."""
    rms = features.pow(2).mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12).sqrt()
    return features / rms


class OnlineClassifier:
    """Compression + attention + filter, with DROL's sample memory, updates and localisation flags."""

    def __init__(self, in_channels: int, config: OnlineConfig) -> None:
        self.config = config
        self.in_channels = in_channels
        gen = torch.Generator().manual_seed(config.seed)
        c, d, k = in_channels, config.compressed_dim, config.filter_size
        hidden = max(1, d // config.attention_reduction)
        self.projection = torch.randn(d, c, 1, 1, generator=gen) / math.sqrt(c)
        self.fc1 = torch.randn(hidden, d, 1, 1, generator=gen) / math.sqrt(d)
        self.fc2 = torch.randn(d, hidden, 1, 1, generator=gen) / math.sqrt(hidden)
        self.filter = torch.randn(1, d, k, k, generator=gen) / (d * k * k)
        self._gen = gen
        # memory of extracted (compressed + attended) features, kept padded for the filter and pixel-major
        # (N, H+pad, W+pad, C): a solve's GEMMs read it as it is, without copying the memory each time
        self._memory: Tensor | None = None
        self.labels: Tensor | None = None
        self.weights: Tensor | None = None
        self.num_init = 0
        self.num_stored = 0
        self.frames_since_update = 0
        self.init_losses: list[float] = []
        self._solver = None
        self._pending: list = []

    # -- model ---------------------------------------------------------------------------------------
    def _pad(self, x: Tensor) -> Tensor:
        k = self.config.filter_size
        return F.pad(x, (k // 2, (k - 1) // 2, k // 2, (k - 1) // 2))  # 'same' output, even kernels too

    @property
    def samples(self) -> Tensor | None:
        """The stored features (N, C, H, W): a writable view of the padded pixel-major memory."""
        if self._memory is None:
            return None
        top = self.config.filter_size // 2
        h, w = self.labels.shape[1:]
        return self._memory[:, top : top + h, top : top + w].permute(0, 3, 1, 2)

    def _extract(self, features: Tensor, projection: Tensor, fc1: Tensor, fc2: Tensor) -> Tensor:
        x = F.conv2d(_normalize(features), projection)
        if self.config.projection_relu:
            x = F.relu(x)
        if self.config.attention:
            channel = torch.sigmoid(F.conv2d(F.relu(F.conv2d(x.mean(dim=(2, 3), keepdim=True), fc1)), fc2))
            spatial = torch.sigmoid(x.mean(dim=1, keepdim=True))
            x = x * spatial + x * channel
        return x

    def extract(self, features: Tensor) -> Tensor:
        """Target-specific features (fixed after the first frame)."""
        with torch.no_grad():
            return self._extract(features.float(), self.projection, self.fc1, self.fc2)

    def apply_filter(self, x: Tensor, filt: Tensor | None = None) -> Tensor:
        return F.conv2d(self._pad(x), self.filter if filt is None else filt)[:, 0]

    def score(self, features: Tensor) -> tuple[np.ndarray, Tensor]:
        """(score map H x W of the first sample, its extracted features) for backbone `features`."""
        x = self.extract(features)
        with torch.no_grad():
            s = self.apply_filter(x)
        return s[0].numpy(), x

    # -- first frame -----------------------------------------------------------------------------------
    def initialize(self, features: Tensor, labels: Tensor) -> None:
        """Fit projection, attention and filter jointly on the augmented first-frame samples (GN-CG)."""
        cfg = self.config
        features = features.float().detach()
        labels = labels.float()
        n = features.shape[0]
        weights = torch.full((n,), 1.0 / n)
        sqrt_w = weights.sqrt().view(-1, 1, 1)
        reg_p, reg_f = math.sqrt(cfg.projection_reg), math.sqrt(cfg.filter_reg)

        def residuals(params):
            proj, fc1, fc2, filt = params
            x = self._extract(features, proj, fc1, fc2)
            r = sqrt_w * (F.conv2d(self._pad(x), filt)[:, 0] - labels)
            return [r, reg_p * proj, reg_p * fc1, reg_p * fc2, reg_f * filt]

        params = [self.projection, self.fc1, self.fc2, self.filter]
        params, self.init_losses = gauss_newton_cg(residuals, params, cfg.init_gn_iter, cfg.init_cg_iter)
        self.projection, self.fc1, self.fc2, self.filter = params
        x = self.extract(features)
        size = cfg.memory_size + n
        self.labels = labels.new_zeros((size,) + tuple(labels.shape[1:]))
        self._memory = self._pad(x.new_zeros((size,) + tuple(x.shape[1:]))).permute(0, 2, 3, 1).contiguous()
        self.weights = torch.zeros(size)
        self.samples[:n], self.labels[:n], self.weights[:n] = x, labels, weights
        self.num_init = self.num_stored = n
        self.frames_since_update = 0
        self._solver = None
        self._pending = []

    # -- localisation flags (ATOM's localize_advanced) -------------------------------------------------
    def flag(self, score: np.ndarray, target_cells) -> str:
        """not_found / uncertain / hard_negative / normal from the map's two best separated peaks."""
        cfg = self.config
        h, w = score.shape
        idx = int(np.argmax(score))
        max1 = float(score.flat[idx])
        if max1 < cfg.not_found_threshold:
            return NOT_FOUND
        r1, c1 = divmod(idx, w)
        half = np.maximum(np.asarray(target_cells, dtype=np.float64) * cfg.neighborhood_scale / 2.0, 0.5)
        masked = score.copy()
        masked[max(0, int(round(r1 - half[1]))) : int(round(r1 + half[1])) + 1,
               max(0, int(round(c1 - half[0]))) : int(round(c1 + half[0])) + 1] = -np.inf
        idx2 = int(np.argmax(masked))
        max2 = float(masked.flat[idx2])
        if not np.isfinite(max2):
            return NORMAL
        r2, c2 = divmod(idx2, w)
        centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
        thr = cfg.displacement_scale * math.sqrt(h * w) / 2.0
        d1 = np.hypot(r1 - centre[0], c1 - centre[1])
        d2 = np.hypot(r2 - centre[0], c2 - centre[1])
        if max2 > cfg.distractor_threshold * max1:
            return HARD_NEGATIVE if (d1 > thr) != (d2 > thr) else UNCERTAIN
        if max2 > cfg.hard_negative_threshold * max1 and max2 > cfg.not_found_threshold:
            return HARD_NEGATIVE
        return NORMAL

    # -- memory and filter updates ------------------------------------------------------------------
    def add_sample(self, x: Tensor, label: Tensor, learning_rate: float) -> None:
        """Insert one sample; the first-frame samples are never replaced and keep >= init_min_weight."""
        cfg = self.config
        w = self.weights
        if self.num_stored < w.shape[0]:
            slot = self.num_stored
            self.num_stored += 1
        else:
            slot = self.num_init + int(torch.argmin(w[self.num_init :]))
        w.mul_(1.0 - learning_rate)
        w[slot] = learning_rate
        w.div_(w.sum())
        init_sum = float(w[: self.num_init].sum())
        if init_sum < cfg.init_min_weight:
            w[self.num_init :] *= (1.0 - cfg.init_min_weight) / max(1.0 - init_sum, 1e-12)
            w[: self.num_init] *= cfg.init_min_weight / max(init_sum, 1e-12)
        self.samples[slot] = x[0]
        self.labels[slot] = label

    def _filter_operator(self):
        """(A, b) of the filter's normal equations over the memory, as GEMMs: a conv with one output
        channel is slow on CPU, so the 4x4 taps are a (C, 16) matrix applied to pixel-major features and
        the 16 shifted maps are summed."""
        n, k = self.num_stored, self.config.filter_size
        _, hp, wp, c = self._memory.shape
        h, w = hp - k + 1, wp - k + 1
        xm = self._memory[:n].view(-1, c)
        shifts = [(dy, dx) for dy in range(k) for dx in range(k)]
        wts = self.weights[:n].view(-1, 1, 1)
        reg = self.config.filter_reg

        def forward(f: Tensor) -> Tensor:
            z = (xm @ f[0].reshape(c, k * k)).view(n, hp, wp, k * k)
            return sum(z[:, dy : dy + h, dx : dx + w, i] for i, (dy, dx) in enumerate(shifts))

        def adjoint(v: Tensor) -> Tensor:
            s = v.new_zeros(n, hp, wp, k * k)
            for i, (dy, dx) in enumerate(shifts):
                s[:, dy : dy + h, dx : dx + w, i] = v
            return (xm.T @ s.view(-1, k * k)).view(1, c, k, k)

        def apply_a(p):
            return [adjoint(wts * forward(p[0])) + reg * p[0]]

        return apply_a, [adjoint(wts * self.labels[:n])]

    def optimize_filter(self, num_iter: int) -> None:
        """CG on the filter only (linear least squares over the weighted memory), all at once."""
        apply_a, b = self._filter_operator()
        with torch.no_grad():
            self.filter = conjugate_gradient(apply_a, b, [self.filter], num_iter=num_iter)[0]

    def start_solve(self, num_iter: int) -> None:
        """Begin a CG solve that `step_solve` advances; samples arriving meanwhile wait in a queue."""
        apply_a, b = self._filter_operator()
        self._solver = conjugate_gradient_steps(apply_a, b, [self.filter], num_iter=num_iter)

    def step_solve(self, iterations: int) -> None:
        for _ in range(iterations):
            try:
                self.filter = next(self._solver)[0]
            except StopIteration:
                self._solver = None
                for x, label, lr in self._pending:
                    self.add_sample(x, label, lr)
                self._pending = []
                return

    def update(self, x: Tensor | None, label: Tensor | None, flag: str) -> bool:
        """Per tracked frame: store the sample unless flagged absent/ambiguous, refit when due.

        With `cg_per_frame` > 0 a solve is spread over frames (that many CG iterations per frame);
        0 runs it at once as the released code. Returns whether a solve was started.
        """
        cfg = self.config
        self.frames_since_update += 1
        keep = x is not None and flag not in (NOT_FOUND, UNCERTAIN)
        lr = cfg.hard_negative_learning_rate if flag == HARD_NEGATIVE else cfg.learning_rate
        if self._solver is not None:
            if keep:
                self._pending.append((x, label, lr))
            self.step_solve(cfg.cg_per_frame)
            return False
        if keep:
            self.add_sample(x, label, lr)
        if flag == HARD_NEGATIVE and cfg.hard_negative_cg_iter > 0:
            iters = cfg.hard_negative_cg_iter
        elif self.frames_since_update >= cfg.update_every and cfg.cg_iter > 0:
            iters = cfg.cg_iter
        else:
            return False
        self.frames_since_update = 0
        if cfg.cg_per_frame > 0:
            self.start_solve(iters)
            self.step_solve(cfg.cg_per_frame)
        else:
            self.optimize_filter(iters)
        return True


@dataclass
class DROLConfig:
    """Fusion, template update and confidence calibration."""

    fusion_weight: float = 0.8  # lambda: 0.8 for RPN-style bases, 0.6 for SiamFC-style
    template_update: bool = True
    template_interval: int = 5       # T
    template_threshold: float = 0.75  # tau_c on the classifier peak
    template_iou: float = 0.6        # upsilon_r
    template_margin: float = 0.5     # upsilon_c
    # confidence = sigmoid(bias + w_siamese * siamese + w_online * clip(online, 0, 1.5))
    conf_siamese_input: str = "probability"  # or "logit" (logit / 10, clipped)
    conf_bias: float = -6.0
    conf_siamese: float = 6.0
    conf_online: float = 6.0
    redetect_min_online: float = 0.5
    redetect_min_evidence: float = 0.0  # online + Siamese logit / 10 a re-detection needs
    probation_min_online: float = 0.0  # classifier score every probation frame needs
    confirm_min_online: float = 0.0  # ...and the frames before it is reported (confirm_frames), on the
                                     # normal search crop
    # a candidate the classifier doubts (below the two above) still passes if it looks like the first
    # frame's target this much (cosine of target descriptors; 0 = off) and scores >= rescue_min_online
    rescue_min_similarity: float = 0.0
    rescue_min_online: float = 0.0
    rescue_margin: float = 0.0  # ...and looks more like it than any other peak of its crop, by this much
    rescue_min_extent: float = 0.0  # px (sqrt(w*h)) the first frame's target needs for its look to count
    online: OnlineConfig = field(default_factory=OnlineConfig)

    def __post_init__(self) -> None:
        if isinstance(self.online, dict):
            self.online = OnlineConfig(**self.online)
        if not 0.0 <= self.fusion_weight <= 1.0:
            raise ConfigError(f"fusion_weight must be in [0, 1], got {self.fusion_weight}")
        if self.conf_siamese_input not in ("probability", "logit"):
            raise ConfigError("conf_siamese_input must be 'probability' or 'logit', "
                              f"got {self.conf_siamese_input!r}")


class DROLTracker(SiameseTracker):
    """A Siamese base with DROL's online classifier (fusion, flags, sample memory) and z_s template."""

    def __init__(self, name: str, network: torch.nn.Module, config: SiameseConfig, drol: DROLConfig,
                 device: str = "cpu", fp16: bool = False) -> None:
        super().__init__(name, network, config, device=device, fp16=fp16)
        self.drol = drol
        self.classifier: OnlineClassifier | None = None
        self.short_template: Tensor | None = None
        self._template_candidate: tuple[float, np.ndarray] | None = None
        self._last_extracted: Tensor | None = None
        self._last_online: np.ndarray | None = None
        self.first_extent = 0.0  # the drawn target's size, px (sqrt(w*h))

    @property
    def online_weight(self) -> float:
        return self.drol.fusion_weight

    # -- first frame ---------------------------------------------------------------------------------
    def _init(self, image: np.ndarray, box: np.ndarray) -> None:
        super()._init(image, box)
        self.first_extent = self.target_extent()
        cfg, ocfg = self.config, self.drol.online
        s_x, scale = self.search_size()
        big = crop_square(image, self.center, 2 * round(s_x), 2 * cfg.instance_size, self.pad_value)
        crops, offsets = [], []
        for aug in drol_augmentations(cfg.instance_size, ocfg.augment_shift):
            crop, offset = aug.apply(big, cfg.instance_size)
            crops.append(crop)
            offsets.append(offset)
        features = self.embed(crops).float()
        gen = torch.Generator().manual_seed(ocfg.seed)
        drops = [_dropout(features[:1], ocfg.dropout_p, gen) for _ in range(ocfg.dropout_samples)]
        features = torch.cat([features] + drops)
        offsets += [np.zeros(2)] * ocfg.dropout_samples
        size = features.shape[-1]
        sigma = label_sigma(self.size * scale, cfg.stride, ocfg.sigma_factor)
        labels = torch.from_numpy(np.stack([gaussian_label(size, o / cfg.stride, sigma) for o in offsets]))
        self.classifier = OnlineClassifier(features.shape[1], ocfg)
        self.classifier.initialize(features, labels)
        self.short_template = None
        self._template_candidate = None

    # -- hooks -----------------------------------------------------------------------------------------
    def online_scores(self, out: SearchOutput) -> np.ndarray:
        score, x = self.classifier.score(out.features)
        self._last_extracted, self._last_online = x, score
        s = out.score.shape[0]
        if score.shape[0] != s:  # a base whose score grid differs from its feature grid: cubic resize
            score = cv2.resize(score, (s, s), interpolation=cv2.INTER_CUBIC)
        return score

    def confidence(self, siamese: float, online: float | None, logit: float | None = None) -> float:
        """P(on target) = sigmoid(bias + a * x + b * clip(online, 0, 1.5)).

        x is the Siamese probability (`conf_siamese_input: probability`) or its logit / 10, clipped to
        [-0.5, 1.5] (`logit`; the probability saturates near 1 on background too). The online score is
        the classifier's raw output (label peak 1). See drol_nano.yaml for how the weights were chosen.
        """
        d = self.drol
        if d.conf_siamese_input == "logit":
            if logit is None:
                p = float(np.clip(siamese, 1e-6, 1 - 1e-6))
                logit = math.log(p / (1 - p))
            x = _scaled_logit(logit)
        else:
            x = float(siamese)
        onl = 0.0 if online is None else float(np.clip(online, 0.0, 1.5))
        z = d.conf_bias + d.conf_siamese * x + d.conf_online * onl
        return float(1.0 / (1.0 + math.exp(-z)))

    def accept_candidate(self, pick, image: np.ndarray | None = None) -> bool:
        """Besides the base's Siamese check: the classifier's score, and the evidence of both
        (online + Siamese logit / 10), where the Siamese probability has saturated near 1. Where the
        classifier's score falls short, the look of the target the user drew may stand in for it. A
        candidate in place (where the target was lost in view) needs only the probation's score: the
        classifier lags a target whose look changed, and a look-alike seldom stands just there."""
        if not super().accept_candidate(pick, image):
            return False
        if pick.online is None:
            return True
        if pick.online + _scaled_logit(pick.logit) < self.drol.redetect_min_evidence:
            return False
        gate = self.drol.probation_min_online if pick.in_place else self.drol.redetect_min_online
        return pick.online >= gate or self._looks_like_first_frame(pick, image)

    def holds_after_redetection(self, pick, image: np.ndarray, confirming: bool = False) -> bool:
        """The classifier must keep scoring a re-detection on the normal search crop: `confirm_min_online`
        before it is reported (`probation_min_online` for one found in place), `probation_min_online`
        after; the first frame's look may stand in."""
        if not super().holds_after_redetection(pick, image, confirming):
            return False
        confirm = confirming and not self.redetected_in_place
        gate = self.drol.confirm_min_online if confirm else self.drol.probation_min_online
        if pick.online is None or pick.online >= gate:
            return True
        return self._looks_like_first_frame(pick, image)

    def _looks_like_first_frame(self, pick, image: np.ndarray | None) -> bool:
        """The classifier keeps learning the target's recent looks (and, after a drift, the wrong
        object's), so a target back with a changed look can score low on it. The first frame's look
        does not drift: a candidate that matches it closely passes, unless the classifier flatly
        rejects it (below `rescue_min_online`), or another of the strongest peaks of its crop matches
        about as well (`rescue_margin`: a look-alike, the case the classifier is there for)."""
        d = self.drol
        if image is None or d.rescue_min_similarity <= 0 or pick.online < d.rescue_min_online:
            return False
        if self.first_extent < d.rescue_min_extent:  # a few pixels blown up: matches any patch of road
            return False
        cells, boxes = self.peaks(pick.out)
        boxes = boxes[np.argsort(pick.out.score.flat[cells])[::-1]]  # strongest first
        extent = self.target_extent()
        rivals = [b for b in boxes if np.hypot(*(b[:2] - pick.box[:2])) > extent][:_RIVALS]
        sims = self.first_frame_similarity(image, np.array([pick.box] + rivals))
        return sims[0] >= d.rescue_min_similarity and sims[0] >= sims[1:].max(initial=-1.0) + d.rescue_margin

    def select(self, out, score=None, online=None, online_weight=0.0, window_influence=None):
        """Base selection, then DROL's Eq. (7): the z_s box wins when it agrees and scores higher."""
        best, box, lr = super().select(out, score, online, online_weight, window_influence)
        if (self.short_template is None or score is not None or window_influence is not None
                or not self.drol.template_update):
            return best, box, lr
        st = self.score_features(out.features, self.short_template, [self.center], out.scale,
                                 self.config.instance_size)[0]
        best_st, box_st, lr_st = super().select(st, None, online, online_weight, None)
        iou = float(iou_xywh(cxcywh_to_xywh(box_st)[None], cxcywh_to_xywh(box)[None])[0])
        margin = st.score.flat[best_st] - out.score.flat[best]
        if iou >= self.drol.template_iou and margin >= self.drol.template_margin:
            return best_st, box_st, lr_st
        return best, box, lr

    def after_frame(self, image: np.ndarray, out: SearchOutput, best: int, state: TrackState) -> None:
        """Classifier update (no samples while lost) and short-term template collection."""
        cfg, clf = self.config, self.classifier
        score = self._last_online
        target_cells = self.size * out.scale / cfg.stride
        flag = clf.flag(score, target_cells)
        if state is TrackState.LOST or self.probation > 0:  # no samples of an unconfirmed re-detection
            flag = NOT_FOUND
        size = score.shape[0]
        crop_center = out.region[:2] + (size // 2 * cfg.stride + cfg.stride / 2.0) / out.scale
        offset = (self.center - crop_center) * out.scale / cfg.stride
        label = torch.from_numpy(gaussian_label(size, offset, label_sigma(self.size * out.scale, cfg.stride,
                                                                           clf.config.sigma_factor)))
        clf.update(self._last_extracted, label, flag)
        if not self.drol.template_update or state is TrackState.LOST:
            return
        peak = float(score.max())
        if (peak >= self.drol.template_threshold and flag != HARD_NEGATIVE
                and (self._template_candidate is None or peak > self._template_candidate[0])):
            crop = self.crop(image, self.center, self.context_side(), cfg.exemplar_size)
            self._template_candidate = (peak, crop)
        if self.frame_index % self.drol.template_interval == 0 and self._template_candidate is not None:
            self.short_template = self.embed([self._template_candidate[1]])
            self._template_candidate = None


def _scaled_logit(logit: float) -> float:
    """The Siamese target-minus-background logit / 10, clipped to [-0.5, 1.5]: a Siamese score on the
    online classifier's scale that, unlike the probability, does not saturate on strong background."""
    return float(np.clip(logit, -5.0, 15.0)) / 10.0


def _dropout(x: Tensor, p: float, gen: torch.Generator) -> Tensor:
    """Channel dropout with a seeded generator (reproducible first-frame samples)."""
    keep = (torch.rand(x.shape[0], x.shape[1], 1, 1, generator=gen) >= p).to(x.dtype)
    return x * keep / (1.0 - p)


def build(config: dict[str, Any], device: str | None = None, fp16: bool = False,
          weights: str | None = None) -> DROLTracker:
    """DROL on the base named by `config['base']['type']` (NanoTrack for now)."""
    from siam_tracker_ros.trackers.nanotrack import load_network
    from siam_tracker_ros.trackers.registry import resolve_device

    base = config.get("base", {}).get("type", "nanotrack")
    if base != "nanotrack":
        raise ConfigError(f"drol: base type {base!r} is not supported yet (supported: nanotrack)")
    device = resolve_device(device, fp16)
    tracking = dict(config.get("tracking", {}))
    names = {f.name for f in fields(SiameseConfig)}
    siamese = SiameseConfig(**{k: v for k, v in tracking.items() if k in names})
    drol = DROLConfig(**{k: v for k, v in tracking.items() if k not in names})
    network = load_network(config, device, fp16, weights, siamese.exemplar_size, siamese.instance_size)
    return DROLTracker(config["name"], network, siamese, drol, device=device, fp16=fp16)
