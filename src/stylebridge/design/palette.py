"""Culture palettes (k-means in CIELAB) and recolouring a pattern into one.

The palette is computed here rather than taken from ``analysis`` because design sits beside
analysis in the layering and may not import it; both use the same recipe (k-means in CIELAB on a
pixel sample, centres seeded along the lightness axis).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image
from skimage.color import lab2rgb, rgb2lab

from ..data import expand_inputs
from ..errors import ConfigError, DataError, ImageError
from ..imageio import as_loaded, load_image
from ..inference.finish import Dyes, own_dyes

SAMPLE_PER_IMAGE = 2048


@dataclass
class Palette:
    """Colours as (k, 3) CIELAB centres with their pixel shares, most common first."""

    lab: np.ndarray
    shares: np.ndarray

    @property
    def rgb(self) -> np.ndarray:
        """(k, 3) uint8 colours for display."""
        rgb = lab2rgb(self.lab[None].astype(np.float64))[0]
        return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)

    def swatch(self, height: int = 48, width: int = 480) -> Image.Image:
        """A strip with one band per colour, as wide as its share."""
        strip = np.zeros((height, width, 3), np.uint8)
        edges = np.round(np.concatenate([[0], np.cumsum(self.shares)]) * width).astype(int)
        for colour, left, right in zip(self.rgb, edges[:-1], edges[1:], strict=True):
            strip[:, left:right] = colour
        return Image.fromarray(strip)


def kmeans_lab(lab: np.ndarray, k: int, iterations: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Plain k-means of (n, 3) Lab points; returns centres and assignments. Deterministic."""
    if len(lab) < k:
        raise ConfigError(f"need at least {k} pixels for a {k}-colour palette, got {len(lab)}")
    order = np.argsort(lab[:, 0], kind="stable")
    centres = lab[order[np.linspace(0, len(lab) - 1, k).astype(int)]].copy()
    assign = np.zeros(len(lab), int)
    for _ in range(iterations):
        dist = ((lab[:, None, :] - centres[None]) ** 2).sum(-1)
        assign = dist.argmin(1)
        for j in range(k):
            members = lab[assign == j]
            if len(members):
                centres[j] = members.mean(0)
    return centres, assign


def _lab_pixels(image: Image.Image) -> np.ndarray:
    return rgb2lab(np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0).reshape(-1, 3)


def readable_images(
    images: Iterable[str | os.PathLike | Image.Image],
    on_skip: Callable[[str], None] | None = None,
) -> Iterator[Image.Image]:
    """Each image of ``images`` (files, folders or PIL images) as RGB; an unreadable file is
    reported through ``on_skip`` and left out."""
    for item in images:
        for each in [item] if isinstance(item, Image.Image) else expand_inputs([item]):
            try:
                rgb = each if isinstance(each, Image.Image) else load_image(each).rgb
            except ImageError as err:
                if on_skip:
                    on_skip(str(err))
                continue
            yield rgb.convert("RGB")


def palette_of(
    images: Iterable[str | os.PathLike | Image.Image],
    k: int = 6,
    seed: int = 0,
    on_skip: Callable[[str], None] | None = None,
) -> Palette:
    """The k dominant colours of a set of images (files, folders or PIL images).

    Each image contributes the same number of sampled pixels, so one large image does not
    outweigh a corpus. Unreadable files are reported through ``on_skip`` and left out.
    """
    rng = np.random.default_rng(seed)
    samples = []
    for rgb in readable_images(images, on_skip):
        rgb.thumbnail((256, 256))
        lab = _lab_pixels(rgb)
        samples.append(lab[rng.choice(len(lab), min(len(lab), SAMPLE_PER_IMAGE), replace=False)])
    if not samples:
        raise DataError("no readable image to take a palette from")
    centres, assign = kmeans_lab(np.concatenate(samples), k)
    shares = np.bincount(assign, minlength=k) / len(assign)
    order = np.argsort(-shares, kind="stable")
    return Palette(centres[order].astype(np.float32), shares[order].astype(np.float32))


