"""Image sets from folders: listing, content hashing, loading for features, pairing by name."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data import files as data_files
from ..errors import DataError
from ..imageio import IMAGE_SUFFIXES, load_image


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files under ``folder`` (recursively, sorted); a folder without any is an error."""
    if not Path(folder).is_dir():
        raise DataError(f"{folder}: not a folder of images")
    files = data_files.list_images(folder)
    if not files:
        raise DataError(f"{folder}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def choose(files: Sequence[Path], max_images: int | None, seed: int) -> list[Path]:
    """At most ``max_images`` files, a seeded random choice kept in listing order."""
    if not max_images or len(files) <= max_images:
        return list(files)
    picked = np.random.default_rng(seed).choice(len(files), max_images, replace=False)
    return [files[i] for i in sorted(picked)]


def set_digest(files: Sequence[Path], *parts: str) -> str:
    """Hash of the files' contents in order plus ``parts`` (extractor, version, preprocessing)."""
    digest = hashlib.sha256("\n".join(parts).encode())
    for path in files:
        digest.update(bytes.fromhex(data_files.readable_digest(path)))
    return digest.hexdigest()


def resized_pixels(path: Path, size: int) -> np.ndarray:
    """Whole image to size x size with PIL bicubic (the clean-fid convention), HxWx3 uint8."""
    image = load_image(path).rgb
    if image.size != (size, size):
        image = image.resize((size, size), Image.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def center_crop(image: Image.Image, size: int) -> Image.Image:
    """Shorter side to ``size`` (bicubic), then the central size x size square."""
    w, h = image.size
    scale = size / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    return image.crop((left, top, left + size, top + size))


def cropped_pixels(path: Path, size: int) -> np.ndarray:
    return np.asarray(center_crop(load_image(path).rgb, size), dtype=np.uint8)


def to_batch(arrays: Sequence[np.ndarray]) -> torch.Tensor:
    """HxWx3 uint8 arrays -> float NCHW in [0, 255]."""
    stacked = torch.from_numpy(np.stack(arrays))
    return stacked.permute(0, 3, 1, 2).float()


@dataclass
class Pairing:
    """Files of two folders matched by relative path without suffix."""

    pairs: list[tuple[str, Path, Path]] = field(default_factory=list)
    real_only: list[str] = field(default_factory=list)
    fake_only: list[str] = field(default_factory=list)


def _stem_key(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def pair_by_name(
    real_dir: Path, real: Sequence[Path], fake_dir: Path, fake: Sequence[Path]
) -> Pairing:
    """Match by name (stem); a name present twice (a.png and a.jpg) is an error."""
    maps = []
    for root, files in ((real_dir, real), (fake_dir, fake)):
        named: dict[str, Path] = {}
        for path in files:
            key = _stem_key(path, root)
            if key in named:
                raise DataError(f"{root}: {named[key].name} and {path.name} share the name {key!r}")
            named[key] = path
        maps.append(named)
    real_map, fake_map = maps
    result = Pairing(
        pairs=[(key, real_map[key], fake_map[key]) for key in sorted(real_map) if key in fake_map],
        real_only=sorted(set(real_map) - set(fake_map)),
        fake_only=sorted(set(fake_map) - set(real_map)),
    )
    if not result.pairs:
        raise DataError(
            f"no file names in common between {real_dir} and {fake_dir}; paired "
            "metrics (ssim, psnr, ms-ssim) match images by name"
        )
    return result


def load_pair(real: Path, fake: Path) -> tuple[np.ndarray, np.ndarray, bool]:
    """Both images as uint8 arrays; the fake is resized to the real one's size if they differ."""
    a, b = load_image(real).rgb, load_image(fake).rgb
    resized = a.size != b.size
    if resized:
        b = b.resize(a.size, Image.BICUBIC)
    return np.asarray(a, dtype=np.uint8), np.asarray(b, dtype=np.uint8), resized
