"""Filling damaged regions: the learned inpainter, or the classical Telea and biharmonic fills.

A mask is white (or any non-zero value) where the image is missing. It must have the image's
size and mark some but not all of it; an all-white mask leaves nothing to inpaint from.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
from PIL import Image

from ..errors import ConfigError, ImageError
from ..imageio import LoadedImage, load_image
from .runner import Restorer

METHODS = ("model", "telea", "biharmonic")


def load_mask(mask, size: tuple[int, int], name: str = "mask") -> np.ndarray:
    """A mask file, PIL image or array -> bool HxW (True = missing), checked against ``size``."""
    path = name
    if isinstance(mask, (str, os.PathLike)):
        path = str(mask)
        loaded = load_image(mask)
        values = np.asarray(loaded.rgb.convert("L"))
        if loaded.alpha is not None:  # a transparent PNG: the painted (opaque) part is the mask
            values = np.maximum(values, np.asarray(loaded.alpha)) * (np.asarray(loaded.alpha) > 0)
    elif isinstance(mask, Image.Image):
        values = np.asarray(mask.convert("L"))
    else:
        values = np.asarray(mask)
        values = values if values.ndim == 2 else values[..., 0]
    if (values.shape[1], values.shape[0]) != tuple(size):
        raise ImageError(
            path,
            f"mask is {values.shape[1]}x{values.shape[0]} px but the image is "
            f"{size[0]}x{size[1]} px; they must match",
        )
    holes = values > (127 if values.dtype == np.uint8 else 0.5)
    if not holes.any():
        raise ImageError(path, "mask is empty (all black): nothing to inpaint")
    if holes.all():
        raise ImageError(path, "mask is all white: nothing is left to inpaint from")
    return holes


def inpaint_image(
    loaded: LoadedImage,
    holes: np.ndarray,
    *,
    method: str = "model",
    restorer: Restorer | None = None,
    tile: int = 512,
) -> Image.Image:
    """The image with ``holes`` filled; pixels outside the holes are the input's, bit for bit."""
    pixels = np.asarray(loaded.rgb)
    if method == "telea":
        radius = max(3, int(round(min(pixels.shape[:2]) / 100)))
        out = cv2.inpaint(pixels, holes.astype(np.uint8) * 255, radius, cv2.INPAINT_TELEA)
    elif method == "biharmonic":
        from skimage.restoration import inpaint_biharmonic

        filled = inpaint_biharmonic(pixels, holes, channel_axis=-1)
        out = np.clip(filled * 255 + 0.5, 0, 255).astype(np.uint8)
    elif method == "model":
        if restorer is None:
            raise ConfigError("the model method needs an inpainting model")
        rgba = np.dstack([pixels, holes.astype(np.uint8) * 255])
        out = restorer.run(rgba, tile=tile, path=loaded.path)
    else:
        raise ConfigError(f"unknown inpainting method {method!r}; use one of {', '.join(METHODS)}")
    out = np.where(holes[..., None], out, pixels)
    result = Image.fromarray(out.astype(np.uint8), "RGB")
    if loaded.alpha is not None:
        result.putalpha(loaded.alpha)
    return result
