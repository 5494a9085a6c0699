"""Restoration: upscale, denoise, inpaint and the old-photo chain, for files or in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from .. import restore
from ..data import expand_inputs
from ..errors import ConfigError
from ..fileio import check_outputs
from ..imageio import as_loaded, load_image, save_image
from ..inference import StylizeResult

__all__ = [
    "denoise",
    "detect_scratches",
    "inpaint",
    "restore_files",
    "restore_old_photo",
    "upscale",
]

ModelArg = str | os.PathLike | None


def upscale(
    image, *, scale: int = 4, model: ModelArg = None, tile: int = 512, gan: bool = False
) -> Image.Image:
    """``image`` (path, PIL image or uint8 array) ``scale`` times larger with the bundled
    super-resolution model of that scale, or ``model`` (a srresnet/srgan run folder). ``gan``:
    the bundled GAN model, sharper texture that is invented, about 1 dB lower PSNR."""
    restore.check_scale(scale)
    restorer = restore.Restorer("super-resolution", model, scale=scale, gan=gan)
    return restore.upscale_image(as_loaded(image), restorer, tile=tile)


def denoise(
    image, *, strength: float = 1.0, sigma: float | None = None, model: ModelArg = None
) -> Image.Image:
    """Remove noise; its level is estimated unless ``sigma`` (0-255 units) is given, and
    ``strength`` scales it (below 1 keeps more grain, above 1 smooths more)."""
    restorer = restore.Restorer("denoising", model)
    return restore.denoise_image(as_loaded(image), restorer, strength=strength, sigma=sigma)[0]


def inpaint(image, mask, *, method: str = "model", model: ModelArg = None) -> Image.Image:
    """Fill the white parts of ``mask`` (a file, PIL image or array of the image's size) with
    the bundled inpainting model, or the classical ``telea`` / ``biharmonic`` fills."""
    loaded = as_loaded(image)
    holes = restore.load_mask(mask, loaded.rgb.size)
    restorer = restore.Restorer("inpainting", model) if method == "model" else None
    return restore.inpaint_image(loaded, holes, method=method, restorer=restorer)


def detect_scratches(image, *, sensitivity: float = 1.0) -> Image.Image:
    """A white-on-black mask of the thin scratches and cracks found in ``image``."""
    holes = restore.detect_scratches(np.asarray(as_loaded(image).rgb), sensitivity=sensitivity)
    return Image.fromarray((holes * 255).astype(np.uint8), "L")


def restore_files(
    task: str,
    inputs,
    out: str | os.PathLike,
    *,
    scale: int = 4,
    strength: float = 1.0,
    sigma: float | None = None,
    mask=None,
    auto_mask: str | None = None,
    sensitivity: float = 1.0,
    method: str = "model",
    model: ModelArg = None,
    tile: int = 512,
    ensemble: bool = False,
    overwrite: bool = False,
    gan: bool = False,
) -> Iterator[StylizeResult]:
    """``task`` (upscale | denoise | inpaint) over files and folders into ``out``; one result
    per input, a bad file reported and skipped. Inpainting takes ``mask`` (one file for a
    single input) or ``auto_mask="scratches"``. ``ensemble`` (upscale, denoise): average the
    network over the input's eight rotations and mirror images, 8x the time for a little more
    PSNR. ``gan`` (upscale): the bundled GAN model instead of the PSNR one."""
    if gan and task != "upscale":
        raise ConfigError(f"gan applies to upscale, not {task}")
    if ensemble and task == "inpaint":
        raise ConfigError("ensemble applies to upscale and denoise, not inpaint")
    if task == "upscale":
        restorer = restore.Restorer(
            "super-resolution", model, scale=restore.check_scale(scale), gan=gan
        )

        def work(loaded):
            return restore.upscale_image(loaded, restorer, tile=tile, ensemble=ensemble)

        suffix = f"_x{scale}"
    elif task == "denoise":
        restorer = restore.Restorer("denoising", model)

        def work(loaded):
            return restore.denoise_image(
                loaded, restorer, strength=strength, sigma=sigma, tile=tile, ensemble=ensemble
            )[0]

        suffix = "_denoised"
    elif task == "inpaint":
        if (mask is None) == (auto_mask is None):
            raise ConfigError("give either --mask MASK or --auto-mask scratches")
        if auto_mask not in (None, "scratches"):
            raise ConfigError(f"unknown --auto-mask {auto_mask!r}; the one kind is: scratches")
        if mask is not None and len(expand_inputs(inputs)) != 1:
            raise ConfigError("--mask fits one image; use --auto-mask scratches for a folder")
        restorer = restore.Restorer("inpainting", model) if method == "model" else None

        def work(loaded):
            if mask is not None:
                holes = restore.load_mask(mask, loaded.rgb.size)
            else:
                holes = restore.detect_scratches(np.asarray(loaded.rgb), sensitivity=sensitivity)
                if not holes.any():
                    return loaded.rgb if loaded.alpha is None else _with_alpha(loaded)
            return restore.inpaint_image(loaded, holes, method=method, restorer=restorer, tile=tile)

        suffix = "_inpainted"
    else:
        raise ConfigError(f"unknown restoration task {task!r}; use upscale, denoise or inpaint")
    protect = [mask] if isinstance(mask, (str, os.PathLike)) else []
    yield from restore.restore_files(
        inputs, out, work, suffix=suffix, overwrite=overwrite, protect=protect
    )


def _with_alpha(loaded) -> Image.Image:
    out = loaded.rgb.copy()
    out.putalpha(loaded.alpha)
    return out


def restore_old_photo(
    photo: str | os.PathLike,
    out: str | os.PathLike,
    *,
    scale: int | None = 4,
    strength: float = 1.0,
    sensitivity: float = 1.0,
    overwrite: bool = False,
    progress=None,
) -> dict[str, Path]:
    """Scratches -> inpainting -> denoising -> upscaling, each stage written into the folder
    ``out`` as ``<photo>_<n>_<stage>.png``; ``scale=None`` skips the upscale. Returns stage ->
    file."""
    photo = Path(photo)
    out = Path(out)
    stages = list(restore.STAGES if scale else restore.STAGES[:-1])
    targets = {s: out / f"{photo.stem}_{i}_{s}.png" for i, s in enumerate(stages, 1)}
    check_outputs(targets.values(), [photo], overwrite=overwrite)
    loaded = load_image(photo)
    result = restore.restore_old_photo(
        loaded,
        inpainter=restore.Restorer("inpainting"),
        denoiser=restore.Restorer("denoising"),
        upscaler=restore.Restorer("super-resolution", scale=restore.check_scale(scale))
        if scale
        else None,
        sensitivity=sensitivity,
        strength=strength,
        progress=progress,
    )
    written = {}
    for stage, image in result.stages.items():
        written[stage] = save_image(image, targets[stage], replace=overwrite)
    return written
