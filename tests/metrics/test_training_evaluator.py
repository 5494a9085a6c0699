"""training_evaluator: loads once, scores a translate function, returns hierarchical keys."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylebridge.errors import ConfigError
from stylebridge.metrics import training_evaluator

from .conftest import blobs, write_images


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    root = tmp_path_factory.mktemp("domains")
    rng = np.random.default_rng(0)
    red = write_images(root / "red", blobs(rng, 24, 48, hue=0))
    blue = write_images(root / "blue", blobs(rng, 24, 48, hue=2))
    return red, blue


def red_to_blue(batch: torch.Tensor) -> torch.Tensor:
    """A perfect 'translation' for these synthetic domains: swap the red and blue channels."""
    return batch.flip(1)


def test_good_translation_scores_better_than_identity(domains):
    red, blue = domains
    evaluator = training_evaluator(
        red, blue, size=32, features="pixel", max_images=20, metrics=("kid", "fid", "prdc")
    )
    identity = evaluator(lambda batch: batch)
    swapped = evaluator(red_to_blue)
    assert set(identity) == {
        "metric/kid_pixel",
        "metric/kid_pixel_std",
        "metric/fid_pixel",
        "metric/precision_pixel",
        "metric/recall_pixel",
        "metric/density_pixel",
        "metric/coverage_pixel",
    }
    assert swapped["metric/kid_pixel"] < identity["metric/kid_pixel"]
    assert swapped["metric/fid_pixel"] < identity["metric/fid_pixel"]
    assert all(isinstance(v, float) for v in swapped.values())


def test_translate_receives_cropped_batches_in_range(domains):
    red, blue = domains
    seen = []

    def spy(batch):
        seen.append(batch.clone())
        return batch

    evaluator = training_evaluator(
        red, blue, size=40, features="pixel", max_images=10, batch_size=4
    )
    result = evaluator(spy)
    assert [b.shape[0] for b in seen] == [4, 4, 2]
    assert all(b.shape[1:] == (3, 40, 40) and b.min() >= -1 and b.max() <= 1 for b in seen)
    assert set(result) == {"metric/kid_pixel", "metric/kid_pixel_std"}
    again = []
    evaluator(lambda b: again.append(b) or b)
    assert torch.equal(torch.cat(seen), torch.cat(again))  # the same fixed source images


def test_default_lite0_evaluator(domains):
    red, blue = domains
    evaluator = training_evaluator(red, blue, size=32, max_images=8, device="cpu")
    result = evaluator(red_to_blue)
    assert set(result) == {"metric/kid_lite0", "metric/kid_lite0_std"}


def test_bad_uses_are_refused(domains):
    red, blue = domains
    with pytest.raises(ConfigError, match="supports"):
        training_evaluator(red, blue, features="pixel", metrics=("ssim",))
    evaluator = training_evaluator(red, blue, size=32, features="pixel", max_images=4)
    with pytest.raises(ConfigError, match="translate returned shape"):
        evaluator(lambda batch: batch[:, :, :16])
