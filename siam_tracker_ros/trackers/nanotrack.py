"""NanoTrack (v1, v2, v3): MobileNetV3 backbone, depth-wise correlation, anchor-free head, stride 16."""

from __future__ import annotations

from typing import Any

from torch import nn

from siam_tracker_ros import weights as weights_lib
from siam_tracker_ros.errors import ConfigError, WeightsError
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
    """Our NanoTrack with the three choices OpenCV's `cv2.TrackerNano` makes differently from the
    NanoTrack release (modules/video/src/tracking/tracker_nano.cpp): RGB crops into the BGR-trained
    network (`swapRB = true`), its own window/penalty/lr constants (in nano_opencv.yaml), and the scale
    change measured against `sizeCal(targetPos)`, the target's image position instead of its size.
    It exists to show that our core reproduces the reference when given the same choices; `nano` keeps
    the release's."""

    def scale_reference(self, out) -> tuple[float, float]:
        return float(self.center[0]), float(self.center[1])


def build_opencv_replica(config: dict[str, Any], device: str | None = None, fp16: bool = False,
                         weights: str | None = None) -> SiameseTracker:
    return _build(OpenCVReplicaTracker, config, device, fp16, weights)
