"""Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel, over random subsets.

k(x, y) = (x.y / d + 1)^3 as in Bińkowski et al. (2018). Unlike FID the estimate is unbiased, so
sets of different sizes can be compared; the spread over subsets is reported as the std.
"""

from __future__ import annotations

import torch

PRECOMPUTE_LIMIT = 3000  # above this many images per set, kernels are built per subset


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd_from_kernels(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor) -> float:
    m, n = k_xx.shape[0], k_yy.shape[0]
    xx = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    yy = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(xx + yy - 2 * k_xy.mean())


def mmd_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD^2 estimate between two feature sets (float64)."""
    x, y = x.to(torch.float64), y.to(torch.float64)
    return _mmd_from_kernels(
        polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    )


def default_subset_size(n_real: int, n_fake: int) -> int:
    """1000 as in the KID paper, but at most half the smaller set so that subsets differ."""
    return max(2, min(1000, min(n_real, n_fake) // 2))


def kid(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    num_subsets: int = 100,
    subset_size: int | None = None,
    seed: int = 0,
) -> tuple[float, float]:
    """(mean, std) of MMD^2 over ``num_subsets`` pairs of subsets drawn without replacement.

    The std uses ddof=0, like the reference implementations.
    """
    real, fake = real.to(torch.float64), fake.to(torch.float64)
    n_real, n_fake = real.shape[0], fake.shape[0]
    size = subset_size or default_subset_size(n_real, n_fake)
    if size < 2 or size > min(n_real, n_fake):
        raise ValueError(f"KID subset size {size} must be 2..{min(n_real, n_fake)}")
    gen = torch.Generator().manual_seed(seed)
    full = max(n_real, n_fake) <= PRECOMPUTE_LIMIT
    if full:  # every subset is then a cheap gather from the full kernel matrices
        k_rr, k_ff = polynomial_kernel(real, real), polynomial_kernel(fake, fake)
        k_rf = polynomial_kernel(real, fake)
    values = []
    for _ in range(num_subsets):
        i = torch.randperm(n_real, generator=gen)[:size]
        j = torch.randperm(n_fake, generator=gen)[:size]
        if full:
            values.append(_mmd_from_kernels(k_rr[i][:, i], k_ff[j][:, j], k_rf[i][:, j]))
        else:
            values.append(mmd_unbiased(real[i], fake[j]))
    scores = torch.tensor(values, dtype=torch.float64)
    return float(scores.mean()), float(scores.std(correction=0))
