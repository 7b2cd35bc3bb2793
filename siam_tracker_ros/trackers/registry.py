"""Build trackers by name from their YAML configs (one file per tracker in config/trackers/).

Each config names a builder `type`; builders are imported only when used, so asking for the OpenCV
reference tracker does not load torch networks and vice versa. Every call returns a new, independent
tracker: two trackers (even two of the same name) can run side by side in one process.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

from siam_tracker_ros.errors import ConfigError, UnknownTrackerError
from siam_tracker_ros.trackers.base import Tracker

DEFAULT_TRACKER = "drol_nano"

# how a torch network runs on the CPU (networks.inference.cpu_network); auto: onnxruntime, else TorchScript
CPU_BACKENDS = ("auto", "onnxruntime", "torchscript", "eager")

# config `type` -> "module:function" building a Tracker from (config, device, fp16, weights)
_BUILDERS = {
    "nanotrack": "siam_tracker_ros.trackers.nanotrack:build",
    "nanotrack_opencv": "siam_tracker_ros.trackers.nanotrack:build_opencv_replica",
    "drol": "siam_tracker_ros.trackers.drol:build",
    "opencv_nano": "siam_tracker_ros.trackers.opencv_nano:build",
}


def config_dir() -> Path:
    """Folder of the tracker YAML files: where pip and colcon install them (the package's
    `tracker_configs`), else the source tree's config/trackers."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "tracker_configs"
    return installed if installed.is_dir() else package.parent / "config" / "trackers"


def available_trackers() -> list[str]:
    return sorted(p.stem for p in config_dir().glob("*.yaml"))


def load_config(name: str) -> dict[str, Any]:
    path = config_dir() / f"{name}.yaml"
    if not path.is_file():
        raise UnknownTrackerError(
            f"unknown tracker {name!r}; available trackers: {', '.join(available_trackers())}"
        )
    with open(path) as fh:
        config = yaml.safe_load(fh)
    if not isinstance(config, dict) or config.get("type") not in _BUILDERS:
        raise ConfigError(f"{path}: 'type' must be one of {sorted(_BUILDERS)}")
    config.setdefault("name", name)
    return config


def merge_config(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` updated with `changes`; dictionaries are merged recursively, other values replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_device(device: str | None, fp16: bool = False) -> str:
    """'auto'/None -> cuda when available, else cpu; a cuda request without CUDA is an error."""
    import torch

    if device in (None, "", "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available here; use device 'cpu'")
    if not (device == "cpu" or device.startswith("cuda")):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    if fp16 and not device.startswith("cuda"):
        raise ConfigError("fp16 needs a CUDA device; drop fp16 or use device 'cuda'")
    return device


def build_tracker(name: str = DEFAULT_TRACKER, device: str | None = None, fp16: bool = False,
                  weights: str | None = None, overrides: dict[str, Any] | None = None,
                  cpu_backend: str | None = None) -> Tracker:
    """A new tracker `name` on `device` ('auto', 'cpu', 'cuda'); `weights` overrides the config's file.

    `overrides` are merged into the config's `tracking` section, nested sections key by key (for
    experiments and ROS parameters: {"state": {"lost_below": 0.3}} changes one threshold only).
    `cpu_backend` replaces the config's CPU runner of the network (auto, onnxruntime, torchscript, eager).
    """
    config = load_config(name)
    if cpu_backend:
        config["network"] = {**config.get("network", {}), "cpu_backend": cpu_backend}
    if overrides:
        config["tracking"] = merge_config(config.get("tracking", {}), overrides)
    module_name, func_name = _BUILDERS[config["type"]].split(":")
    builder = getattr(importlib.import_module(module_name), func_name)
    return builder(config, device=device, fp16=fp16, weights=weights)
