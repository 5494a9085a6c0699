"""The projection head of contrastive unpaired translation (CUT)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .layers import init_weights


class PatchSampleMLP(nn.Module):
    """Samples the same patch locations from each feature map and projects them to unit vectors."""

    def __init__(self, channels: Sequence[int], out_dim: int = 256):
        super().__init__()
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(c, out_dim), nn.ReLU(inplace=True), nn.Linear(out_dim, out_dim))
            for c in channels
        )
        init_weights(self)

    def forward(
        self,
        features: Sequence[torch.Tensor],
        num_patches: int,
        patch_ids: Sequence[torch.Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Returns (per layer: (B*P, out_dim) unit vectors, per layer: patch ids used)."""
        out, used = [], []
        for index, (feat, mlp) in enumerate(zip(features, self.mlps, strict=True)):
            b, c, h, w = feat.shape
            flat = feat.permute(0, 2, 3, 1).reshape(b, h * w, c)
            if patch_ids is not None:
                ids = patch_ids[index]
            else:
                perm = torch.randperm(h * w, generator=generator, device="cpu")
                ids = perm[: min(num_patches, h * w)].to(feat.device)
            sample = flat[:, ids, :].reshape(-1, c)
            out.append(F.normalize(mlp(sample), dim=1))
            used.append(ids)
        return out, used
