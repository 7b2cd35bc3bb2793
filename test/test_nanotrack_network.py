"""The torch NanoTrack port against the reference ONNX graphs shipped next to the checkpoints.

Tolerance: |torch - onnx| <= 1e-4 * max(1, |onnx|) elementwise, i.e. 1e-4 absolute for values up to 1 and
1e-4 relative above. A float64 run of the torch module shows the same differences, so what remains is the
ONNX runtime's own float32 rounding, which grows with magnitude (features reach ~30, `loc` is exp() in
pixels and can reach hundreds); any layout error (activation, padding, crop, branch wiring) is far larger.
"""

import os
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from siam_tracker_ros.errors import ConfigError
from siam_tracker_ros.networks.inference import OnnxRuntimeNetwork, TracedNetwork, cpu_network
from siam_tracker_ros.networks.nanotrack import NanoTrackNet, load_nanotrack
from siam_tracker_ros.trackers.registry import build_tracker

TOL = 1e-4
ONNX_FILES = {
    "v1": ("nanotrack_backbone_sim.onnx", "nanotrack_head_sim.onnx"),
    "v2": ("nanotrack_backbone_sim.onnx", "nanotrack_head_sim.onnx"),
    "v3": ("nanotrack_backbone.onnx", "nanotrack_head.onnx"),
}
FRAME = "data/sequences/vot_bag/img/000001.jpg"


def _require(path: Path) -> Path:
    if not path.exists():
        reason = f"{path} not found in the shared folder"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _session(path: Path, free_spatial: bool = False) -> ort.InferenceSession:
    """ONNX session; `free_spatial` relaxes the declared 255x255 input so the 127 template can run, as
    OpenCV's TrackerNano does with the same graph (the graph itself has no size-dependent constants)."""
    model = onnx.load(str(path))
    if free_spatial:
        for value in (*model.graph.input, *model.graph.output):
            for i, dim in enumerate(value.type.tensor_type.shape.dim[2:]):
                dim.dim_param = f"spatial{i}"
        del model.graph.value_info[:]
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _assert_matches(ref: np.ndarray, got: torch.Tensor, what: str) -> None:
    got = got.detach().numpy()
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != reference {ref.shape}"
    diff = np.abs(got - ref)
    scaled = (diff / np.maximum(1.0, np.abs(ref))).max()
    assert scaled < TOL, f"{what}: max abs diff {diff.max():.3g}, max scaled diff {scaled:.3g}"


@pytest.fixture(scope="module", params=sorted(ONNX_FILES))
def reference(request, shared_dir):
    """(version, torch net, ONNX backbone session, ONNX head session) for each version."""
    version = request.param
    folder = shared_dir / "weights" / "nanotrack" / version
    backbone, head = (_require(folder / name) for name in ONNX_FILES[version])
    net = load_nanotrack(version, _require(folder / f"nanotrack{version}.pth"))
    return version, net, _session(backbone, free_spatial=True), _session(head)


