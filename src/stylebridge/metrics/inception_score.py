"""Inception Score from an extractor's class logits: exp(E_x KL(p(y|x) || p(y))), per split.

Splits are consecutive slices in file order, as in the original code (no shuffling), and the
std over splits uses ddof=0 like it. Small sets get fewer splits so that each still estimates
the marginal p(y) from a reasonable number of images.
"""

from __future__ import annotations

import torch

MIN_PER_SPLIT = 50


def effective_splits(count: int, requested: int = 10) -> int:
    """``requested`` splits, but at least MIN_PER_SPLIT images in each (and at least one)."""
    return max(1, min(requested, count // MIN_PER_SPLIT))


def inception_score(logits: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """(mean, std) over ``splits`` slices of the (N, C) logits."""
    log_p = logits.to(torch.float64).log_softmax(dim=1)
    n = log_p.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"IS splits must be 1..{n}, not {splits}")
    scores = []
    for k in range(splits):
        part = log_p[k * n // splits : (k + 1) * n // splits]
        log_marginal = part.exp().mean(dim=0).log()
        kl = (part.exp() * (part - log_marginal)).sum(dim=1).mean()
        scores.append(kl.exp())
    values = torch.stack(scores)
    return float(values.mean()), float(values.std(correction=0))
