"""Fixtures for the analysis tests: a private feature cache and generated corpora whose
differences are known (only saturation, or nothing at all)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import hsv_to_rgb
from PIL import Image

from ..conftest import CULTURES


@pytest.fixture(scope="session")
def culture_dir() -> Path:
    if not (CULTURES / "chinese_ink").is_dir() or not (CULTURES / "western_oil").is_dir():
        pytest.skip("the shared culture corpus (../shared/data/cultures) is not available")
    return CULTURES.resolve()


def _smooth(rng: np.random.Generator, size: int, cells: int = 4) -> np.ndarray:
    """A smooth random field in [0, 1]: a few random values upsampled bicubically."""
    small = (rng.random((cells, cells)) * 255).astype(np.uint8)
    big = Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(big, np.float32) / 255.0


def hsv_image(rng: np.random.Generator, size: int, saturation: float) -> np.ndarray:
    """Random hues and brightness with a few darker blobs; saturation around ``saturation``.

    Everything but the saturation level is drawn the same way for every corpus, so two corpora
    made with different saturation ranges differ in saturation only.
    """
    hue = (_smooth(rng, size) + rng.random()) % 1.0
    value = 0.35 + 0.6 * _smooth(rng, size, 5)
    yy, xx = np.mgrid[:size, :size]
    for _ in range(3):
        cy, cx, r = rng.integers(0, size, 2).tolist() + [int(rng.integers(2, size // 5))]
        value[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] *= 0.5
    sat = np.clip(saturation + 0.08 * (_smooth(rng, size) - 0.5), 0.0, 1.0)
    rgb = hsv_to_rgb(np.stack([hue, sat, value], -1))
    return (rgb * 255).round().astype(np.uint8)


def hsv_corpus(seed: int, count: int, low: float, high: float, size: int = 64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [hsv_image(rng, size, float(rng.uniform(low, high))) for _ in range(count)]


def write_corpus(folder: Path, images: list[np.ndarray], prefix: str = "img") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{prefix}_{i:03d}.png")
    return folder


@pytest.fixture(scope="session")
def saturation_corpora(tmp_path_factory) -> tuple[Path, Path]:
    """Two cultures of 24 images that differ only in their saturation range."""
    root = tmp_path_factory.mktemp("saturation")
    muted = write_corpus(root / "muted", hsv_corpus(1, 24, 0.15, 0.45))
    vivid = write_corpus(root / "vivid", hsv_corpus(2, 24, 0.40, 0.70))
    return muted, vivid
