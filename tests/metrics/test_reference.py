"""FID, KID and IS agree with torchmetrics on the same features (1e-4 relative).

torchmetrics takes our extractor as its feature module, so both sides see identical inputs;
what is compared is the statistics and the metric formulas.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance, poly_mmd

from stylebridge.metrics import (
    KEY_FID,
    KEY_KID,
    SetOptions,
    build_extractor,
    evaluate,
    inception_score,
    kid,
    mmd_unbiased,
)
from stylebridge.metrics.folders import list_images, resized_pixels, to_batch

from .conftest import blobs, write_images

REL = 1e-4
kid_module = importlib.import_module("stylebridge.metrics.kid")  # the package exports kid()


class Adapter(torch.nn.Module):
    """torchmetrics feature module: uint8 NCHW in, our features (or logits) out."""

    def __init__(self, extractor, logits: bool = False):
        super().__init__()
        self.extractor = extractor
        self.logits = logits
        self.num_features = extractor.num_classes if logits else extractor.num_features

        self.memo: dict[bytes, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = x.numpy().tobytes()  # FID and KID see the same batches: run the network once
        if key not in self.memo:
            with torch.inference_mode():
                features, logits = self.extractor(x.float())
            self.memo[key] = (logits if self.logits else features).double()
        return self.memo[key]


def _pixels(folder, size) -> torch.Tensor:
    """The exact uint8 inputs our folder pipeline feeds the extractor."""
    return to_batch([resized_pixels(p, size) for p in list_images(folder)]).to(torch.uint8)


def _reference_fid_kid(extractor, real, fake, n):
    adapter = Adapter(extractor)
    fid = FrechetInceptionDistance(feature=adapter, normalize=False)
    kid_ref = KernelInceptionDistance(feature=adapter, subsets=1, subset_size=n)
    for metric in (fid, kid_ref):
        metric.update(real, real=True)
        metric.update(fake, real=False)
    return float(fid.compute()), float(kid_ref.compute()[0])


@pytest.fixture(scope="module")
def noise_sets(tmp_path_factory):
    """200 vs 200 full-rank 8x8 noise images: more images than pixel-feature dimensions (192)."""
    root = tmp_path_factory.mktemp("noise")
    rng = np.random.default_rng(0)
    a = [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(200)]
    b = [np.clip(rng.normal(110, 50, (8, 8, 3)), 0, 255).astype(np.uint8) for _ in range(200)]
    return write_images(root / "a", a), write_images(root / "b", b)


def test_fid_kid_match_torchmetrics_more_images_than_dims(noise_sets):
    real, fake = noise_sets
    n = 200
    ours = evaluate(
        real,
        fake,
        metrics="fid,kid",
        features="pixel",
        cache=False,
        options=SetOptions(kid_subsets=1, kid_subset_size=n, fid_bootstrap=0),
    )
    extractor = build_extractor("pixel", device="cpu")
    ref_fid, ref_kid = _reference_fid_kid(extractor, _pixels(real, 8), _pixels(fake, 8), n)
    assert ours[KEY_FID] == pytest.approx(ref_fid, rel=REL)
    assert ours[KEY_KID] == pytest.approx(ref_kid, rel=REL)
    assert ref_fid > 1.0  # a real difference, not two zeros agreeing


@pytest.mark.slow
def test_fid_kid_match_torchmetrics_lite0_fewer_images_than_dims(tmp_path, lite0):
    rng = np.random.default_rng(1)
    real = write_images(tmp_path / "real", blobs(rng, 12, 48, hue=0))
    fake = write_images(tmp_path / "fake", blobs(rng, 12, 48, hue=2))
    ours = evaluate(
        real,
        fake,
        metrics="fid,kid",
        features="lite0",
        device="cpu",
        cache=False,
        options=SetOptions(kid_subsets=1, kid_subset_size=12, fid_bootstrap=0),
    )
    ref_fid, ref_kid = _reference_fid_kid(lite0, _pixels(real, 224), _pixels(fake, 224), 12)
    assert ours[KEY_FID] == pytest.approx(ref_fid, rel=REL)
    assert ours[KEY_KID] == pytest.approx(ref_kid, rel=REL)


def test_mmd_matches_poly_mmd_on_random_subsets():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(200, 64, generator=gen, dtype=torch.float64)
    y = torch.randn(150, 64, generator=gen, dtype=torch.float64) * 1.3 + 0.2
    for size in (10, 50, 150):
        i, j = torch.randperm(200, generator=gen)[:size], torch.randperm(150, generator=gen)[:size]
        ref = float(poly_mmd(x[i], y[j], degree=3, gamma=None, coef=1.0))
        assert mmd_unbiased(x[i], y[j]) == pytest.approx(ref, rel=REL)


def test_kid_precomputed_kernels_equal_per_subset_kernels(monkeypatch):
    gen = torch.Generator().manual_seed(4)
    x, y = torch.randn(120, 32, generator=gen), torch.randn(90, 32, generator=gen) + 0.3
    full = kid(x, y, num_subsets=20, subset_size=40, seed=7)
    monkeypatch.setattr(kid_module, "PRECOMPUTE_LIMIT", 0)
    per_subset = kid_module.kid(x, y, num_subsets=20, subset_size=40, seed=7)
    assert full == pytest.approx(per_subset, rel=1e-9)
    assert full[1] > 0  # subsets really differ


@pytest.mark.parametrize("splits", [1, 4])
def test_inception_score_matches_torchmetrics(splits, lite0):
    rng = np.random.default_rng(5)
    images = torch.from_numpy(np.stack(blobs(rng, 24, 224, hue=1))).permute(0, 3, 1, 2)
    images[12:] = torch.from_numpy(np.stack(blobs(rng, 12, 224, hue=0))).permute(0, 3, 1, 2)
    reference = InceptionScore(feature=Adapter(lite0, logits=True), splits=splits)
    reference.update(images)
    torch.manual_seed(11)
    ref_mean, ref_std = (float(v) for v in reference.compute())
    torch.manual_seed(11)
    order = torch.randperm(24)  # torchmetrics shuffles before splitting; we do not
    with torch.inference_mode():
        logits = lite0(images.float())[1][order]
    mean, std = inception_score(logits, splits)
    assert mean == pytest.approx(ref_mean, rel=REL)
    if splits > 1:  # torchmetrics reports the ddof=1 std, the original code ddof=0
        assert std * np.sqrt(splits / (splits - 1)) == pytest.approx(ref_std, rel=REL)


def test_evaluate_is_uses_the_extractor_logits(tmp_path, lite0):
    rng = np.random.default_rng(6)
    real = write_images(tmp_path / "real", blobs(rng, 6, 32, hue=0))
    fake = write_images(tmp_path / "fake", blobs(rng, 6, 32, hue=2))
    result = evaluate(real, fake, metrics=["is"], device="cpu", cache=False)
    with torch.inference_mode():
        logits = lite0(_pixels(fake, 224).float())[1]
    assert result["is"] == pytest.approx(inception_score(logits, 1)[0], rel=1e-6)