def _crops(shared_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(template 127, search 255) pairs as 1x3xHxW float32 raw BGR: seeded noise and a real frame."""
    rng = np.random.default_rng(1234)
    frame = cv2.imread(str(_require(shared_dir / FRAME)))
    side = min(frame.shape[:2])
    y0, x0 = (frame.shape[0] - side) // 2, (frame.shape[1] - side) // 2
    square = frame[y0 : y0 + side, x0 : x0 + side]
    q = side // 4
    real = (cv2.resize(square[q : side - q, q : side - q], (127, 127)), cv2.resize(square, (255, 255)))

    def blob(img: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)

    noise = tuple(rng.uniform(0, 255, (1, 3, s, s)).astype(np.float32) for s in (127, 255))
    return {"noise": noise, "frame": (blob(real[0]), blob(real[1]))}


@torch.inference_mode()
def test_matches_onnx(reference, shared_dir):
    version, net, backbone, head = reference
    traced = TracedNetwork(net)
    traced.warm_up(127, 255)
    assert len(traced._traces) == 3  # template embed, search embed, head: the traced path is exercised
    exported = OnnxRuntimeNetwork(net)
    assert not net.training  # exporting must leave the network in inference mode
    for name, (z_crop, x_crop) in _crops(shared_dir).items():
        zf = backbone.run(None, {"input": z_crop})[0]
        xf = backbone.run(None, {"input": x_crop})[0]
        assert zf.shape[-2:] == (8, 8) and xf.shape[-2:] == (16, 16)
        cls_ref, loc_ref = head.run(["output1", "output2"], {"input1": zf, "input2": xf})
        # The eager module and both CPU runners (exported to onnxruntime, traced) must all match.
        for kind, model in (("eager", net), ("traced", traced), ("onnxruntime", exported)):
            what = f"{version} {kind} {name}"
            _assert_matches(zf, model.embed(torch.from_numpy(z_crop)), f"{what} template feature")
            _assert_matches(xf, model.embed(torch.from_numpy(x_crop)), f"{what} search feature")
            cls, loc = model.head(torch.from_numpy(zf), torch.from_numpy(xf))
            assert cls.shape[-1] == net.score_size
            _assert_matches(cls_ref, cls, f"{what} cls")
            _assert_matches(loc_ref, loc, f"{what} loc")


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@torch.inference_mode()
def test_batched_head_and_large_search(version):
    torch.manual_seed(0)
    net = NanoTrackNet(version).eval()
    template = net.embed(torch.rand(1, 3, 127, 127) * 255)
    searches = net.embed(torch.rand(2, 3, 255, 255) * 255)
    cls, loc = net.head(template, searches)
    for i in range(2):
        cls_i, loc_i = net.head(template, searches[i : i + 1])
        torch.testing.assert_close(cls[i : i + 1], cls_i, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(loc[i : i + 1], loc_i, rtol=1e-5, atol=1e-5)
    cls_n, loc_n = net.head(template.expand(2, -1, -1, -1), searches)  # one template per search
    torch.testing.assert_close(cls_n, cls, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loc_n, loc, rtol=1e-5, atol=1e-5)

    big = net.embed(torch.rand(1, 3, 831, 831) * 255)
    assert big.shape == (1, net.feature_channels, 52, 52)
    cls, loc = net.head(template, big)
    side = 52 - net.score_offset
    assert cls.shape == (1, 2, side, side) and loc.shape == (1, 4, side, side)
    assert torch.isfinite(cls).all() and torch.isfinite(loc).all()


def test_wrong_version_names_file_and_real_version(tmp_path):
    path = tmp_path / "nanotrackv2.pth"
    state = {f"module.{k}": v for k, v in NanoTrackNet("v2").state_dict().items()}
    torch.save({"epoch": 1, "state_dict": state}, path)
    assert isinstance(load_nanotrack("v2", path), NanoTrackNet)  # `module.` prefix stripped
    with pytest.raises(ValueError, match=r"nanotrackv2\.pth is not a NanoTrack v3 .*looks like .*v2"):
        load_nanotrack("v3", path)


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    good = tmp_path / "good.pth"
    torch.save({"state_dict": NanoTrackNet("v1").state_dict()}, good)
    bad = tmp_path / "truncated.pth"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(
        ValueError, match=r"truncated\.pth is not a readable torch checkpoint.*re-download"
    ):
        load_nanotrack("v1", bad)


class _RunsCodeWhenLoaded:
    """What a malicious checkpoint holds: unpickling it calls a function (here: creates a file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_that_would_run_code_is_refused_unread(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "trojan.pth"
    torch.save({"epoch": _RunsCodeWhenLoaded(marker), "state_dict": NanoTrackNet("v2").state_dict()}, path)
    with pytest.raises(ValueError, match=r"trojan\.pth stores Python objects besides tensors .*run code"):
        load_nanotrack("v2", path)
    assert not marker.exists(), "the file's code must not run"


def test_real_v2_checkpoint_rejected_as_v3(shared_dir):
    path = _require(shared_dir / "weights" / "nanotrack" / "v2" / "nanotrackv2.pth")
    with pytest.raises(ValueError, match=r"nanotrackv2\.pth is not a NanoTrack v3 .*looks like .*v2"):
        load_nanotrack("v3", path)


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@torch.inference_mode()
def test_onnxruntime_runner_takes_any_batch_and_crop_size(version):
    """The exported graphs have dynamic batch and crop size: augmentation batches and 831 px re-detection
    tiles (several per pass, one shared template) run on onnxruntime and agree with the torch network."""
    torch.manual_seed(1)
    net = NanoTrackNet(version).eval()
    runner = OnnxRuntimeNetwork(net)
    template_crop = torch.rand(1, 3, 127, 127) * 255
    for crops in (torch.rand(3, 3, 255, 255) * 255, torch.rand(2, 3, 831, 831) * 255):
        template, features = runner.embed(template_crop), runner.embed(crops)
        torch.testing.assert_close(features, net.embed(crops), rtol=1e-4, atol=1e-3)
        cls, loc = runner.head(template, features)
        cls_ref, loc_ref = net.head(net.embed(template_crop), net.embed(crops))
        assert cls.shape == cls_ref.shape and cls.shape[0] == crops.shape[0]
        torch.testing.assert_close(cls, cls_ref, rtol=1e-4, atol=1e-3)
        torch.testing.assert_close(loc, loc_ref, rtol=1e-4, atol=1e-3)
        per_crop = runner.head(template.expand(crops.shape[0], -1, -1, -1), features)[0]  # one template each
        torch.testing.assert_close(per_crop, cls, rtol=1e-5, atol=1e-5)


def test_onnxruntime_runner_gives_gradients_through_torch():
    """Online modules differentiate through features; with gradients on, the torch network answers."""
    net = NanoTrackNet("v2").eval()
    runner = cpu_network(net, 127, 255, "auto")
    assert isinstance(runner, OnnxRuntimeNetwork)
    crop = (torch.rand(1, 3, 127, 127) * 255).requires_grad_()
    runner.embed(crop).sum().backward()
    assert crop.grad is not None and crop.grad.abs().sum() > 0
    assert runner.feature_channels == net.feature_channels  # network attributes read through


def test_cpu_backend_choice(shared_dir, monkeypatch):
    monkeypatch.setenv("SIAM_TRACKER_WEIGHTS", str(shared_dir / "weights"))
    assert isinstance(build_tracker("nano", device="cpu").network, OnnxRuntimeNetwork)  # the default
    assert isinstance(build_tracker("nano", device="cpu", cpu_backend="torchscript").network, TracedNetwork)
    with pytest.raises(ConfigError, match="cpu backend must be one of"):
        build_tracker("nano", device="cpu", cpu_backend="tensorrt")
    net = NanoTrackNet("v2").eval()
    assert isinstance(cpu_network(net, 127, 255, "torchscript"), TracedNetwork)
    assert cpu_network(net, 127, 255, "eager") is net
    with pytest.raises(ValueError, match="cpu backend must be one of"):
        cpu_network(net, 127, 255, "tensorrt")
