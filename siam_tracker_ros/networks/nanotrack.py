"""NanoTrack v1/v2/v3 in plain PyTorch, loading the authors' training checkpoints (`nanotrackvN.pth`).

The layer layout follows the reference ONNX graphs shipped with the weights (`nanotrack_backbone*.onnx`,
`nanotrack_head*.onnx`); module names follow the checkpoint keys so that `load_state_dict(strict=True)`
works. Having the network in torch (instead of running the ONNX files) lets the tracker batch several
search crops, feed crops larger than 255 px for re-detection, and run on whatever device torch runs on.

Input convention (same as the ONNX graphs, which contain no normalisation): float32 N x 3 x H x W with raw
pixel values 0..255 in BGR order, as NanoTrack was trained (pysot-style `get_subwindow` on cv2 images).
OpenCV's `cv2.TrackerNano` feeds `blobFromImage(crop, 1.0, Size(), Scalar(), swapRB=true)`, i.e. RGB.

Architecture (all versions: MobileNetV3-small trunk with total stride 16; 127 px -> 8x8, 255 px -> 16x16):
  v1: backbone blocks 0..8 (48 ch). Head: pixel-wise correlation (8x8 template = 64 correlation channels)
      shared by both branches, channel attention, separable-conv towers (ReLU6), cls 2 ch, loc = exp(.).
  v2: same backbone; head with separate 1x1 conv+BN adapters and pixel-wise correlations for cls and reg,
      six separable-conv units per tower.
  v3: backbone blocks 0..9 (96 ch). Head per branch: pixel-wise correlation (full 8x8 template) followed
      by a 2x2 depthwise conv, plus depth-wise cross-correlation with the centre 4x4 of the template
      (padding 1); both give S-1 x S-1 maps (15x15 for a 255 crop), concatenated and reduced to 96 ch.
The checkpoints also hold a `neck.downsample` (1x1 conv + BN) that none of the reference graphs apply (in
v1/v2 it is 64 channels wide and cannot even take the 48-channel features); it is kept only so the
checkpoints load strictly and is not used by `embed`.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siam_tracker_ros.errors import WeightsError
from siam_tracker_ros.weights import KNOWN_WEIGHTS, sha256_of

VERSIONS = ("v1", "v2", "v3")

# MobileNetV3-small blocks 1..9: (kernel, expanded ch, out ch, SE hidden ch or 0, hard-swish, stride).
# Block 9 (v3 only) keeps stride 1 so that the total stride stays 16.
_BLOCKS = (
    (3, 16, 16, 8, False, 2),
    (3, 72, 24, 0, False, 2),
    (3, 88, 24, 0, False, 1),
    (5, 96, 40, 24, True, 2),
    (5, 240, 40, 64, True, 1),
    (5, 240, 40, 64, True, 1),
    (5, 120, 48, 32, True, 1),
    (5, 144, 48, 40, True, 1),
    (5, 288, 96, 72, True, 1),
)
_NUM_BLOCKS = {"v1": 8, "v2": 8, "v3": 9}
_TEMPLATE_FEAT = 8  # template feature side; the pixel-wise correlation channels are 8 * 8 = 64
_RELEASE_SHA256 = {sha for name, (_, sha) in KNOWN_WEIGHTS.items() if name.endswith(".pth")}


class NanoTrackCheckpointError(WeightsError, ValueError):
    """The file is not a readable NanoTrack checkpoint of the requested version."""


class SqueezeExcite(nn.Module):
    """Channel gate of the MobileNetV3 blocks (linear layers, hard-sigmoid)."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels), nn.Hardsigmoid()
        )

    def forward(self, x: Tensor) -> Tensor:
        return x * self.fc(x.mean((2, 3)))[:, :, None, None]


class InvertedResidual(nn.Module):
    """MobileNetV3 block; the SE gate sits between the depthwise conv and its activation."""

    def __init__(self, inp: int, kernel: int, hidden: int, out: int, se: int, hswish: bool, stride: int):
        super().__init__()

        def act() -> nn.Module:
            return nn.Hardswish() if hswish else nn.ReLU(inplace=True)

        gate = SqueezeExcite(hidden, se) if se else nn.Identity()
        dw = nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False)
        project = [nn.Conv2d(hidden, out, 1, bias=False), nn.BatchNorm2d(out)]
        if inp == hidden:  # no expansion: dw, BN, act, SE, project
            self.conv = nn.Sequential(dw, nn.BatchNorm2d(hidden), act(), gate, *project)
        else:
            expand = [nn.Conv2d(inp, hidden, 1, bias=False), nn.BatchNorm2d(hidden), act()]
            self.conv = nn.Sequential(*expand, dw, nn.BatchNorm2d(hidden), gate, act(), *project)
        self.residual = stride == 1 and inp == out

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class Backbone(nn.Module):
    """MobileNetV3-small trunk cut after `num_blocks` blocks (stride 16)."""

    def __init__(self, num_blocks: int):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        ]
        inp = 16
        for kernel, hidden, out, se, hswish, stride in _BLOCKS[:num_blocks]:
            layers.append(InvertedResidual(inp, kernel, hidden, out, se, hswish, stride))
            inp = out
        self.features = nn.Sequential(*layers)
        self.out_channels = inp

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)


