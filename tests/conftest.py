"""Shared fixtures: synthetic image domains, tiny model folders, the shared culture corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

CULTURES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cultures"

TINY = ["model.ngf=8", "model.n_blocks=2", "model.ndf=16"]


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    """One cache for the session, so the Lite0 weights are converted once, features reused,
    and no test writes into the user's cache."""
    return tmp_path_factory.mktemp("stylebridge_cache")


@pytest.fixture(autouse=True)
def _cache_env(monkeypatch, session_cache):
    monkeypatch.setenv("STYLEBRIDGE_CACHE_DIR", str(session_cache))


@pytest.fixture
def one_thread():
    """Tiny models gain nothing from threads, and lose 5x when other jobs share the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def cultures() -> Path:
    if not (CULTURES / "photo").is_dir():
        pytest.skip("the shared culture corpus (../shared/data/cultures) is not available")
    return CULTURES


def shapes_image(rng: np.random.Generator, size: int, hue: str) -> Image.Image:
    """Random rectangles and discs on grey; ``hue`` red or blue is the property to translate."""
    img = np.full((size, size, 3), 128, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    for _ in range(3):
        strength = rng.integers(150, 255)
        colour = (strength, 40, 40) if hue == "red" else (40, 40, strength)
        cy, cx, r = rng.integers(4, size - 4, 2).tolist() + [int(rng.integers(3, size // 4))]
        if rng.random() < 0.5:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        else:
            mask = (abs(yy - cy) < r) & (abs(xx - cx) < r)
        img[mask] = colour
    return Image.fromarray(img)


def make_domain(folder: Path, hue: str, count: int, size: int = 40, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        shapes_image(rng, size, hue).save(folder / f"{hue}_{i:03d}.png")
    return folder


@pytest.fixture(scope="session")
def domains(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("domains")
    return make_domain(root / "red", "red", 24, seed=1), make_domain(
        root / "blue", "blue", 24, seed=2
    )


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, domains) -> Path:
    """A CycleGAN run folder after a few steps: enough for loading and stylizing tests."""
    from stylebridge import api

    out = tmp_path_factory.mktemp("runs") / "tiny"
    torch.manual_seed(0)
    return api.train(
        "cyclegan",
        domain_a=str(domains[0]),
        domain_b=str(domains[1]),
        out=str(out),
        size=32,
        steps=4,
        sample_every=2,
        checkpoint_every=2,
        overrides=TINY,
    )
