"""The target's look as one vector: a check that does not learn, so it cannot drift.

A Siamese backbone's features of an exemplar crop (the target with context around it, as the template
is cropped), averaged over the central half of the map, where the target is, and made unit length.
Two such vectors are compared by their dot product (cosine similarity): the first frame's target
against a re-detection candidate. The online classifier keeps learning the target's recent looks (and,
once drifted, the wrong object's); this reference is the box the user drew.
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import Tensor


def target_descriptor(features: Tensor) -> Tensor:
    """(N, C) unit vectors from (N, C, H, W) exemplar-crop features: the mean over the central half."""
    h, w = features.shape[-2:]
    centre = features[..., h // 4: h - h // 4, w // 4: w - w // 4]
    return F.normalize(centre.float().mean(dim=(-2, -1)), dim=-1)


def similarity(descriptors: Tensor, reference: Tensor) -> np.ndarray:
    """(N,) cosine similarities of N descriptors to one reference descriptor (1 = same look)."""
    return (descriptors.reshape(-1, reference.shape[-1]) @ reference.reshape(-1)).cpu().numpy()
