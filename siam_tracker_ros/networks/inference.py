"""Fast CPU inference for Siamese networks: onnxruntime (`OnnxRuntimeNetwork`) or TorchScript-traced, frozen,
oneDNN-optimised `embed`/`head` (`TracedNetwork`, the fallback without onnxruntime); `cpu_network` picks.

Eager PyTorch spends most of a small network's time in per-layer Python and BatchNorm overhead; tracing
and `torch.jit.optimize_for_inference` fold BatchNorm into convolutions and run the graph without Python.
Traces are made by `warm_up` for the shapes of ordinary tracking (one 127 template, one 255 search) when
the tracker is built; other shapes (augmentation batches, 831 re-detection tiles) run eagerly, so a
tracker never stalls mid-flight on a trace. Outputs match the eager network to float32 rounding; on
CUDA the eager network is used as is.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings

import torch
from torch import Tensor, nn

from siam_tracker_ros.trackers.registry import CPU_BACKENDS

log = logging.getLogger(__name__)


class _Embed(nn.Module):
    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, crops: Tensor) -> Tensor:
        return self.network.embed(crops)


class _Head(nn.Module):
    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, template_feat: Tensor, search_feat: Tensor) -> tuple[Tensor, Tensor]:
        return self.network.head(template_feat, search_feat)


class _Runner(nn.Module):
    """A faster runner of `network`'s `embed`/`head`; attributes not found here are read from it."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network.eval()

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("network"), name)


