"""Finding scratches and cracks in old photos and prints, with classical vision (no model).

A scratch is thin, long and brighter or darker than what lies on both sides of it. Black-hat
and top-hat transforms (closing or opening minus the image) keep exactly such thin structures;
a robust threshold keeps the strong ones, and connected parts that are not elongated (dots,
texture, the edge of an object) are dropped. The mask is grown by a pixel or two so that the
inpainter also replaces the scratch's soft rim.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_LENGTH = 12  # px: shorter marks are left alone (grain, dust is another task)
MIN_ELONGATION = 4.0  # length / mean width of a kept part


def _line_kernel(length: int, angle: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.uint8)
    c = (length - 1) / 2
    dx, dy = np.cos(angle) * c, np.sin(angle) * c
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1, 1)
    return kernel


def _long_lines(response: np.ndarray, length: int = 15, angles: int = 12) -> np.ndarray:
    """Keep what extends at least ``length`` px along some direction: the largest opening by
    line segments at ``angles`` orientations (short texture strokes and dots vanish)."""
    best = np.zeros_like(response)
    for i in range(angles):
        kernel = _line_kernel(length, np.pi * i / angles)
        np.maximum(best, cv2.morphologyEx(response, cv2.MORPH_OPEN, kernel), out=best)
    return best


def detect_scratches(
    pixels: np.ndarray, *, width: int = 3, sensitivity: float = 1.0, grow: int = 1
) -> np.ndarray:
    """uint8 HxWx3 (or HxW) -> bool HxW mask of thin bright or dark scratches.

    ``width``: the widest scratch, in pixels; ``sensitivity`` > 1 finds fainter ones.
    """
    grey = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    grey = grey.astype(np.float32)
    size = 2 * max(1, int(width)) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    bright = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    response = _long_lines(np.maximum(dark, bright))
    # a scratch stands out from its surroundings; texture (foliage, fabric) is as strong as
    # the texture around it, so the response is judged against its neighbourhood's average
    context = cv2.blur(response, (41, 41)) + 2.0
    floor = 28.0 / sensitivity
    candidates = ((response > floor) & (response > context * 4.3 / sensitivity)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    keep = np.zeros(count, bool)
    for i in range(1, count):
        area = stats[i, cv2.CC_STAT_AREA]
        length = float(np.hypot(stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]))
        mean_width = area / max(length, 1.0)
        keep[i] = length >= MIN_LENGTH and length / max(mean_width, 1.0) >= MIN_ELONGATION
    mask = keep[labels]
    if grow > 0 and mask.any():
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((2 * grow + 1,) * 2, np.uint8))
        mask = grown.astype(bool)
    return mask
