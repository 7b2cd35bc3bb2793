"""Fast CPU inference for Siamese networks: TorchScript-traced, frozen, oneDNN-optimised `embed`/`head`.

Eager PyTorch spends most of a small network's time in per-layer Python and BatchNorm overhead; tracing
and `torch.jit.optimize_for_inference` fold BatchNorm into convolutions and run the graph without Python.
Traces are made by `warm_up` for the shapes of ordinary tracking (one 127 template, one 255 search) when
the tracker is built; other shapes (augmentation batches, 831 re-detection tiles) run eagerly, so a
tracker never stalls mid-flight on a trace. Outputs match the eager network to float32 rounding; on
CUDA the eager network is used as is.
"""

from __future__ import annotations

import logging
import threading
import warnings

import torch
from torch import Tensor, nn

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


class TracedNetwork(nn.Module):
    """Same `embed`/`head` API as the wrapped network; attributes not found here are read from it."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network.eval()
        self._embed = _Embed(self.network)
        self._head = _Head(self.network)
        self._traces: dict[tuple, torch.jit.ScriptModule] = {}
        self._lock = threading.Lock()
        self._failed = False

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("network"), name)

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
