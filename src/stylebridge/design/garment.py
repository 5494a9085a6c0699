"""Restyle only a garment: stylize the masked region and blend it back with feathered edges."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ConfigError
from ..imageio import as_loaded, save_image
from ..inference import Stylizer
from .masks import auto_mask, check_strength, feather, load_mask, overlay

CONTEXT_PX = 32  # stylize a little beyond the mask so the network sees the garment's surroundings


def default_feather(size: tuple[int, int]) -> float:
    """Feather radius: 1.5% of the shorter side, at least 2 px."""
    return max(2.0, 0.015 * min(size))


def garment_mask(
    image, mask: str | os.PathLike | np.ndarray | None = None, auto: bool = False
) -> np.ndarray:
    """The garment weights for ``image`` from a mask file or array, or found automatically."""
    loaded = as_loaded(image)
    if (mask is None) == (not auto):
        raise ConfigError("give either a mask (--mask MASK.png) or auto-mask (--auto-mask)")
    if auto:
        return auto_mask(loaded).mask
    if isinstance(mask, np.ndarray):
        if mask.shape[:2] != (loaded.rgb.height, loaded.rgb.width):
            raise ConfigError(
                f"mask array is {mask.shape[1]}x{mask.shape[0]} but the photo is "
                f"{loaded.rgb.width}x{loaded.rgb.height}"
            )
        return np.clip(mask.astype(np.float32), 0, 1)
    return load_mask(mask, loaded.rgb.size)


def _box(weights: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(weights > 0)
    if not len(ys):
        raise ConfigError("the garment mask is empty")
    h, w = weights.shape
    return (
        max(0, xs.min() - margin),
        max(0, ys.min() - margin),
        min(w, xs.max() + 1 + margin),
        min(h, ys.max() + 1 + margin),
    )


def stylize_masked(
    stylizer: Stylizer, image, weights: np.ndarray, *, strength: float = 1.0, **options
) -> Image.Image:
    """Stylize the box around the mask and blend: ``out = in + strength * w * (styled - in)``.

    Pixels whose weight is 0 are returned unchanged, bit for bit.
    """
    check_strength(strength)
    loaded = as_loaded(image)
    x0, y0, x1, y1 = _box(weights, CONTEXT_PX)
    crop = loaded.rgb.crop((x0, y0, x1, y1))
    styled = np.asarray(stylizer.stylize(crop, **options).convert("RGB"), np.float32)
    source = np.asarray(loaded.rgb, np.float32)
    region = source[y0:y1, x0:x1]
    w = (strength * weights[y0:y1, x0:x1])[..., None]
    blended = source.copy()
    blended[y0:y1, x0:x1] = region + w * (styled - region)
    result = Image.fromarray(np.clip(np.rint(blended), 0, 255).astype(np.uint8), "RGB")
    if loaded.alpha is not None:
        result.putalpha(loaded.alpha)
    return result


@dataclass
class GarmentResult:
    """The restyled photo, the weights used, the overlay, and the files written (if any)."""

    image: Image.Image
    weights: np.ndarray
    overlay: Image.Image
    files: dict[str, Path] = field(default_factory=dict)


def restyle_garment(
    stylizer: Stylizer,
    image,
    *,
    mask=None,
    auto: bool = False,
    strength: float = 1.0,
    feather_px: float | None = None,
    **options,
) -> GarmentResult:
    """Mask (file, array or automatic), feather, stylize and blend one photo."""
    loaded = as_loaded(image)
    raw = garment_mask(loaded, mask, auto)
    radius = default_feather(loaded.rgb.size) if feather_px is None else feather_px
    weights = feather(raw, radius)
    result = stylize_masked(stylizer, loaded, weights, strength=strength, **options)
    return GarmentResult(result, weights, overlay(loaded, raw))


def garment_files(out: str | os.PathLike, stem: str, style: str) -> dict[str, Path]:
    """What ``save_garment`` writes, known before any work so it can be checked first."""
    out = Path(out)
    return {
        "image": out / f"{stem}_{style}.png",
        # the style in every name: a second style into the same folder adds files, refuses none
        "mask": out / f"{stem}_{style}_mask.png",
        "overlay": out / f"{stem}_{style}_mask_overlay.png",
    }


def save_garment(
    result: GarmentResult, out: str | os.PathLike, stem: str, style: str, *, replace: bool = True
) -> GarmentResult:
    """Write ``<stem>_<style>.png``, ``<stem>_<style>_mask.png`` and
    ``<stem>_<style>_mask_overlay.png``;
    ``replace=False`` never clobbers a file (see ``fileio.publish``)."""
    files = garment_files(out, stem, style)
    mask = Image.fromarray(np.clip(result.weights * 255 + 0.5, 0, 255).astype(np.uint8), "L")
    images = {"image": result.image, "mask": mask, "overlay": result.overlay}
    result.files = {k: save_image(images[k], path, replace=replace) for k, path in files.items()}
    return result


def variants(
    stylizers: dict[str, Stylizer],
    image,
    weights: np.ndarray | None,
    *,
    strength: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    **options,
) -> list[tuple[str, Image.Image]]:
    """The same photo (or only its garment, when ``weights`` is given) in several styles."""
    loaded = as_loaded(image)
    out = []
    for i, (name, stylizer) in enumerate(stylizers.items()):
        if weights is None:
            styled = stylizer.stylize(loaded, strength=strength, **options)
        else:
            styled = stylize_masked(stylizer, loaded, weights, strength=strength, **options)
        out.append((name, styled))
        if progress:
            progress(i + 1, len(stylizers))
    return out