class TracedNetwork(_Runner):
    """TorchScript-traced `embed`/`head` for the shapes `warm_up` traced, eager for the others."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__(network)
        self._embed = _Embed(self.network)
        self._head = _Head(self.network)
        self._traces: dict[tuple, torch.jit.ScriptModule] = {}
        self._lock = threading.Lock()
        self._failed = False

    def _run(self, module: nn.Module, *inputs: Tensor):
        if self._failed or inputs[0].device.type != "cpu" or torch.is_grad_enabled():
            return module(*inputs)
        traced = self._traces.get(self._key(module, inputs))
        return module(*inputs) if traced is None else traced(*inputs)

    @staticmethod
    def _key(module: nn.Module, inputs: tuple[Tensor, ...]) -> tuple:
        return (type(module).__name__,) + tuple((tuple(t.shape), t.dtype) for t in inputs)

    def _trace(self, module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        key = self._key(module, inputs)
        if key in self._traces or self._failed:
            return
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # shape-dependent Python branches are fixed per trace
                traced = torch.jit.optimize_for_inference(torch.jit.trace(module, inputs))
        except Exception as exc:  # tracing is an optimisation: fall back to eager, never fail tracking
            log.warning("TorchScript tracing failed (%s); running the network eagerly", exc)
            self._failed = True
            return
        self._traces[key] = traced

    def embed(self, crops: Tensor) -> Tensor:
        return self._run(self._embed, crops)

    def warm_up(self, template_size: int, search_size: int) -> None:
        """Trace the shapes of ordinary tracking now (at build time), so no tracked frame waits for it."""
        with self._lock, torch.inference_mode():
            z = torch.zeros(1, 3, template_size, template_size)
            x = torch.zeros(1, 3, search_size, search_size)
            self._trace(self._embed, (z,))
            self._trace(self._embed, (x,))
            zf, xf = self.embed(z), self.embed(x)
            self._trace(self._head, (zf, xf))

    def head(self, template_feat: Tensor, search_feat: Tensor) -> tuple[Tensor, Tensor]:
        return self._run(self._head, template_feat, search_feat)


class OnnxRuntimeNetwork(_Runner):
    """Same `embed`/`head` API, run by onnxruntime on the CPU from graphs exported from this very network.

    On 2-core CPUs onnxruntime runs NanoTrack's small convolutions about 2.5x faster than TorchScript
    with oneDNN (measured: embed 0.9 vs 2.2 ms, head 0.4 vs 1.5 ms per 255 px search, one thread).
    The graphs are exported at build time, in memory, with dynamic batch and crop size, so augmentation
    batches and 831 px re-detection tiles take the fast path too. Gradients (online training) and other
    devices use the torch network itself; outputs match it to float32 rounding (checked in the tests).
    """

    def __init__(self, network: nn.Module, template_size: int = 127, search_size: int = 255,
                 threads: int | None = None) -> None:
        import onnxruntime

        super().__init__(network)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        # idle workers must sleep, not spin: spinning threads starve torch, OpenCV and the ROS executor
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")

        def session(model: bytes):
            return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

        template = torch.zeros(1, 3, template_size, template_size)
        search = torch.zeros(1, 3, search_size, search_size)
        self._embed = session(_export(_Embed(self.network), (search,), ["crops"], ["features"],
                                      {"crops": {0: "n", 2: "h", 3: "w"}}))
        with torch.no_grad():
            template_feat, search_feat = self.network.embed(template), self.network.embed(search)
        self._head = session(_export(_Head(self.network), (template_feat, search_feat),
                                     ["template_feat", "search_feat"], ["cls", "loc"],
                                     {"template_feat": {0: "nz"}, "search_feat": {0: "n", 2: "h", 3: "w"}}))

    @staticmethod
    def _fast(*inputs: Tensor) -> bool:
        first = inputs[0]
        return first.device.type == "cpu" and first.dtype == torch.float32 and not torch.is_grad_enabled()

    def embed(self, crops: Tensor) -> Tensor:
        if not self._fast(crops):
            return self.network.embed(crops)
        return torch.from_numpy(self._embed.run(None, {"crops": crops.contiguous().numpy()})[0])

    def head(self, template_feat: Tensor, search_feat: Tensor) -> tuple[Tensor, Tensor]:
        if not self._fast(template_feat, search_feat):
            return self.network.head(template_feat, search_feat)
        cls, loc = self._head.run(None, {"template_feat": template_feat.contiguous().numpy(),
                                         "search_feat": search_feat.contiguous().numpy()})
        return torch.from_numpy(cls), torch.from_numpy(loc)


def _export(module: nn.Module, inputs: tuple[Tensor, ...], input_names: list[str], output_names: list[str],
            dynamic_axes: dict) -> bytes:
    """ONNX bytes of `module` (TorchScript-based exporter: no onnx/onnxscript packages needed)."""
    buffer = io.BytesIO()
    module.eval()  # the exporter restores the wrapper's mode recursively: a training-mode wrapper would
    # leave the network's BatchNorm layers in training mode afterwards
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation of this exporter; shape checks fixed per trace
        torch.onnx.export(module, inputs, buffer, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)
    return buffer.getvalue()


def cpu_network(network: nn.Module, template_size: int, search_size: int, backend: str = "auto") -> nn.Module:
    """The fastest available CPU runner of `network` (`embed`/`head` API): onnxruntime when installed,
    else TorchScript; `backend` forces one. A backend that fails to build falls back, with a warning."""
    if backend not in CPU_BACKENDS:
        raise ValueError(f"cpu backend must be one of {', '.join(CPU_BACKENDS)}, got {backend!r}")
    if backend in ("auto", "onnxruntime"):
        try:
            return OnnxRuntimeNetwork(network, template_size, search_size)
        except ImportError:
            if backend == "onnxruntime":
                raise
            log.info("onnxruntime is not installed; CPU inference uses TorchScript (pip install onnxruntime "
                     "for about 2x faster CPU tracking)")
        except Exception as exc:  # export is an optimisation: never fail a tracker over it
            log.warning("ONNX export for onnxruntime failed (%s); CPU inference uses TorchScript", exc)
    if backend == "eager":
        return network.eval()
    traced = TracedNetwork(network)
    traced.warm_up(template_size, search_size)
    return traced
