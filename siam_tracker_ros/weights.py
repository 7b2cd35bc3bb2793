"""Find trained weights by name, download them when missing, and check them against known checksums.

Layout under the weights directory (`$SIAM_TRACKER_WEIGHTS`, default `~/.cache/siam_tracker_ros/weights`)
mirrors the project's shared weights folder, e.g. `nanotrack/v2/nanotrackv2.pth`. A missing file is
fetched from the upstream NanoTrack project pinned to one commit and verified with SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from siam_tracker_ros.errors import WeightsError

ENV_VAR = "SIAM_TRACKER_WEIGHTS"
UPSTREAM_COMMIT = "248663fde6bf7c40190cf10ee396d5662919ecd3"
UPSTREAM_URL = f"https://raw.githubusercontent.com/HonglinChu/SiamTrackers/{UPSTREAM_COMMIT}/NanoTrack/models/"

# name under the weights directory -> (path under the upstream models folder, sha256)
KNOWN_WEIGHTS: dict[str, tuple[str, str]] = {
    "nanotrack/v1/nanotrackv1.pth": (
        "pretrained/checkpoint_e26.pth",
        "2a24bbfd1163a7692ab22100336a54de55dde12301b7d8ae7a4e745fb10b09a3",
    ),
    "nanotrack/v1/nanotrack_backbone_sim.onnx": (
        "onnx/nanotrack_backbone_sim.onnx",
        "f6fdf311bdc846510c2f9f0b2b8159c7e0cf5d80ed18c9079faeb32db460cba9",
    ),
    "nanotrack/v1/nanotrack_head_sim.onnx": (
        "onnx/nanotrack_head_sim.onnx",
        "4c987e5121cc400b6175f2168c30c84857864fe36d5e7a14df0c27e8e5b9540d",
    ),
    "nanotrack/v2/nanotrackv2.pth": (
        "pretrained/nanotrackv2.pth",
        "938a320c560fd8c8d6a148a76a072bca29c529ce16591c9a2157859ee0ecc5e1",
    ),
    "nanotrack/v2/nanotrack_backbone_sim.onnx": (
        "nanotrackv2/nanotrack_backbone_sim.onnx",
        "530bdd0cd00f19afab79a863e71ba71e3312395a5dc9151af675082bdaaa2fc4",
    ),
    "nanotrack/v2/nanotrack_head_sim.onnx": (
        "nanotrackv2/nanotrack_head_sim.onnx",
        "0d8c0637be849f092cc7236cae02e55c8b9455ebe37ba50601d6115db4247cd9",
    ),
    "nanotrack/v3/nanotrackv3.pth": (
        "pretrained/nanotrackv3.pth",
        "4f0d25108385a67bdec5fa01ca37c74acb72343b53996dd645fe18b86e512e69",
    ),
    "nanotrack/v3/nanotrack_backbone.onnx": (
        "nanotrackv3/nanotrack_backbone.onnx",
        "50be1320abf9384fd3479ea829f95e244cf3f3838190c5ab60c750fb8c1ce828",
    ),
    "nanotrack/v3/nanotrack_head.onnx": (
        "nanotrackv3/nanotrack_head.onnx",
        "75357903be3f4817c965af16cb5a11fd32b1467f597a408405a98635ac63f61d",
    ),
}


def weights_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "siam_tracker_ros" / "weights"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, name: str) -> None:
    """Raise WeightsError when a known file's checksum does not match (truncated or altered file)."""
    known = KNOWN_WEIGHTS.get(name)
    if known is None:
        return
    actual = sha256_of(path)
    if actual != known[1]:
        raise WeightsError(
            f"weights file {path} is corrupt or not the expected release (sha256 {actual[:12]}..., "
            f"expected {known[1][:12]}...); delete it and run again to download it, or point "
            f"{ENV_VAR} at a folder holding the right file"
        )


def resolve(name: str, download: bool = True) -> Path:
    """Path of the weights file `name` (e.g. 'nanotrack/v2/nanotrackv2.pth'), verified.

    Looks under `weights_dir()`; when absent and `download` is true, fetches it from upstream.
    """
    path = weights_dir() / name
    if path.is_file():
        verify(path, name)
        return path
    if name not in KNOWN_WEIGHTS or not download:
        raise WeightsError(
            f"weights file {path} not found; set {ENV_VAR} to the folder that holds '{name}' "
            "or pass the file with --weights"
        )
    _download(name, path)
    return path


def check_file(path: str | os.PathLike) -> Path:
    """A weights path given explicitly by the user: it must exist and be a file."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise WeightsError(f"weights path {p} is a folder; give the weights file itself with --weights")
    if not p.is_file():
        raise WeightsError(f"weights file {p} does not exist; check the path given with --weights")
    return p


def _download(name: str, dest: Path) -> None:
    rel, expected = KNOWN_WEIGHTS[name]
    url = UPSTREAM_URL + rel
    tmp_path = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
            tmp_path = Path(tmp.name)
            with urllib.request.urlopen(url, timeout=30) as response:
                shutil.copyfileobj(response, tmp)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        if tmp_path is not None:  # no partial download left behind
            tmp_path.unlink(missing_ok=True)
        raise WeightsError(
            f"weights file {dest} not found and could not be downloaded from {url} ({exc}); "
            f"download it by hand, or set {ENV_VAR} to a folder that holds '{name}'"
        ) from exc
    actual = sha256_of(tmp_path)
    if actual != expected:
        tmp_path.unlink(missing_ok=True)
        raise WeightsError(f"download of {url} has sha256 {actual[:12]}..., expected {expected[:12]}...")
    tmp_path.replace(dest)
