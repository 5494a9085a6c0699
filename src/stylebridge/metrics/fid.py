"""Fréchet distance between Gaussians fitted to two feature sets (FID), with a bootstrap interval.

FID = |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^1/2). The last trace equals the nuclear norm
of L1^T L2 for any factors S = L L^T, which lets us avoid non-symmetric eigenproblems: from
statistics we use symmetric square roots; from features, when there are fewer images than
dimensions, the centred feature matrices themselves (an n x n problem instead of D x D).
"""

from __future__ import annotations

import torch


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def _trace_sqrt_product(cov1: torch.Tensor, cov2: torch.Tensor) -> torch.Tensor:
    """tr((S1 S2)^1/2) = sum of sqrt(eig(S1^1/2 S2 S1^1/2)), a symmetric PSD matrix."""
    root = _sqrt_psd(cov1)
    inner = root @ cov2 @ root
    return torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum()


def frechet_distance(
    mean1: torch.Tensor, cov1: torch.Tensor, mean2: torch.Tensor, cov2: torch.Tensor
) -> float:
    """FID from means and covariances (computed in float64)."""
    mean1, cov1, mean2, cov2 = (t.to(torch.float64) for t in (mean1, cov1, mean2, cov2))
    diff = (mean1 - mean2).square().sum()
    value = diff + cov1.trace() + cov2.trace() - 2 * _trace_sqrt_product(cov1, cov2)
    return float(value)


def _centred(x: torch.Tensor, weights: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, rows scaled so that rows.T @ rows is the unbiased covariance); weights = counts."""
    if weights is None:
        weights = torch.ones(x.shape[0], dtype=torch.float64, device=x.device)
    n = weights.sum()
    mean = (weights @ x) / n
    return mean, (x - mean) * (weights / (n - 1)).sqrt()[:, None]


def frechet_distance_features(
    x1: torch.Tensor,
    x2: torch.Tensor,
    w1: torch.Tensor | None = None,
    w2: torch.Tensor | None = None,
) -> float:
    """FID straight from features; ``w`` are per-row multiplicities (used by the bootstrap)."""
    x1, x2 = x1.to(torch.float64), x2.to(torch.float64)
    mean1, a = _centred(x1, w1)
    mean2, b = _centred(x2, w2)
    if min(a.shape[0], b.shape[0]) >= a.shape[1]:  # more images than dimensions
        return frechet_distance(mean1, a.T @ a, mean2, b.T @ b)
    cross = a @ b.T
    gram = cross @ cross.T if cross.shape[0] <= cross.shape[1] else cross.T @ cross
    trace_sqrt = torch.linalg.eigvalsh(gram).clamp(min=0).sqrt().sum()
    value = (mean1 - mean2).square().sum() + a.square().sum() + b.square().sum() - 2 * trace_sqrt
    return float(value)


def bootstrap_interval(
    x1: torch.Tensor, x2: torch.Tensor, *, num: int = 50, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Sampling spread of FID at these set sizes: both sets resampled with replacement.

    Resampling repeats images, which by itself pushes FID up (fewer distinct images), so the
    bootstrap quantiles are moved to sit around the estimate (median -> estimate). The interval
    says how much FID moves between samples of the same size; it does not remove the bias of
    small sets, so compare FIDs only at equal image counts.
    """
    gen = torch.Generator().manual_seed(seed)
    estimate = frechet_distance_features(x1, x2)
    values = []
    for _ in range(num):
        parts = []
        for x in (x1, x2):
            counts = torch.bincount(
                torch.randint(x.shape[0], (x.shape[0],), generator=gen), minlength=x.shape[0]
            )
            keep = counts > 0
            parts += [x[keep], counts[keep].to(torch.float64)]
        values.append(frechet_distance_features(parts[0], parts[2], parts[1], parts[3]))
    alpha = (1 - level) / 2
    q = torch.tensor(values, dtype=torch.float64).quantile(
        torch.tensor([alpha, 0.5, 1 - alpha], dtype=torch.float64)
    )
    shift = estimate - float(q[1])
    return float(q[0]) + shift, float(q[2]) + shift
