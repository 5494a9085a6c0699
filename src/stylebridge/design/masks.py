"""Garment masks: a user's mask file, or an automatic one found offline, plus feathering.

The automatic mask is classical computer vision that ships with OpenCV (no model download): a
Haar cascade finds the largest frontal face, a body box is laid out below it in face units, and
GrabCut separates the clothed body from the background inside that box. The face and neck box
and pixels coloured like the face's skin are then removed. See docs/design.md for its limits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from ..errors import ConfigError, ImageError
from ..imageio import as_loaded, load_image

WORK_SIDE = 400  # GrabCut runs at most at this size, then the mask is resized back
SKIN_DISTANCE = 2.5  # Mahalanobis radius of the face-colour model in (Cr, Cb)
Box = tuple[int, int, int, int]  # x, y, width, height


def load_mask(path: str | os.PathLike, size: tuple[int, int]) -> np.ndarray:
    """A mask file as (H, W) float weights in [0, 1] for a photo of ``size`` (width, height).

    White (or opaque, for a mask with transparency) marks the garment; grey is a partial weight.
    A mask of another size is resized when its aspect ratio matches the photo's.
    """
    loaded = load_image(path)
    if loaded.alpha is not None and np.asarray(loaded.alpha).min() < 255:
        grey = loaded.alpha
    else:
        grey = loaded.rgb.convert("L")
    width, height = size
    if grey.size != size:
        if abs(grey.width / grey.height - width / height) > 0.02 * width / height:
            raise ImageError(
                path,
                f"mask is {grey.width}x{grey.height} px but the photo is "
                f"{width}x{height} px (the aspect ratios differ)",
            )
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    mask = np.asarray(grey, dtype=np.float32) / 255.0
    if (mask >= 0.5).sum() == 0:
        raise ImageError(path, "mask is empty (no pixel is white or above 50% grey)")
    return mask


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Weights that rise smoothly from 0 at the mask's edge to 1 ``radius`` px inside it.

    The ramp lies wholly inside the mask, so every pixel outside it keeps weight exactly 0.
    """
    inside = (mask >= 0.5).astype(np.uint8)
    if radius <= 0:
        return mask * inside
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    ramp = np.clip(dist / radius, 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep: no visible band at either end
    return (mask * ramp).astype(np.float32)


def overlay(image, mask: np.ndarray, colour=(255, 0, 160)) -> Image.Image:
    """The photo with the mask tinted and its outline drawn: what will be restyled."""
    rgb = np.asarray(as_loaded(image).rgb, dtype=np.float32)
    tint = np.asarray(colour, np.float32)
    alpha = 0.45 * np.clip(mask, 0, 1)[..., None]
    out = rgb * (1 - alpha) + tint * alpha
    edges = cv2.morphologyEx(
        (mask >= 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)
    )
    out[edges > 0] = tint
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")


@dataclass
class AutoMask:
    """An automatic garment mask and the boxes it was built from (work-scale pixels scaled back)."""

    mask: np.ndarray  # (H, W) float32, 1 on the garment
    face: Box
    body: Box


def find_face(rgb: np.ndarray) -> Box | None:
    """The most confident frontal face by OpenCV's bundled Haar cascades, or None."""
    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    min_side = max(16, min(grey.shape) // 16)
    for name in ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml"):
        cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, name))
        faces, _, weights = cascade.detectMultiScale3(
            grey, 1.1, 5, minSize=(min_side, min_side), outputRejectLevels=True
        )
        if len(faces):
            x, y, w, h = faces[int(np.argmax(np.ravel(weights)))]
            return int(x), int(y), int(w), int(h)
    return None


def _clip_box(x0: float, y0: float, x1: float, y1: float, shape) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    return (
        int(np.clip(x0, 0, w)),
        int(np.clip(y0, 0, h)),
        int(np.clip(x1, 0, w)),
        int(np.clip(y1, 0, h)),
    )