class Neck(nn.Module):
    """Checkpoint-only adjust layer: the reference graphs never apply it (see the module docstring)."""

    def __init__(self, channels: int):
        super().__init__()
        self.downsample = nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
        )


class ChannelAttention(nn.Module):
    """Sigmoid gate over the 64 pixel-wise correlation channels."""

    def __init__(self, channels: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels, 1)
        self.fc2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


def _pixelwise_xcorr(kernel: Tensor, search: Tensor) -> Tensor:
    """One output channel per template position: N x (h*w) x H x W; a batch-1 template broadcasts."""
    n, c, h, w = search.shape
    ker = kernel.flatten(2).transpose(1, 2)  # Nt x hw x C
    return torch.matmul(ker, search.reshape(n, c, h * w)).reshape(n, -1, h, w)


def _depthwise_xcorr(kernel: Tensor, search: Tensor) -> Tensor:
    """Per-channel correlation with padding 1 (as in the v3 graph); a batch-1 template broadcasts.

    Written as a sum of shifted products (16 for the 4x4 kernel) rather than a grouped conv2d whose
    weights are the template: ONNX export cannot take a convolution kernel of data-dependent shape."""
    kh, kw = kernel.shape[2:]
    padded = F.pad(search, (1, 1, 1, 1))
    out_h, out_w = padded.shape[2] - kh + 1, padded.shape[3] - kw + 1
    out = search.new_zeros(())
    for a in range(kh):
        for b in range(kw):
            out = out + kernel[:, :, a : a + 1, b : b + 1] * padded[:, :, a : a + out_h, b : b + out_w]
    return out


def _conv_bn(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels))


class PixelwiseCorr(nn.Module):
    """v2/v3: 1x1 conv+BN adapters on both inputs, pixel-wise correlation, channel attention; v3 adds a
    2x2 depthwise conv (no padding) so the map has the same S-1 size as the depth-wise branch."""

    def __init__(self, channels: int, v3: bool):
        super().__init__()
        corr = _TEMPLATE_FEAT * _TEMPLATE_FEAT
        self.CA_layer = ChannelAttention(corr)
        self.conv_kernel = _conv_bn(channels)
        self.conv_search = _conv_bn(channels)
        if v3:
            self.conv = nn.Sequential(
                nn.Conv2d(corr, corr, 2, groups=corr, bias=False),
                nn.BatchNorm2d(corr),
                nn.ReLU6(inplace=True),
                nn.Conv2d(corr, corr, 1),
                nn.BatchNorm2d(corr),
            )
        else:
            self.conv = nn.Identity()

    def forward(self, kernel: Tensor, search: Tensor) -> Tensor:
        return self.conv(self.CA_layer(_pixelwise_xcorr(self.conv_kernel(kernel), self.conv_search(search))))


