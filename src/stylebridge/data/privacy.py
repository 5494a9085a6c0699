"""Anonymise a corpus before it is shared or trained on: obscure faces, drop metadata.

Faces are found offline with the Haar cascades that ship inside OpenCV (frontal, and profile
in both directions). Each face box, grown by a margin, is blurred or pixelated. The output is
re-encoded from pixels alone, so EXIF (camera, GPS, time), XMP, comments and other text chunks
are gone; the EXIF orientation is applied first, so images keep looking the right way up. A
JSONL log records, per file, the face boxes and which metadata was removed, and each output is
re-read to check that no metadata survived.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..errors import ConfigError, DataError, StylebridgeError
from ..fileio import atomic_write, check_outputs
from ..imageio import load_image, metadata_summary, save_image
from .files import expand_inputs

METHODS = ("blur", "pixelate")
LOG_NAME = "anonymize_log.jsonl"
MARGIN = 0.2  # grow each face box by this share of its size on every side (hair, ears, chin)
PIXEL_BLOCKS = 8  # pixelate: blocks across a face


@dataclass
class FileRecord:
    """One line of the log."""

    file: str
    output: str = ""
    faces: list[list[int]] = field(default_factory=list)  # x, y, width, height (after margin)
    method: str = ""
    metadata_removed: dict[str, object] = field(default_factory=dict)
    metadata_left: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str = ""


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = os.path.join(cv2.data.haarcascades, name)
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise DataError(f"{path}: OpenCV face cascade missing or unreadable")
    return cascade


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Intersection over the smaller box: a profile hit inside a frontal one is the same face."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / min(aw * ah, bw * bh)


def detect_faces(rgb: np.ndarray, min_face: int = 24) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in an HxWx3 uint8 image, largest first."""
    gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    width = gray.shape[1]
    size = (min_face, min_face)
    found: list[tuple[int, int, int, int]] = []
    for name, mirrored in (
        ("haarcascade_frontalface_default.xml", False),
        ("haarcascade_profileface.xml", False),
        ("haarcascade_profileface.xml", True),  # the cascade only knows one side
    ):
        image = gray[:, ::-1].copy() if mirrored else gray
        boxes = _cascade(name).detectMultiScale(image, 1.1, 5, minSize=size)
        for x, y, w, h in np.asarray(boxes).reshape(-1, 4).tolist():
            found.append((width - x - w, y, w, h) if mirrored else (x, y, w, h))
    found.sort(key=lambda b: b[2] * b[3], reverse=True)
    kept: list[tuple[int, int, int, int]] = []
    for box in found:
        if all(_overlap(box, other) < 0.5 for other in kept):
            kept.append(box)
    return kept


def _grow(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    x, y, w, h = box
    dx, dy = int(w * MARGIN), int(h * MARGIN)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(shape[1], x + w + dx), min(shape[0], y + h + dy)
    return x0, y0, x1 - x0, y1 - y0


def obscure(rgb: np.ndarray, boxes: list[tuple[int, int, int, int]], method: str) -> np.ndarray:
    """Blur (a Gaussian as wide as a third of the face, twice) or pixelate each box."""
    if method not in METHODS:
        raise ConfigError(f"unknown anonymisation method {method!r}; use {' or '.join(METHODS)}")
    out = rgb.copy()
    for x, y, w, h in boxes:
        region = out[y : y + h, x : x + w]
        if method == "pixelate":
            small = cv2.resize(
                region,
                (max(1, PIXEL_BLOCKS * w // max(w, h)), max(1, PIXEL_BLOCKS * h // max(w, h))),
                interpolation=cv2.INTER_AREA,
            )
            region[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        else:
            k = max(3, (max(w, h) // 3) | 1)
            region[:] = cv2.GaussianBlur(cv2.GaussianBlur(region, (k, k), 0), (k, k), 0)
    return out


def _output_path(path: Path, roots: list[Path], out_dir: Path) -> Path:
    """Mirror the input's place under its folder argument."""
    target = out_dir / path.name
    for root in roots:
        if root.is_dir() and root in path.parents:
            target = out_dir / path.relative_to(root)
            break
    # TIFF keeps its structure in tags that cannot be told apart from metadata: write PNG
    return target.with_suffix(".png") if target.suffix.lower() in (".tif", ".tiff") else target


def anonymize_file(path: Path, target: Path, method: str, min_face: int) -> FileRecord:
    record = FileRecord(file=str(path), output=str(target), method=method)
    record.metadata_removed = metadata_summary(path)
    loaded = load_image(path)
    record.notes = list(loaded.notes)
    rgb = np.asarray(loaded.rgb)
    boxes = [_grow(b, rgb.shape) for b in detect_faces(rgb, min_face)]
    record.faces = [list(b) for b in boxes]
    pixels = obscure(rgb, boxes, method)
    image = Image.fromarray(pixels, "RGB")  # a fresh image: no info, no EXIF, no XMP
    if loaded.alpha is not None and target.suffix.lower() in (".png", ".webp", ".tif", ".tiff"):
        image.putalpha(loaded.alpha)
    save_image(image, target)
    record.metadata_left = metadata_summary(target)
    return record


def anonymize(
    inputs: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    method: str = "blur",
    min_face: int = 24,
    progress: Callable[[int, int], None] | None = None,
) -> list[FileRecord]:
    """Anonymise every image in ``inputs`` (files or folders) into ``out_dir`` and write
    ``out_dir/anonymize_log.jsonl``; a bad file gets an ``error`` record, the rest go on."""
    if method not in METHODS:
        raise ConfigError(f"unknown anonymisation method {method!r}; use {' or '.join(METHODS)}")
    out_dir = Path(out_dir)
    roots = [Path(p) for p in inputs]
    files = expand_inputs(inputs)
    targets = [_output_path(path, roots, out_dir) for path in files]
    check_outputs(targets, files, out_dir=out_dir, overwrite=True)
    records = []
    for done, (path, target) in enumerate(zip(files, targets, strict=True), 1):
        try:
            records.append(anonymize_file(path, target, method, min_face))
        except StylebridgeError as err:
            records.append(FileRecord(file=str(path), method=method, error=str(err)))
        if progress is not None:
            progress(done, len(files))
    log = "".join(json.dumps(asdict(record)) + "\n" for record in records)
    atomic_write(out_dir / LOG_NAME, log.encode())
    return records