def _seed_labels(shape, face: Box) -> tuple[np.ndarray, Box, tuple[int, int, int, int]]:
    """GrabCut labels laid out in face units: background, probable body, sure torso, no face."""
    x, y, w, h = face
    cx = x + w / 2
    labels = np.full(shape[:2], cv2.GC_BGD, np.uint8)
    bx0, by0, bx1, by1 = _clip_box(cx - 2.1 * w, y + 1.1 * h, cx + 2.1 * w, y + 8 * h, shape)
    labels[by0:by1, bx0:bx1] = cv2.GC_PR_FGD
    cx0, cy0, cx1, cy1 = _clip_box(cx - 0.7 * w, y + 1.7 * h, cx + 0.7 * w, y + 3.2 * h, shape)
    labels[cy0:cy1, cx0:cx1] = cv2.GC_FGD
    head = _clip_box(x - 0.15 * w, y - 0.4 * h, x + 1.15 * w, y + 1.4 * h, shape)
    labels[head[1] : head[3], head[0] : head[2]] = cv2.GC_BGD
    return labels, (bx0, by0, bx1 - bx0, by1 - by0), head


def _skin(rgb: np.ndarray, face: Box) -> np.ndarray:
    """Pixels whose (Cr, Cb) fall inside a Gaussian fitted to the middle of the face."""
    x, y, w, h = face
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(np.float64)[..., 1:]
    centre = ycc[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4].reshape(-1, 2)
    mean, cov = centre.mean(0), np.cov(centre.T) + np.eye(2) * 4.0
    diff = ycc - mean
    dist2 = np.einsum("...i,ij,...j->...", diff, np.linalg.inv(cov), diff)
    return dist2 < SKIN_DISTANCE**2


def auto_mask(image) -> AutoMask:
    """Find the garment of the most prominent person in a photo, offline (Haar + GrabCut)."""
    loaded = as_loaded(image)
    full = loaded.rgb
    scale = min(1.0, WORK_SIDE / max(full.size))
    work = (
        full.resize(
            (max(1, round(full.width * scale)), max(1, round(full.height * scale))),
            Image.Resampling.LANCZOS,
        )
        if scale < 1
        else full
    )
    rgb = np.ascontiguousarray(np.asarray(work))
    face = find_face(rgb)
    if face is None:
        raise ImageError(
            loaded.path,
            "auto-mask found no frontal face to place the body box; pass a mask file with --mask",
        )
    labels, body, head = _seed_labels(rgb.shape, face)
    core = labels == cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), labels, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK
    )
    garment = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    garment[head[1] : head[3], head[0] : head[2]] = False
    garment &= ~_skin(rgb, face)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    cleaned = cv2.morphologyEx(garment.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    cleaned = _main_parts(cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, kernel), core)
    if cleaned.sum() == 0:
        raise ImageError(loaded.path, "auto-mask found a face but no garment below it")
    mask = Image.fromarray(cleaned * 255).resize(full.size, Image.Resampling.BILINEAR)
    back = 1 / scale
    return AutoMask(
        np.asarray(mask, np.float32) / 255.0,
        tuple(round(v * back) for v in face),
        tuple(round(v * back) for v in body),
    )


def _main_parts(binary: np.ndarray, core: np.ndarray, keep_share: float = 0.3) -> np.ndarray:
    """Keep the connected parts that touch the sure-torso core, and others that are large.

    Same-coloured background beside the body (a red flag behind a red jacket) tends to form its
    own part away from the torso; a sleeve cut off by a bare hand is usually large enough to stay.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return binary
    areas = stats[1:, cv2.CC_STAT_AREA]
    touching = np.unique(labels[core & (binary > 0)])
    keep = set(touching[touching > 0].tolist())
    main = max(keep, key=lambda i: areas[i - 1]) if keep else int(areas.argmax()) + 1
    keep |= {i + 1 for i in np.flatnonzero(areas >= keep_share * areas[main - 1])}
    keep.add(main)
    return np.isin(labels, sorted(keep)).astype(np.uint8)


def check_strength(strength: float) -> float:
    if not 0.0 <= strength <= 1.0:
        raise ConfigError(f"strength must be within [0, 1], got {strength}")
    return strength
