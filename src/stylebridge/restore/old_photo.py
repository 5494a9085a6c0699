"""The old-photo chain: scratches found and filled, then noise removed, then upscaled.

Each stage's image is kept (and written by the caller), so a user sees what every step did
and can restart from any of them with the single-task commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..imageio import LoadedImage
from .denoise import denoise_image
from .inpaint import inpaint_image
from .runner import Restorer
from .scratches import detect_scratches
from .upscale import upscale_image

STAGES = ("scratches", "inpainted", "denoised", "upscaled")


@dataclass
class OldPhotoResult:
    stages: dict[str, Image.Image] = field(default_factory=dict)  # in STAGES order
    scratch_fraction: float = 0.0
    noise_level: float = 0.0


def restore_old_photo(
    loaded: LoadedImage,
    *,
    inpainter: Restorer | None,
    denoiser: Restorer | None,
    upscaler: Restorer | None,
    sensitivity: float = 1.0,
    strength: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> OldPhotoResult:
    """Run the stages whose model is given (``None`` skips a stage; the scratch mask is
    always made, and inpainting runs when it found any)."""
    result = OldPhotoResult()
    pixels = np.asarray(loaded.rgb)
    holes = detect_scratches(pixels, sensitivity=sensitivity)
    result.scratch_fraction = float(holes.mean())
    result.stages["scratches"] = Image.fromarray((holes * 255).astype(np.uint8), "L")
    current = loaded
    if inpainter is not None and holes.any() and not holes.all():
        filled = inpaint_image(current, holes, method="model", restorer=inpainter)
        result.stages["inpainted"] = filled
        current = LoadedImage(rgb=filled.convert("RGB"), alpha=loaded.alpha, path=loaded.path)
        if progress:
            progress("inpainted")
    if denoiser is not None:
        cleaned, result.noise_level = denoise_image(current, denoiser, strength=strength)
        result.stages["denoised"] = cleaned
        current = LoadedImage(rgb=cleaned.convert("RGB"), alpha=loaded.alpha, path=loaded.path)
        if progress:
            progress("denoised")
    if upscaler is not None:
        result.stages["upscaled"] = upscale_image(current, upscaler)
        if progress:
            progress("upscaled")
    return result
