"""Blind denoising: the noise level is estimated from the image, then removed by the network.

The estimate is the median absolute deviation of the finest diagonal Haar details (Donoho and
Johnstone 1994), which image edges barely touch; ``strength`` scales the level the network is
told, so 0.5 cleans gently and 1.5 harder, and ``sigma`` sets it outright.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..errors import ConfigError
from ..imageio import LoadedImage
from .runner import Restorer


def estimate_noise(pixels: np.ndarray) -> float:
    """Gaussian-equivalent noise level (0-255 units) of a uint8 HxWx3 image."""
    x = pixels.astype(np.float32)
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return 0.0
    x = x[:h, :w]
    diagonal = (x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]) / 2
    return float(np.median(np.abs(diagonal)) / 0.6745)


def denoise_image(
    loaded: LoadedImage,
    restorer: Restorer,
    *,
    strength: float = 1.0,
    sigma: float | None = None,
    tile: int = 512,
    ensemble: bool = False,
) -> tuple[Image.Image, float]:
    """The cleaned image and the noise level used (``ensemble``: see ``Restorer.run``)."""
    if not 0 <= strength <= 4:
        raise ConfigError(f"strength must be within [0, 4], got {strength}")
    if sigma is not None and not 0 <= sigma <= 255:
        raise ConfigError(f"sigma must be within [0, 255], got {sigma}")
    pixels = np.asarray(loaded.rgb)
    level = (estimate_noise(pixels) if sigma is None else sigma) * strength
    out = restorer.run(pixels, tile=tile, path=loaded.path, sigma=level, ensemble=ensemble)
    result = Image.fromarray(out, "RGB")
    if loaded.alpha is not None:
        result.putalpha(loaded.alpha)
    return result, level