def dyes_of(image: str | os.PathLike | Image.Image, dyes: int = 3) -> Dyes:
    """One cloth's colourway for the ``wax`` finish: its ``dyes`` colours (k-means on a 64 px
    copy) and the share of the cloth each covers. A file that cannot be read is an
    ``ImageError`` naming it."""
    rgb = image if isinstance(image, Image.Image) else load_image(image).rgb
    small = rgb.convert("RGB").resize((64, 64), Image.Resampling.BOX)
    return own_dyes(np.asarray(small), dyes)


def colourway_of(
    images: Iterable[str | os.PathLike | Image.Image],
    dyes: int = 3,
    groups: int = 6,
    seed: int = 0,
    on_skip: Callable[[str], None] | None = None,
) -> Dyes:
    """A textile corpus's most common colourway, for the ``wax`` finish: each image's ``dyes``
    colours (k-means) ordered by luminance with their shares, the images grouped by those
    colourways, and the image nearest the largest group's centre taken as it is. One real
    cloth's dyes, where the corpus's own dominant colours average unrelated cloths (indigo,
    soga brown, red) into greys."""
    from sklearn.cluster import KMeans

    found = [dyes_of(rgb, dyes) for rgb in readable_images(images, on_skip)]
    if len(found) < groups:
        raise DataError(f"{len(found)} readable images; a colourway needs at least {groups}")
    rows = np.array([np.concatenate([d.colours.ravel(), 255 * d.shares]) for d in found])
    model = KMeans(groups, n_init=10, random_state=seed).fit(rows)
    largest = np.bincount(model.labels_).argmax()
    members = np.flatnonzero(model.labels_ == largest)
    nearest = members[((rows[members] - model.cluster_centers_[largest]) ** 2).sum(1).argmin()]
    shares = np.mean([found[i].shares for i in members], axis=0)  # the group's balance of dyes
    return Dyes.check(found[nearest].colours, shares)


def recolor(image, palette: Palette, amount: float = 1.0, softness: float = 12.0) -> Image.Image:
    """Move a pattern's own colours onto the palette while keeping its texture.

    The pattern is clustered into as many colours as the palette has; clusters and palette
    colours are paired by lightness rank (dark motif lines stay dark, the ground stays light), and
    every pixel is shifted by a softly weighted mix of its clusters' offsets, so shading inside a
    colour region survives. ``amount`` 0 keeps the image, 1 applies the full shift.
    """
    if not 0.0 <= amount <= 1.0:
        raise ConfigError(f"amount must be within [0, 1], got {amount}")
    loaded = as_loaded(image)
    rgb = np.asarray(loaded.rgb, dtype=np.float64) / 255.0
    lab = rgb2lab(rgb).reshape(-1, 3)
    k = len(palette.lab)
    rng = np.random.default_rng(0)
    sample = lab[rng.choice(len(lab), min(len(lab), 20_000), replace=False)]
    own, _ = kmeans_lab(sample, k)
    target = palette.lab.astype(np.float64)[np.argsort(palette.lab[:, 0], kind="stable")]
    own = own[np.argsort(own[:, 0], kind="stable")]
    offsets = target - own  # (k, 3), paired by lightness rank
    shifted = np.empty_like(lab)
    for start in range(0, len(lab), 1 << 18):  # bounded memory for large patterns
        chunk = lab[start : start + (1 << 18)]
        dist = np.sqrt(((chunk[:, None, :] - own[None]) ** 2).sum(-1))
        weights = np.exp(-(dist - dist.min(1, keepdims=True)) / softness)
        weights /= weights.sum(1, keepdims=True)
        shifted[start : start + len(chunk)] = chunk + amount * (weights @ offsets)
    out = lab2rgb(shifted.reshape(rgb.shape))
    result = Image.fromarray(np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")
    if loaded.alpha is not None:
        result.putalpha(loaded.alpha)
    return result
