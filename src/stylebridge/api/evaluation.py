"""Image-set metrics and GAN sampling."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..inference.generate import generate_files
from ..metrics import SetOptions
from ..metrics import evaluate as _evaluate

__all__ = ["evaluate", "evaluation_options", "generate"]


def evaluate(*args, **kwargs) -> dict[str, Any]:
    """Image-set metrics (FID/KID/IS (lite0), PRDC, SSIM/PSNR); see ``stylebridge.metrics``."""
    return _evaluate(*args, **kwargs)


def evaluation_options(**values: Any) -> SetOptions:
    """A ``metrics.SetOptions`` for ``evaluate(options=...)`` (kid_subsets, seed, ...)."""
    return SetOptions(**values)


def generate(
    run_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    num: int = 64,
    seed: int = 0,
    truncation: float = 1.0,
    grid: bool = True,
    interpolation_frames: int = 0,
    style_mixing: bool = False,
    device: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
):
    """Write ``num`` images of a GAN run (dcgan ... stylegan2) into ``out`` (docs/gans.md).

    Args:
        seed: latent seed; image ``i`` of a seed is the same whatever ``num``.
        truncation: 1 samples the full prior; lower values pull latents (StyleGAN2: styles)
            towards the mean, trading variety for typical-looking images.
        grid: also write ``grid.png``.
        interpolation_frames: frames of a looping latent walk, ``interpolation.gif``; 0 = none.
        style_mixing: also write ``style_mixing.png`` (stylegan2 runs).
        overwrite: replace existing files in ``out``; without it they are refused before any
            work (the run's own files never).

    Returns a ``GenerateResult`` (``files``, ``grid``, ``extras``).
    """
    return generate_files(
        run_dir,
        out,
        count=num,
        seed=seed,
        truncation=truncation,
        grid=grid,
        interpolation_frames=interpolation_frames,
        style_mixing=style_mixing,
        device=device,
        progress=progress,
        overwrite=overwrite,
    )