class DepthwiseCorr(nn.Module):
    """v3: 1x1 conv+BN adapters, then depth-wise correlation with the template centre."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv_kernel = _conv_bn(channels)
        self.conv_search = _conv_bn(channels)

    def forward(self, kernel: Tensor, search: Tensor) -> Tensor:
        return _depthwise_xcorr(self.conv_kernel(kernel), self.conv_search(search))


def _tower_v1v2(inp: int, width: int, kernels: tuple[int, ...]) -> nn.Sequential:
    """Units of [depthwise kxk, pointwise 1x1, BN, ReLU6] (v1/v2 layout)."""
    layers: list[nn.Module] = []
    for k in kernels:
        layers += [
            nn.Conv2d(inp, inp, k, padding=k // 2, groups=inp, bias=False),
            nn.Conv2d(inp, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU6(inplace=True),
        ]
        inp = width
    return nn.Sequential(*layers)


def _tower_v3(width: int, units: int = 6) -> nn.Sequential:
    """Units of [depthwise 3x3, BN, ReLU6, pointwise 1x1, BN] (v3 layout, no activation after BN)."""
    layers: list[nn.Module] = []
    for _ in range(units):
        layers += [
            nn.Conv2d(width, width, 3, padding=1, groups=width, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU6(inplace=True),
            nn.Conv2d(width, width, 1, bias=False),
            nn.BatchNorm2d(width),
        ]
    return nn.Sequential(*layers)


def _pred(inp: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, out, 1))


class HeadV1(nn.Module):
    """One shared pixel-wise correlation (with channel attention) feeding both towers."""

    def __init__(self):
        super().__init__()
        corr = _TEMPLATE_FEAT * _TEMPLATE_FEAT
        self.corr_pw = nn.Module()
        self.corr_pw.CA_layer = ChannelAttention(corr)
        self.cls_tower = _tower_v1v2(corr, 128, (5, 5, 3))
        self.bbox_tower = _tower_v1v2(corr, 96, (3, 3, 5, 5))
        self.cls_logits = _pred(128, 2)
        self.bbox_pred = _pred(96, 4)

    def forward(self, z: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        corr = self.corr_pw.CA_layer(_pixelwise_xcorr(z, x))
        return self.cls_logits(self.cls_tower(corr)), torch.exp(self.bbox_pred(self.bbox_tower(corr)))


class HeadV2(nn.Module):
    """Separate adapted pixel-wise correlations for the cls and reg towers."""

    def __init__(self, channels: int):
        super().__init__()
        corr = _TEMPLATE_FEAT * _TEMPLATE_FEAT
        self.corr_pw_reg = PixelwiseCorr(channels, v3=False)
        self.corr_pw_cls = PixelwiseCorr(channels, v3=False)
        self.cls_pw_tower = _tower_v1v2(corr, 96, (3,) * 6)
        self.bbox_pw_tower = _tower_v1v2(corr, 96, (3,) * 6)
        self.cls_pred = _pred(96, 2)
        self.bbox_pred = _pred(96, 4)

    def forward(self, z: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        cls = self.cls_pred(self.cls_pw_tower(self.corr_pw_cls(z, x)))
        loc = torch.exp(self.bbox_pred(self.bbox_pw_tower(self.corr_pw_reg(z, x))))
        return cls, loc


class HeadV3(nn.Module):
    """Pixel-wise (full template) plus depth-wise (template centre 4x4) correlation per branch."""

    def __init__(self, channels: int):
        super().__init__()
        corr = _TEMPLATE_FEAT * _TEMPLATE_FEAT
        self.corr_dw_reg = DepthwiseCorr(channels)
        self.corr_pw_reg = PixelwiseCorr(channels, v3=True)
        self.corr_dw_cls = DepthwiseCorr(channels)
        self.corr_pw_cls = PixelwiseCorr(channels, v3=True)
        self.cls_tower = _tower_v3(channels)
        self.bbox_tower = _tower_v3(channels)
        self.cls_logits = _pred(channels, 2)
        self.bbox_pred = _pred(channels, 4)
        self.down_reg = _pred(corr + channels, channels)
        self.down_cls = _pred(corr + channels, channels)

    def forward(self, z: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        centre = z[:, :, 2:6, 2:6]
        reg = self.down_reg(torch.cat((self.corr_pw_reg(z, x), self.corr_dw_reg(centre, x)), 1))
        cls = self.down_cls(torch.cat((self.corr_pw_cls(z, x), self.corr_dw_cls(centre, x)), 1))
        return self.cls_logits(self.cls_tower(cls)), torch.exp(self.bbox_pred(self.bbox_tower(reg)))


class NanoTrackNet(nn.Module):
    """NanoTrack backbone + BAN head; `embed` and `head` match the reference ONNX backbone and head."""

    stride = 16
    template_feature_size = _TEMPLATE_FEAT

    def __init__(self, version: str):
        super().__init__()
        if version not in VERSIONS:
            raise ValueError(f"unknown NanoTrack version {version!r}; expected one of {', '.join(VERSIONS)}")
        self.version = version
        self.backbone = Backbone(_NUM_BLOCKS[version])
        self.feature_channels = self.backbone.out_channels
        # v1/v2 checkpoints carry a 64-channel neck although the features have 48 channels (never applied)
        self.neck = Neck(64 if version in ("v1", "v2") else self.feature_channels)
        if version == "v1":
            self.ban_head = HeadV1()
        elif version == "v2":
            self.ban_head = HeadV2(self.feature_channels)
        else:
            self.ban_head = HeadV3(self.feature_channels)
        # score map side for a 255 px search crop: the v3 correlations lose one cell (2x2 conv / 4x4 xcorr)
        self.score_offset = 1 if version == "v3" else 0
        self.score_size = 16 - self.score_offset

    def embed(self, crop: Tensor) -> Tensor:
        """Features of N x 3 x H x W raw 0..255 BGR crops: N x C x ceil(H/16) x ceil(W/16).

        127 px gives the 8x8 template feature, 255 px the 16x16 search feature; any other size works too.
        """
        return self.backbone(crop)

    def head(self, template_feat: Tensor, search_feat: Tensor) -> tuple[Tensor, Tensor]:
        """(cls logits N x 2 x S x S, loc N x 4 x S x S distances in search-crop pixels).

        `template_feat` must be 8x8 (1 or N of them; a single template is shared by all N searches).
        S equals the search feature side (v1/v2) or one less (v3).
        """
        if template_feat.shape[-2:] != (_TEMPLATE_FEAT, _TEMPLATE_FEAT):
            raise ValueError(f"template feature must be 8x8, got {tuple(template_feat.shape)}")
        if template_feat.shape[0] not in (1, search_feat.shape[0]):
            n_z, n_x = template_feat.shape[0], search_feat.shape[0]
            raise ValueError(f"template batch {n_z} must be 1 or equal to the search batch {n_x}")
        return self.ban_head(template_feat, search_feat)

    def forward(self, template: Tensor, search: Tensor) -> tuple[Tensor, Tensor]:
        return self.head(self.embed(template), self.embed(search))


def _read_checkpoint(path: Path) -> dict:
    """torch.load with the safe loader (tensors and plain data only). The released NanoTrack
    checkpoints also pickle numpy scalars (epoch, optimizer state), which only the full unpickler
    reads; it runs code from the file, so it is used only for those releases, known by their SHA-256."""
    hint = "; re-download it (see SHA256SUMS next to the weights)"
    try:
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            if sha256_of(path) not in _RELEASE_SHA256:  # (torch's wording differs between versions)
                found = re.search(r"Unsupported (?:global: GLOBAL|class) (\S+)", str(exc))
                if not found:
                    raise
                raise NanoTrackCheckpointError(
                    f"{path} stores Python objects besides tensors ({found.group(1)}), and loading it would "
                    "run code from the file; on a computer you trust, save its tensors alone with "
                    "torch.save(state_dict, path) and give that file") from None
            ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except NanoTrackCheckpointError:
        raise
    except Exception as exc:
        raise NanoTrackCheckpointError(  # torch's own text (advice about weights_only) is not for users
            f"{path} is not a readable torch checkpoint ({type(exc).__name__}): damaged, or another kind of "
            f"file{hint}"
        ) from exc
    if isinstance(ckpt, dict) and isinstance(ckpt.get("state_dict"), dict):
        ckpt = ckpt["state_dict"]
    if not isinstance(ckpt, dict) or not all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise NanoTrackCheckpointError(f"{path} holds no state_dict of tensors{hint}")
    return {k.removeprefix("module."): v for k, v in ckpt.items()}


def _signature(state: dict[str, Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def load_nanotrack(
    version: str, checkpoint_path: str | Path, device: str | torch.device = "cpu"
) -> NanoTrackNet:
    """Build NanoTrackNet(version), load `checkpoint_path` strictly and return it in eval mode on `device`.

    Raises FileNotFoundError for a missing file and NanoTrackCheckpointError (a ValueError) naming the file
    for an unreadable file or one whose keys/shapes are not those of `version`.
    """
    path = Path(checkpoint_path)
    if not path.is_file():
        raise FileNotFoundError(f"NanoTrack {version} checkpoint not found: {path}")
    net = NanoTrackNet(version)
    state = _read_checkpoint(path)
    got = _signature(state)
    want = _signature(net.state_dict())
    if got != want:
        missing = sorted(want.keys() - got.keys())
        unexpected = sorted(got.keys() - want.keys())
        wrong = sorted(k for k in want.keys() & got.keys() if want[k] != got[k])
        like = [v for v in VERSIONS if v != version and _signature(NanoTrackNet(v).state_dict()) == got]
        guess = f"; it looks like a NanoTrack {like[0]} checkpoint" if like else ""
        details = "; ".join(
            f"{label} {len(keys)} (e.g. {keys[0]})"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", wrong))
            if keys
        )
        raise NanoTrackCheckpointError(f"{path} is not a NanoTrack {version} checkpoint ({details}){guess}")
    net.load_state_dict(state, strict=True)
    return net.to(device).eval()
