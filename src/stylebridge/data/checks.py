"""Corpus checks: what is in a folder, what cannot be read and why, and what is duplicated."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ImageError
from ..imageio import load_image
from .files import file_digest, list_images

NEAR_DUPLICATE_BITS = 6  # Hamming distance on a 64-bit DCT hash; 0-6 is "the same picture"
HASH_SIDE = 256  # the hash reads a 32 px thumbnail: a JPEG decodes at 1/8 scale, others reduced


@dataclass
class FolderReport:
    folder: str
    usable: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    exact_duplicates: list[list[Path]] = field(default_factory=list)
    near_duplicates: list[tuple[Path, Path, int]] = field(default_factory=list)

    def size_stats(self) -> dict[str, float]:
        if not self.sizes:
            return {}
        wh = np.array(self.sizes, dtype=np.float64)
        aspect = wh[:, 0] / wh[:, 1]
        return {
            "width_min": wh[:, 0].min(),
            "width_median": float(np.median(wh[:, 0])),
            "width_max": wh[:, 0].max(),
            "height_min": wh[:, 1].min(),
            "height_median": float(np.median(wh[:, 1])),
            "height_max": wh[:, 1].max(),
            "aspect_min": aspect.min(),
            "aspect_median": float(np.median(aspect)),
            "aspect_max": aspect.max(),
        }


def perceptual_hash(image: Image.Image) -> int:
    """64-bit DCT hash (pHash): robust to resizing, recompression and small colour shifts."""
    from scipy.fft import dctn

    grey = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), np.float64)
    low = dctn(grey, norm="ortho")[:8, :8].ravel()
    bits = low > np.median(low[1:])
    return int("".join("1" if b else "0" for b in bits), 2)


def _near_pairs(hashes: list[tuple[Path, int]], exact: set[Path]) -> list[tuple[Path, Path, int]]:
    """All pairs within NEAR_DUPLICATE_BITS, one vectorised Hamming row per image."""
    pairs = []
    values = np.array([h for _, h in hashes], dtype=np.uint64)
    for i, (path, value) in enumerate(hashes):
        if path in exact:
            continue
        xor = (values[i + 1 :] ^ np.uint64(value)).view(np.uint8).reshape(-1, 8)
        dist = np.unpackbits(xor, axis=1).sum(axis=1)
        for j in np.nonzero(dist <= NEAR_DUPLICATE_BITS)[0]:
            other = hashes[i + 1 + j][0]
            if other not in exact:
                pairs.append((path, other, int(dist[j])))
    return pairs


def check_folder(folder: str | Path, progress=None) -> FolderReport:
    """Decode every image once; collect sizes, failures with reasons, exact and near duplicates."""
    report = FolderReport(folder=str(folder))
    files = list_images(folder)
    by_digest: dict[str, list[Path]] = defaultdict(list)
    hashes: list[tuple[Path, int]] = []
    for i, path in enumerate(files):
        try:
            loaded = load_image(path, draft_side=HASH_SIDE)
        except ImageError as err:
            report.unreadable.append((path, err.problem))
        else:
            report.usable.append(path)
            report.sizes.append(loaded.size)
            report.notes.extend((path, note) for note in loaded.notes)
            by_digest[file_digest(path)].append(path)
            hashes.append((path, perceptual_hash(loaded.rgb)))
        if progress is not None:
            progress(i + 1, len(files))
    report.exact_duplicates = [group for group in by_digest.values() if len(group) > 1]
    repeated = {p for group in report.exact_duplicates for p in group[1:]}
    report.near_duplicates = _near_pairs(hashes, repeated)
    return report
