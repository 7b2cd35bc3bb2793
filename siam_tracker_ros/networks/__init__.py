"""Native PyTorch tracking networks that load the upstream training checkpoints."""

from siam_tracker_ros.networks.nanotrack import NanoTrackCheckpointError, NanoTrackNet, load_nanotrack

__all__ = ["NanoTrackCheckpointError", "NanoTrackNet", "load_nanotrack"]
