"""Statistics between cultures: bootstrap intervals, effect sizes, energy-distance permutation
tests with Holm correction, and the plain-word claims built from them.

All functions work on plain arrays (rows = images), so the validity tests can run thousands of
splits on a precomputed table without touching an image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu

from .descriptors import DESCRIPTORS


def bootstrap_ci(
    values: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of each column with a percentile bootstrap interval: (mean, low, high)."""
    values = np.asarray(values, np.float64)
    rng = np.random.default_rng(seed)
    n = len(values)
    means = np.empty((n_boot, values.shape[1]))
    step = max(1, min(100, 4_000_000 // max(values.size, 1)))  # <= ~32 MB of resampled rows
    for start in range(0, n_boot, step):
        stop = min(start + step, n_boot)
        idx = rng.integers(0, n, (stop - start, n))
        means[start:stop] = values[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail], axis=0)
    return values.mean(axis=0), low, high


def cohens_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Standardised mean difference per column (pooled standard deviation)."""
    na, nb = len(a), len(b)
    pooled = ((na - 1) * a.var(0, ddof=1) + (nb - 1) * b.var(0, ddof=1)) / max(na + nb - 2, 1)
    return (a.mean(0) - b.mean(0)) / np.sqrt(np.maximum(pooled, 1e-12))


def rank_test(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: Cliff's delta, P(a > b) - P(a < b), and the Mann-Whitney two-sided p-value.

    A rank effect ignores outliers and units, so "0.8" means the same for every descriptor.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        result = mannwhitneyu(a, b, axis=0, alternative="two-sided")
    delta = 2.0 * np.asarray(result.statistic, np.float64) / (len(a) * len(b)) - 1.0
    p = np.nan_to_num(np.asarray(result.pvalue, np.float64), nan=1.0)  # constant columns
    return delta, p


def cliffs_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(a > b) - P(a < b) per column."""
    return rank_test(a, b)[0]


def _distances(x: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0))


def energy_test(
    x: np.ndarray, y: np.ndarray, permutations: int = 999, seed: int = 0
) -> tuple[float, float]:
    """Energy distance between two samples and its permutation p-value, (1 + k) / (1 + P)."""
    pooled = np.vstack([x, y]).astype(np.float64)
    dist = _distances(pooled)
    n, total = len(x), len(pooled)
    rng = np.random.default_rng(seed)
    labels = np.zeros((permutations + 1, total))
    labels[0, :n] = 1.0
    for row in labels[1:]:
        row[rng.permutation(total)[:n]] = 1.0
    d_labels = dist @ labels.T  # (total, P+1): each point's distance sum to the x group
    s_xx = (labels.T * d_labels).sum(0)
    s_xy = d_labels.sum(0) - s_xx
    s_yy = dist.sum() - s_xx - 2.0 * s_xy  # the whole matrix is xx + 2 xy + yy
    m = total - n
    energy = 2.0 * s_xy / (n * m) - s_xx / n**2 - s_yy / m**2
    observed = float(energy[0])
    p_value = (1.0 + float((energy[1:] >= observed - 1e-12).sum())) / (1.0 + permutations)
    return observed, p_value


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjustment: family-wise error control across all culture pairs."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()


@dataclass
class PairEffect:
    """One descriptor compared between two cultures."""

    descriptor: str
    mean_a: float
    mean_b: float
    cohens_d: float
    cliffs_delta: float
    p_value: float = 1.0  # Mann-Whitney, Holm-adjusted over the pair's descriptors


def pair_effects(a: np.ndarray, b: np.ndarray, names: list[str]) -> list[PairEffect]:
    """Effect sizes and rank-test p-values (Holm over descriptors) for every descriptor."""
    d = cohens_d(a, b)
    delta, p = rank_test(a, b)
    p_holm = holm(p.tolist())
    return [
        PairEffect(
            name,
            float(a[:, j].mean()),
            float(b[:, j].mean()),
            float(d[j]),
            float(delta[j]),
            float(p_holm[j]),
        )
        for j, name in enumerate(names)
    ]


def _culture_words(name: str) -> str:
    return name.replace("_", " ")


MAX_RATIO = 10.0  # beyond this the smaller mean is near zero and "437x more" misleads


def claim(effect: PairEffect, culture_a: str, culture_b: str) -> str:
    """One plain sentence, the culture with the larger value first."""
    info = DESCRIPTORS.get(effect.descriptor)
    phrase = info.phrase if info else effect.descriptor.replace("_", " ")
    high, low = (culture_a, culture_b) if effect.mean_a >= effect.mean_b else (culture_b, culture_a)
    hi_mean, lo_mean = max(effect.mean_a, effect.mean_b), min(effect.mean_a, effect.mean_b)
    stats = (
        f"d={abs(effect.cohens_d):.1f}, Cliff's delta={abs(effect.cliffs_delta):.2f}, "
        f"p={effect.p_value:.2g}"
    )
    means = f"{hi_mean:.3g} vs {lo_mean:.3g}"
    subject = f"{_culture_words(high)} images"
    other = _culture_words(low)
    ratio = hi_mean / lo_mean if lo_mean > 0 else float("inf")
    if info is not None and info.ratio and 1.15 <= ratio <= MAX_RATIO:
        return f"{subject} show {ratio:.1f}x more {phrase} than {other} ({means}; {stats})"
    if info is not None and info.ratio and ratio > MAX_RATIO:
        return (
            f"{subject} have far more {phrase} than {other}, which has almost none "
            f"({means}; {stats})"
        )
    return f"{subject} have more {phrase} than {other} ({means}; {stats})"


MIN_CLAIM_DELTA = 0.33  # a "medium" rank effect: smaller differences are not worth a sentence


def top_effects(effects: list[PairEffect], count: int = 5, alpha: float = 0.05) -> list[PairEffect]:
    """The strongest significant effect of each descriptor group, then the next strongest.

    Ranking by rank effect (ties by Cohen's d) alone lets one group fill every slot with near
    synonyms (saturation, colourfulness, hue spread); one per group first says more.
    """
    named = [e for e in effects if e.descriptor in DESCRIPTORS]
    ranked = sorted(named, key=lambda e: (-abs(e.cliffs_delta), -abs(e.cohens_d)))
    strong = [e for e in ranked if e.p_value < alpha and abs(e.cliffs_delta) >= MIN_CLAIM_DELTA]
    chosen: list[PairEffect] = []
    groups: set[str] = set()
    for effect in strong:
        group = DESCRIPTORS[effect.descriptor].group
        if group not in groups:
            chosen.append(effect)
            groups.add(group)
    chosen += [e for e in strong if e not in chosen]
    return sorted(chosen[:count], key=lambda e: -abs(e.cliffs_delta))
