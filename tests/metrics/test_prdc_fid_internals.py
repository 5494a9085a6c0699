"""PRDC against a brute-force reference; FID's two exact forms agree; bootstrap is sane."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.image.fid import _compute_fid

from stylebridge.metrics import (
    bootstrap_interval,
    frechet_distance,
    frechet_distance_features,
    inception_score,
    prdc,
)
from stylebridge.metrics import prdc as prdc_function
from stylebridge.metrics.inception_score import effective_splits


def _brute_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Naeem et al. 2020 written out with full distance matrices."""

    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    real_r = np.sort(dist(real, real), axis=1)[:, k]
    fake_r = np.sort(dist(fake, fake), axis=1)[:, k]
    d = dist(real, fake)
    return {
        "precision": float((d < real_r[:, None]).any(axis=0).mean()),
        "recall": float((d < fake_r[None, :]).any(axis=1).mean()),
        "density": float((d < real_r[:, None]).sum(axis=0).mean() / k),
        "coverage": float((d.min(axis=1) < real_r).mean()),
    }


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_equals_brute_force(k):
    rng = np.random.default_rng(k)
    real = rng.normal(0, 1, (70, 6))
    fake = rng.normal(0.4, 1.2, (55, 6))
    ours = prdc(torch.from_numpy(real), torch.from_numpy(fake), k=k)
    assert ours == pytest.approx(_brute_prdc(real, fake, k), abs=1e-12)


def test_prdc_blocks_give_the_same_answer(monkeypatch):
    import importlib

    module = importlib.import_module("stylebridge.metrics.prdc")
    rng = np.random.default_rng(9)
    real, fake = (
        torch.from_numpy(rng.normal(size=(50, 4))),
        torch.from_numpy(rng.normal(size=(40, 4))),
    )
    whole = prdc_function(real, fake)
    monkeypatch.setattr(module, "BLOCK", 7)
    assert module.prdc(real, fake) == whole


def test_prdc_extremes():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(40, 5)))
    same = prdc(x, x.clone())
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = prdc(x, x + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    with pytest.raises(ValueError, match="nearest neighbours"):
        prdc(x[:5], x[:5], k=5)


@pytest.mark.parametrize("shape", [(60, 8), (30, 80)])  # more and fewer images than dims
def test_fid_forms_agree_with_reference_formula(shape):
    gen = torch.Generator().manual_seed(shape[0])
    x = torch.randn(*shape, generator=gen, dtype=torch.float64)
    y = torch.randn(*shape, generator=gen, dtype=torch.float64) * 1.5 + 0.3
    stats = frechet_distance(x.mean(0), torch.cov(x.T), y.mean(0), torch.cov(y.T))
    features = frechet_distance_features(x, y)
    reference = float(_compute_fid(x.mean(0), torch.cov(x.T), y.mean(0), torch.cov(y.T)))
    assert stats == pytest.approx(reference, rel=1e-6)
    assert features == pytest.approx(reference, rel=1e-6)
    assert frechet_distance_features(x, x) == pytest.approx(0.0, abs=1e-6)


def test_weighted_rows_equal_repeated_rows():
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(12, 20, generator=gen), torch.randn(15, 20, generator=gen)
    counts = torch.tensor([1, 3, 1, 2, 1, 1, 1, 4, 1, 1, 1, 2], dtype=torch.float64)
    repeated = x.repeat_interleave(counts.long(), dim=0)
    assert frechet_distance_features(x, y, counts, None) == pytest.approx(
        frechet_distance_features(repeated, y), rel=1e-7
    )


def test_bootstrap_interval_brackets_estimate_and_shrinks_with_more_images():
    gen = torch.Generator().manual_seed(2)
    widths = []
    for n in (40, 160):
        x = torch.randn(n, 16, generator=gen)
        y = torch.randn(n, 16, generator=gen) + 0.5
        low, high = bootstrap_interval(x, y, num=40, seed=0)
        assert low <= frechet_distance_features(x, y) <= high
        widths.append(high - low)
    assert widths[1] < widths[0]


def test_inception_score_bounds_and_splits():
    confident = torch.eye(10).repeat(5, 1) * 50  # every class equally often, each certain
    assert inception_score(confident, 1)[0] == pytest.approx(10.0, rel=1e-6)
    uniform = torch.zeros(40, 10)
    assert inception_score(uniform, 2) == pytest.approx((1.0, 0.0))
    assert effective_splits(40) == 1 and effective_splits(180) == 3 and effective_splits(5000) == 10
