"""Colour preservation: the stylized image's luminance with the input photo's colours."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..errors import ConfigError

# BT.601 luma weights, as in JPEG's full-range YCbCr (what PIL's "YCbCr" mode uses)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def preserve_color(content: Image.Image, stylized: Image.Image) -> Image.Image:
    """Y of ``stylized`` with Cb/Cr of ``content`` (same size, RGB).

    In YCbCr the luma adds equally to R, G and B, so the result is ``Y_s + (content - Y_c)``.
    Where that leaves the RGB gamut the chroma offset is shrunk per pixel (not clipped per
    channel), which keeps the luminance and hue exact and gives up only saturation.
    """
    if content.size != stylized.size:
        sizes = f"{content.size} and {stylized.size}"
        raise ConfigError(f"preserve_color needs images of one size, got {sizes}")
    rgb_c = np.asarray(content.convert("RGB"), np.float32)
    rgb_s = np.asarray(stylized.convert("RGB"), np.float32)
    luma_s = (rgb_s @ LUMA)[..., None]
    chroma = rgb_c - (rgb_c @ LUMA)[..., None]  # per-channel offsets; their luma is 0
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(
            chroma > 0, (255.0 - luma_s) / chroma, np.where(chroma < 0, -luma_s / chroma, np.inf)
        )
    scale = np.clip(room.min(axis=-1, keepdims=True), 0.0, 1.0)
    out = luma_s + scale * chroma
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")
