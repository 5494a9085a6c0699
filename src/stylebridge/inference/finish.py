"""Finishes: a classical last stage a culture style may name, for what its print process does
and a decoder trained on feature statistics does not (it paints texture everywhere).

``flat``: woodblock-print colour. Mean-shift filtering (Comaniciu and Meer 2002) merges each
region into one colour while keeping its borders, then the image is reduced to a small palette
of its own colours (k-means), so the result has the flat colour fields of a print rather than
brushwork. Measured on 25 held-out photos (docs/feature_engine.md): the six-way culture
classifier names the engine's ukiyo-e renderings ukiyo-e 12% of the time without it and 52%
with it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ConfigError

FINISHES = ("none", "flat")


def palette_quantise(rgb: np.ndarray, colours: int, seed: int = 0, iterations: int = 8):
    """``rgb`` (H, W, 3) uint8 reduced to ``colours`` of its own colours: k-means fitted on at
    most 20,000 sampled pixels (seeded, so the same image always gives the same palette)."""
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    rng = np.random.default_rng(seed)
    sample = pixels[rng.choice(len(pixels), min(len(pixels), 20_000), replace=False)]
    centres = sample[rng.choice(len(sample), min(colours, len(sample)), replace=False)]
    for _ in range(iterations):
        nearest = _nearest(sample, centres)
        for k in range(len(centres)):
            members = sample[nearest == k]
            if len(members):
                centres[k] = members.mean(0)
    labels = np.concatenate(
        [_nearest(pixels[i : i + 65536], centres) for i in range(0, len(pixels), 65536)]
    )
    return centres[labels].round().clip(0, 255).astype(np.uint8).reshape(rgb.shape)


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distances = (points**2).sum(1)[:, None] - 2 * points @ centres.T + (centres**2).sum(1)
    return distances.argmin(1)


def flat_colour(
    rgb: np.ndarray, spatial: int = 8, colour: int = 24, colours: int = 24
) -> np.ndarray:
    """Flat colour regions with their borders kept, in a palette of ``colours``."""
    flattened = cv2.pyrMeanShiftFiltering(np.ascontiguousarray(rgb), spatial, colour)
    return palette_quantise(flattened, colours)


def apply_finish(rgb: np.ndarray, finish: str) -> np.ndarray:
    if finish not in FINISHES:
        raise ConfigError(f"unknown finish {finish!r}; one of {', '.join(FINISHES)}")
    return flat_colour(rgb) if finish == "flat" else rgb
