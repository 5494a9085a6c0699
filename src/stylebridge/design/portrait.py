"""Portraits: the style everywhere, a lighter touch on faces, so the sitter stays recognisable.

A full-strength translation repaints a face like any other surface: a culture's palette and
strokes land on eyes and mouth, and identity goes. Here faces are found offline with OpenCV's
cascades (as ``stylebridge data anonymize`` finds them), each gets a feathered ellipse (face,
forehead and chin), and inside it the image is rendered again at ``face_strength``: in feature
space for the feature-fusion engine (the face keeps its structure and takes the style's
colours), as a pixel blend for translation models. Any stylizer with ``stylize(image,
strength=...)`` works.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..data.privacy import detect_faces
from ..errors import ConfigError
from ..imageio import as_loaded
from ..inference.stylizer import Stylizer

DETECT_SIDE = 1024  # faces are found on a copy at most this long a side (bounded memory)
Box = tuple[int, int, int, int]


def find_faces(rgb: Image.Image, min_face: int = 24) -> list[Box]:
    """Face boxes (x, y, w, h) in image pixels, largest first."""
    scale = min(1.0, DETECT_SIDE / max(rgb.size))
    small = (
        rgb
        if scale == 1.0
        else rgb.resize(
            (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
            Image.Resampling.BILINEAR,
        )
    )
    boxes = detect_faces(np.asarray(small.convert("RGB")), max(8, round(min_face * scale)))
    return [tuple(round(v / scale) for v in box) for box in boxes]


def face_mask(size: tuple[int, int], boxes: list[Box], feather: float = 0.15) -> np.ndarray:
    """HxW weights in [0, 1]: 1 over each face's ellipse (the box grown to take in forehead
    and chin), falling off over ``feather`` x the face size."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    radius = 0.0
    for x, y, w, h in boxes:
        cx, cy = x + w / 2, y + h * 0.55
        rx, ry = w * 0.62, h * 0.78
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
        radius = max(radius, feather * max(w, h))
    if radius > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(radius / 2))
    return np.asarray(mask, np.float32) / 255.0


class PortraitStylizer:
    """Wraps a stylizer: ``stylize`` renders the whole image, then the faces again at
    ``face_strength`` x the strength (the engine: its finish, such as ukiyo-e's flat blocks or
    batik's wax, at the same fraction), blended in through feathered masks."""

    def __init__(self, stylizer, face_strength: float = 0.35, feather: float = 0.15):
        if not 0.0 <= face_strength <= 1.0:
            raise ConfigError(f"face_strength must be within [0, 1], got {face_strength}")
        if not 0.0 < feather <= 1.0:
            raise ConfigError(f"feather must be within (0, 1], got {feather}")
        self.stylizer, self.face_strength, self.feather = stylizer, face_strength, feather

    def stylize(self, image, *, strength: float = 1.0, **options) -> Image.Image:
        loaded = as_loaded(image)
        faces = find_faces(loaded.rgb)
        whole = self.stylizer.stylize(loaded, strength=strength, **options)
        if not faces:
            return whole
        face = self.stylizer.stylize(loaded, strength=strength * self.face_strength, **options)
        weight = face_mask(whole.size, faces, self.feather)[..., None]
        blended = np.asarray(whole.convert("RGB"), np.float32) * (1 - weight)
        blended += np.asarray(face.convert("RGB"), np.float32) * weight
        result = Image.fromarray(blended.round().clip(0, 255).astype(np.uint8), "RGB")
        if whole.mode == "RGBA":
            result.putalpha(whole.getchannel("A"))
        return result

    stylize_files = Stylizer.stylize_files  # one batch writer: overwrite rules, bad files skipped
