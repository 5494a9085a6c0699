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
    for start in range(0, n_boot, 100):  # chunks keep memory flat for large cultures
        stop = min(start + 100, n_boot)
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


def cliffs_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(a > b) - P(a < b) per column: a rank effect size that ignores outliers and units."""
    u = mannwhitneyu(a, b, axis=0, alternative="two-sided").statistic
    return 2.0 * np.asarray(u, np.float64) / (len(a) * len(b)) - 1.0


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
    others = 1.0 - labels
    d_labels = dist @ labels.T  # (total, P+1)
    s_xx = (labels.T * d_labels).sum(0)
    s_xy = (others.T * d_labels).sum(0)
    s_yy = (others.T * (dist @ others.T)).sum(0)
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


def pair_effects(a: np.ndarray, b: np.ndarray, names: list[str]) -> list[PairEffect]:
    d, delta = cohens_d(a, b), cliffs_delta(a, b)
    return [
        PairEffect(name, float(a[:, j].mean()), float(b[:, j].mean()), float(d[j]), float(delta[j]))
        for j, name in enumerate(names)
    ]


def _culture_words(name: str) -> str:
    return name.replace("_", " ")


def claim(effect: PairEffect, culture_a: str, culture_b: str) -> str:
    """One plain sentence, the culture with the larger value first."""
    info = DESCRIPTORS.get(effect.descriptor)
    phrase = info.phrase if info else effect.descriptor.replace("_", " ")
    high, low = (culture_a, culture_b) if effect.mean_a >= effect.mean_b else (culture_b, culture_a)
    hi_mean, lo_mean = max(effect.mean_a, effect.mean_b), min(effect.mean_a, effect.mean_b)
    stats = f"d={abs(effect.cohens_d):.1f}, Cliff's delta={abs(effect.cliffs_delta):.2f}"
    means = f"{hi_mean:.3g} vs {lo_mean:.3g}"
    subject = f"{_culture_words(high)} images"
    other = _culture_words(low)
    if info is not None and info.ratio and lo_mean > 0 and hi_mean / lo_mean >= 1.15:
        return (
            f"{subject} show {hi_mean / lo_mean:.1f}x more {phrase} than {other} "
            f"({means}; {stats})"
        )
    return f"{subject} have more {phrase} than {other} ({means}; {stats})"


def top_effects(effects: list[PairEffect], count: int = 3) -> list[PairEffect]:
    """Largest rank effects first; Cohen's d breaks ties."""
    return sorted(effects, key=lambda e: (-abs(e.cliffs_delta), -abs(e.cohens_d)))[:count]
