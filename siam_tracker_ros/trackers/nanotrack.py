"""NanoTrack (v1, v2, v3): MobileNetV3 backbone, depth-wise correlation, anchor-free head, stride 16."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import cv2
import numpy as np
from torch import nn

from siam_tracker_ros import weights as weights_lib
from siam_tracker_ros.errors import ConfigError, WeightsError
from siam_tracker_ros.libs.cropping import crop_square
from siam_tracker_ros.trackers.base import TrackResult
from siam_tracker_ros.trackers.registry import resolve_device
from siam_tracker_ros.trackers.siamese import SiameseConfig, SiameseTracker


def load_network(config: dict[str, Any], device: str, fp16: bool, weights: str | None,
                 template_size: int, search_size: int) -> nn.Module:
    """The NanoTrack network a tracker config names, on `device`; on the CPU the fast runner
    (`network: cpu_backend` in the config, default auto = onnxruntime, else TorchScript) prepared for
    `template_size` / `search_size` crops. Shared by every NanoTrack-based tracker."""
    from siam_tracker_ros.networks.inference import cpu_network
    from siam_tracker_ros.networks.nanotrack import load_nanotrack

    path = weights_lib.check_file(weights) if weights else weights_lib.resolve(config["weights"])
    try:
        network = load_nanotrack(config["network"]["version"], path, device=device)
    except ValueError as exc:
        raise WeightsError(str(exc)) from exc
    if fp16:
        return network.half()
    if device == "cpu":
        backend = config.get("network", {}).get("cpu_backend", "auto")
        try:
            network = cpu_network(network, template_size, search_size, backend)
        except ValueError as exc:
            raise ConfigError(f"{config['name']}: {exc}") from exc
    return network


def _build(cls: type[SiameseTracker], config: dict[str, Any], device: str | None, fp16: bool,
           weights: str | None) -> SiameseTracker:
    device = resolve_device(device, fp16)
    tracking = SiameseConfig(**config.get("tracking", {}))
    network = load_network(config, device, fp16, weights, tracking.exemplar_size, tracking.instance_size)
    return cls(config["name"], network, tracking, device=device, fp16=fp16)


def build(config: dict[str, Any], device: str | None = None, fp16: bool = False,
          weights: str | None = None) -> SiameseTracker:
    return _build(SiameseTracker, config, device, fp16, weights)


class OpenCVReplicaTracker(SiameseTracker):
    """NanoTrack doing exactly what OpenCV's `cv2.TrackerNano` does (modules/video/src/tracking/
    tracker_nano.cpp), so that our network on the same weights gives OpenCV's boxes frame for frame
    (the `nano` tracker). OpenCV's choices that differ from the NanoTrack release: RGB crops into the
    BGR-trained network (`swapRB = true`), its own window/penalty/lr constants and the square root of
    the Hann window (all in nano.yaml), and, here, its integer arithmetic: the box taken and reported as
    an integer Rect (truncated), the context from `(int)(w + h)`, crops of `int(side)` px at
    `int(centre) - (side + 1) / 2` padded with the current frame's mean, a search region
    `instanceSize / exemplarSize` = 2 (integer division) times the context (the long-term mode's
    enlarged search, which OpenCV does not have, keeps the exact ratio), and the scale change
    measured against `sizeCal(targetPos)`, the target's image position instead of its size."""

    def _init(self, image: np.ndarray, box: np.ndarray) -> None:
        super()._init(image, np.round(box))

    def crop(self, image: np.ndarray, center: np.ndarray, side: float, out_size: int) -> np.ndarray:
        mean = np.array(cv2.mean(image)[:3])  # of every frame, as OpenCV; ~10x faster than numpy's
        return crop_square(image, center, int(side), out_size, mean, corner="truncate")

    def context_side(self) -> float:
        w, h = (float(v) for v in self.size)
        pad = self.config.context_amount * int(w + h)
        return math.sqrt((w + pad) * (h + pad))

    def search_size(self, instance_size: int | None = None) -> tuple[float, float]:
        cfg = self.config
        side, scale = super().search_size(instance_size)
        if instance_size in (None, cfg.instance_size):  # OpenCV's own search; the enlarged one is exact
            side = self.context_side() * (cfg.instance_size // cfg.exemplar_size)
        return side, scale

    def scale_reference(self, out) -> tuple[float, float]:
        return float(self.center[0]), float(self.center[1])

    def _result(self, confidence: float, state, response: np.ndarray, region) -> TrackResult:
        result = super()._result(confidence, state, response, region)
        (cx, cy), (w, h) = self.center, self.size
        box = np.array([int(cx - w / 2), int(cy - h / 2), int(w), int(h)], dtype=np.float64)
        return dataclasses.replace(result, box=box)


def build_opencv_replica(config: dict[str, Any], device: str | None = None, fp16: bool = False,
                         weights: str | None = None) -> SiameseTracker:
    return _build(OpenCVReplicaTracker, config, device, fp16, weights)
