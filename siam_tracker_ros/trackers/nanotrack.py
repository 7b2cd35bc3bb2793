"""NanoTrack (v1, v2, v3): MobileNetV3 backbone, depth-wise correlation, anchor-free head, stride 16."""

from __future__ import annotations

from typing import Any

from siam_tracker_ros import weights as weights_lib
from siam_tracker_ros.errors import WeightsError
from siam_tracker_ros.trackers.registry import resolve_device
from siam_tracker_ros.trackers.siamese import SiameseConfig, SiameseTracker


def build(config: dict[str, Any], device: str | None = None, fp16: bool = False,
          weights: str | None = None) -> SiameseTracker:
    from siam_tracker_ros.networks.inference import TracedNetwork
    from siam_tracker_ros.networks.nanotrack import load_nanotrack

    device = resolve_device(device, fp16)
    version = config["network"]["version"]
    path = weights_lib.check_file(weights) if weights else weights_lib.resolve(config["weights"])
    try:
        network = load_nanotrack(version, path, device=device)
    except ValueError as exc:
        raise WeightsError(str(exc)) from exc
    if fp16:
        network = network.half()
    tracking = SiameseConfig(**config.get("tracking", {}))
    if device == "cpu":
        network = TracedNetwork(network)
        network.warm_up(tracking.exemplar_size, tracking.instance_size)
    return SiameseTracker(config["name"], network, tracking, device=device, fp16=fp16)
