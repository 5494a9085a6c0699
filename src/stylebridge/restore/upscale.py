"""Super-resolution of whole images: x2 or x4 through the tiler, alpha and limits handled."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..errors import ConfigError, ImageError
from ..imageio import LoadedImage, max_pixels_limit
from .runner import Restorer

SCALES = (2, 4)


def check_scale(scale: int) -> int:
    if scale not in SCALES:
        raise ConfigError(f"scale must be 2 or 4, got {scale}")
    return scale


def upscale_image(
    loaded: LoadedImage, restorer: Restorer, *, tile: int = 512, ensemble: bool = False
) -> Image.Image:
    """The image ``restorer.output_scale`` times larger. Alpha is upscaled bicubically beside it; an
    output past the pixel limit (``STYLEBRIDGE_MAX_PIXELS``) is refused before any work."""
    w, h = loaded.rgb.size
    s = restorer.output_scale
    limit = max_pixels_limit()
    work = max(s, restorer.scale)  # x2 through the x4 model passes through x4
    if w * h * work * work > limit:
        raise ImageError(
            loaded.path,
            f"{w}x{h} px upscaled x{work} would be {w * work}x{h * work} = "
            f"{w * h * work * work / 1e6:.0f} MP, "
            f"over the {limit / 1e6:.0f} MP output limit; crop it or use a smaller scale",
        )
    out = restorer.run(np.asarray(loaded.rgb), tile=tile, path=loaded.path, ensemble=ensemble)
    result = Image.fromarray(out, "RGB")
    if restorer.scale != s:
        result = result.resize((w * s, h * s), Image.Resampling.LANCZOS)
    if loaded.alpha is not None:
        result.putalpha(loaded.alpha.resize(result.size, Image.Resampling.BICUBIC))
    return result
