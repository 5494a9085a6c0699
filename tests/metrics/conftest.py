"""Fixtures for the metrics tests: sample photos and small image folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ..conftest import CULTURES


@pytest.fixture(scope="session")
def culture_dir() -> Path:
    if not (CULTURES / "photo").is_dir() or not (CULTURES / "ukiyoe").is_dir():
        pytest.skip("the shared culture corpus (../shared/data/cultures) is not available")
    return CULTURES.resolve()


@pytest.fixture(scope="session")
def lite0(session_cache):
    from stylebridge.metrics import build_extractor

    return build_extractor("lite0", device="cpu", cache=session_cache)


def write_images(folder: Path, arrays, names=None, suffix: str = ".png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, arr in enumerate(arrays):
        name = names[i] if names else f"img_{i:03d}"
        Image.fromarray(arr).save(folder / f"{name}{suffix}")
    return folder


def blobs(rng: np.random.Generator, count: int, size: int, hue: int) -> list[np.ndarray]:
    """Smooth random colour fields, tinted towards channel ``hue``: two separable sets."""
    out = []
    for _ in range(count):
        small = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
        small[..., hue] = np.maximum(small[..., hue], 180)
        big = Image.fromarray(small).resize((size, size), Image.BICUBIC)
        out.append(np.asarray(big))
    return out
