"""How visible the wrap-around seam of a pattern is when it is tiled.

Tiling puts the last column next to the first (and the last row above the first). For a seamless
pattern the jump across that seam is no larger than the jump between any two neighbouring
columns inside the image, so the ratio of the two gradient energies is about 1; a crop cut from a
larger picture has unrelated pixels on either side of its seam and a ratio well above 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class SeamScore:
    """Seam gradient energy over the mean interior one, per direction."""

    horizontal: float  # the seam between the last and the first column
    vertical: float  # the seam between the last and the first row

    @property
    def ratio(self) -> float:
        """The worse of the two directions."""
        return max(self.horizontal, self.vertical)


def _ratio(pixels: np.ndarray) -> float:
    """Columns of ``pixels`` (H, W, C): wrap-seam energy / mean energy between interior columns."""
    interior = np.square(np.diff(pixels, axis=1)).sum(-1).mean(0)  # one value per boundary
    seam = np.square(pixels[:, 0] - pixels[:, -1]).sum(-1).mean()
    return float(seam / max(interior.mean(), 1e-12))


def seam_score(image: Image.Image | np.ndarray) -> SeamScore:
    """Seam ratios of an RGB image (PIL or HxWx3 array); needs at least 3 px per side."""
    pixels = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
    pixels = pixels.astype(np.float64) / 255.0
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if min(pixels.shape[:2]) < 3:
        raise ValueError(f"image of {pixels.shape[1]}x{pixels.shape[0]} px is too small")
    return SeamScore(_ratio(pixels), _ratio(pixels.transpose(1, 0, 2)))


def tile_preview(image: Image.Image, repeat: int = 2) -> Image.Image:
    """``repeat`` x ``repeat`` copies side by side: seams, if any, run through the middle."""
    tiled = Image.new("RGB", (image.width * repeat, image.height * repeat))
    for row in range(repeat):
        for col in range(repeat):
            tiled.paste(image.convert("RGB"), (col * image.width, row * image.height))
    return tiled
