"""Precision, recall, density and coverage on k-nearest-neighbour manifolds (Naeem et al. 2020).

Each set's manifold is the union of balls around its samples with radius = distance to the k-th
nearest other sample. Precision: share of fakes inside the real manifold; recall: share of reals
inside the fake manifold; density: how many real balls hold each fake, over k; coverage: share
of reals whose own ball holds at least one fake. Distances are computed in row blocks so large
sets do not need an N x M matrix at once.
"""

from __future__ import annotations

import torch

BLOCK = 1024


def kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row to its k-th nearest other row (the row itself excluded)."""
    if x.shape[0] <= k:
        raise ValueError(f"k={k} nearest neighbours need more than {k} images, got {x.shape[0]}")
    radii = []
    for start in range(0, x.shape[0], BLOCK):
        d = torch.cdist(x[start : start + BLOCK], x)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # k + 1: the zero self-distance is first
    return torch.cat(radii)


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    """The four scores in [0, 1] (density may exceed 1), from (N, D) and (M, D) features."""
    real, fake = real.to(torch.float64), fake.to(torch.float64)
    real_r, fake_r = kth_neighbour_radii(real, k), kth_neighbour_radii(fake, k)
    balls_per_fake = torch.zeros(fake.shape[0], dtype=torch.float64)
    recalled = covered = 0
    for start in range(0, real.shape[0], BLOCK):
        d = torch.cdist(real[start : start + BLOCK], fake)  # (block, M)
        inside_real = d < real_r[start : start + BLOCK, None]
        balls_per_fake += inside_real.sum(dim=0)
        recalled += int((d < fake_r[None, :]).any(dim=1).sum())
        covered += int(inside_real.any(dim=1).sum())
    return {
        "precision": float((balls_per_fake > 0).double().mean()),
        "recall": recalled / real.shape[0],
        "density": float(balls_per_fake.mean() / k),
        "coverage": covered / real.shape[0],
    }
