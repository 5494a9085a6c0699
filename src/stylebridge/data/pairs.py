"""Paired data for pix2pix: line drawings derived from paintings, and the aligned dataset.

A pairs folder holds ``a/NAME.png`` (the line drawing, the model's input) and ``b/NAME.png``
(the painting, its target) of the same size, plus ``pairs.json`` saying how they were made.
Line styles, all dark lines on white so a hand-drawn pen sketch looks like the training input:

- ``xdog``: eXtended Difference of Gaussians (Winnemoeller et al. 2012): soft ink-like strokes
  that thicken on strong contours; the closest to a brush or felt-pen sketch. The default.
- ``canny``: Canny edges of the smoothed image, 1 px (thicker on large images): clean,
  uniform technical lines.
- ``pencil``: colour-dodge of the grey image by its blurred negative: graphite-like shading
  as well as outlines, for users who sketch with tone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from skimage.feature import canny

from ..errors import ConfigError, DataError, ImageError
from ..fileio import OutputError, atomic_write, check_outputs
from ..imageio import load_image, save_image
from .datasets import ImageSource, TwoSourceDataset, random_crop_flip
from .files import list_images

LINE_STYLES = ("xdog", "canny", "pencil")
PAIRS_INFO = "pairs.json"


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def xdog(
    grey: np.ndarray,
    sigma: float,
    k: float = 1.6,
    tau: float = 1.0,
    eps: float = -0.01,
    phi: float = 60.0,
) -> np.ndarray:
    """Difference of Gaussians, 0 on flat areas and negative on the dark side of every edge;
    white above ``eps``, a tanh ramp to black below it (soft strokes, darker on strong edges)."""
    d = ndimage.gaussian_filter(grey, sigma) - tau * ndimage.gaussian_filter(grey, sigma * k)
    return np.where(d >= eps, 1.0, 1.0 + np.tanh(phi * (d - eps))).clip(0, 1)


def canny_lines(grey: np.ndarray, sigma: float) -> np.ndarray:
    """Canny on a well-smoothed image (paper grain and brush texture give no lines), 1 px
    wide, thickened by one pixel per 400 px of the shorter side."""
    edges = canny(grey, sigma=sigma * 3, low_threshold=0.06, high_threshold=0.15)
    width = int(min(grey.shape) // 400)
    if width:
        edges = ndimage.binary_dilation(edges, iterations=width)
    return 1.0 - edges.astype(np.float64)


def pencil(grey: np.ndarray, sigma: float) -> np.ndarray:
    blurred_negative = ndimage.gaussian_filter(1.0 - grey, sigma * 4)
    return (grey / np.maximum(1.0 - blurred_negative, 1e-3)).clip(0, 1) ** 2


def line_drawing(image: Image.Image, style: str = "xdog") -> Image.Image:
    """A painting -> its line drawing (RGB, dark lines on white) of the same size."""
    if style not in LINE_STYLES:
        raise ConfigError(f"unknown line style {style!r}; choose one of: {', '.join(LINE_STYLES)}")
    sigma = max(0.5, min(image.size) / 320)  # strokes scale with the picture
    grey = _grey(image)
    lines = {"xdog": xdog, "canny": canny_lines, "pencil": pencil}[style](grey, sigma)
    return Image.fromarray((lines * 255).round().astype(np.uint8)).convert("RGB")


@dataclass
class PairsReport:
    out: Path
    written: int
    skipped: list[tuple[Path, str]]


def build_pairs(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    style: str = "xdog",
    size: int = 286,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> PairsReport:
    """Write a pairs folder from a folder of paintings, shorter side resized to ``size``.
    Existing files in ``out`` are refused before any work unless ``overwrite``; a painting is
    never written over."""
    if style not in LINE_STYLES:
        raise ConfigError(f"unknown line style {style!r}; choose one of: {', '.join(LINE_STYLES)}")
    files, out = list_images(source), Path(out)
    if not files:
        raise DataError(f"{source}: no image files")
    names = [f"{path.stem}_{i:05d}.png" for i, path in enumerate(files)]
    targets = [out / side / name for name in names for side in ("a", "b")]
    check_outputs([*targets, out / PAIRS_INFO], files, overwrite=overwrite)
    skipped, written = [], 0
    for i, (path, name) in enumerate(zip(files, names, strict=True)):
        try:
            painting = load_image(path).rgb
            scale = size / min(painting.size)
            wide, high = round(painting.width * scale), round(painting.height * scale)
            painting = painting.resize((max(size, wide), max(size, high)), Image.Resampling.LANCZOS)
            save_image(line_drawing(painting, style), out / "a" / name, replace=overwrite)
            save_image(painting, out / "b" / name, replace=overwrite)
        except (ImageError, OutputError) as err:  # this file only: the others go on
            skipped.append((path, err.problem))
            continue
        written += 1
        if progress is not None:
            progress(i + 1, len(files))
    if not written:
        raise DataError(f"{source}: no readable image ({len(skipped)} unreadable)")
    info = {"source": str(source), "style": style, "size": size, "count": written}
    atomic_write(out / PAIRS_INFO, (json.dumps(info, indent=2) + "\n").encode(), replace=overwrite)
    return PairsReport(out, written, skipped)


def pair_sources(pairs: str | os.PathLike, load_size: int) -> tuple[ImageSource, ImageSource]:
    """The a/ and b/ image sources of a pairs folder, checked to match name by name."""
    root = Path(pairs)
    if not (root / "a").is_dir() or not (root / "b").is_dir():
        raise DataError(
            f"{root}: not a pairs folder (needs a/ and b/; see 'stylebridge data pairs')"
        )
    files_a, files_b = list_images(root / "a"), list_images(root / "b")
    names_b = {p.name for p in files_b}
    common = [p for p in files_a if p.name in names_b]
    if not common:
        raise DataError(f"{root}: no file name is in both a/ and b/")
    return ImageSource(common, load_size), ImageSource(
        [root / "b" / p.name for p in common], load_size
    )


class PairedDataset(TwoSourceDataset):
    """Aligned pairs with the same crop and flip on both sides (pix2pix's jitter)."""

    def __getitem__(self, sample_id: int) -> dict[str, torch.Tensor]:
        n = len(self.sources[0])
        epoch, pos = divmod(sample_id, n)
        order = np.random.default_rng([self.seed, 5, epoch]).permutation(n)
        for attempt in range(n):
            index = int(order[(pos + attempt) % n])
            a, b = self.sources[0].get(index), self.sources[1].get(index)
            if a is None or b is None:
                continue
            if a.shape != b.shape:
                raise DataError(f"{self.sources[0].files[index]}: a and b differ in size")
            out = {}
            for key, pixels in (("real_a", a), ("real_b", b)):
                rng = np.random.default_rng([self.seed, 6, sample_id])  # same crop on both
                out[key] = random_crop_flip(pixels, self.size, rng, self.flip)
            return out
        raise DataError(f"{self.sources[0].name}: every pair failed to decode")
