"""Half precision and CUDA give the CPU float32 results, on real frames with an out-of-view event.

fp16 is offered on CUDA only (`resolve_device` refuses it on the CPU, where half is slow), and these machines
have no GPU. The CPU runs half-precision tensors too, so the first test lifts that guard and runs the same
half-precision network and DROL tracker there: a float32 tensor meeting a half one anywhere in tracking,
re-detection or the classifier's refit fails it on every machine. The CUDA test runs the public path where
a GPU is present and is skipped elsewhere.
"""

import numpy as np
import pytest
import torch

from siam_tracker_ros.evaluation.out_of_view import out_of_view_metrics
from siam_tracker_ros.evaluation.runner import run_tracker
from siam_tracker_ros.libs.boxes import iou_xywh
from siam_tracker_ros.trackers import nanotrack, registry
from siam_tracker_ros.trackers.registry import build_tracker


@pytest.fixture(scope="module")
def reference(weights, oov):
    """drol_nano in float32 on the CPU (eager torch, the network the other runs are compared with)."""
    return _run(build_tracker("drol_nano", device="cpu", cpu_backend="eager"), oov)


def _run(tracker, oov):
    result = run_tracker(tracker, [oov.frames[k] for k in range(len(oov))], oov.groundtruth[0])
    return result.boxes_array(), np.array(result.states), result


def _assert_matches(reference, run, oov):
    boxes, states, result = run
    ref_boxes, ref_states, _ = reference
    assert (states == ref_states).mean() >= 0.95
    assert np.median(iou_xywh(boxes, ref_boxes)) >= 0.9
    metrics = out_of_view_metrics(boxes, result.states, oov)
    assert metrics["reacquisition_rate"] == 1.0 and metrics["lost_when_absent"] >= 0.8


def test_half_precision_on_the_cpu_matches_float32(weights, oov, reference, monkeypatch):
    def allow_half_on_cpu(device, fp16=False):
        assert device == "cpu"
        return "cpu"

    for module in (registry, nanotrack):  # drol.build imports it from the registry when called
        monkeypatch.setattr(module, "resolve_device", allow_half_on_cpu)
    tracker = build_tracker("drol_nano", device="cpu", fp16=True)
    assert next(tracker.network.parameters()).dtype == torch.float16
    _assert_matches(reference, _run(tracker, oov), oov)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("fp16", [False, True])
def test_cuda_matches_the_cpu(weights, oov, reference, fp16):
    tracker = build_tracker("drol_nano", device="cuda", fp16=fp16)
    assert next(tracker.network.parameters()).is_cuda
    _assert_matches(reference, _run(tracker, oov), oov)
