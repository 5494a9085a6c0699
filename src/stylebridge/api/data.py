"""Image folders: read, check, anonymize, describe with a manifest, turn into pix2pix pairs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from ..data import FolderReport, check_folder, expand_inputs
from ..data.manifest import MANIFEST_NAME, build_manifest, check_manifest_target, manifest_bytes
from ..data.pairs import build_pairs
from ..data.privacy import LOG_NAME
from ..data.privacy import anonymize as _anonymize
from ..errors import ImageError
from ..fileio import atomic_write
from ..imageio import load_image, probe_image

__all__ = [
    "anonymize",
    "anonymize_log_path",
    "check_data",
    "default_manifest_path",
    "expand_inputs",
    "make_pairs",
    "read_image",
    "write_manifest",
]


def read_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> Image.Image:
    """An uploaded image file as RGB, refused with one line when over ``max_pixels``."""
    info = probe_image(path)
    if max_pixels and info.width * info.height > max_pixels:
        raise ImageError(
            Path(path).name,
            f"{info.width}x{info.height} px ({info.width * info.height / 1e6:.1f} MP) is over "
            f"the {max_pixels / 1e6:.1f} MP limit for uploads; resize it first",
        )
    return load_image(path).rgb


def check_data(folders: list[str | os.PathLike], progress=None) -> list[FolderReport]:
    """Corpus report per folder: counts, sizes, unreadable files with reasons, duplicates."""
    return [check_folder(folder, progress=progress) for folder in folders]


def anonymize(inputs: list[str | os.PathLike], out: str | os.PathLike, **options: Any):
    """Blur or pixelate faces and strip metadata into ``out``; returns one record per file
    (see ``stylebridge.data.privacy.anonymize``: method, min_face, progress)."""
    return _anonymize(inputs, out, **options)


def anonymize_log_path(out: str | os.PathLike) -> Path:
    """The JSON-lines log ``anonymize`` writes into its output folder."""
    return Path(out) / LOG_NAME


def default_manifest_path(folder: str | os.PathLike) -> Path:
    """Where ``write_manifest`` writes when given no ``out``."""
    return Path(folder) / MANIFEST_NAME


def write_manifest(folder: str | os.PathLike, out: str | os.PathLike | None = None, **options):
    """Write a provenance CSV (file, sha256, size, width, height, source, licence) for every
    image under ``folder``; options: source, licence, progress. Returns the build result."""
    out = Path(out) if out else default_manifest_path(folder)
    check_manifest_target(out)
    result = build_manifest(folder, relative_to=out.parent, **options)
    atomic_write(out, manifest_bytes(result.rows))
    return result


def make_pairs(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    line_style: str = "xdog",
    size: int = 286,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
):
    """Build a pix2pix pairs folder: ``out/a`` line drawings derived from the paintings in
    ``source``, ``out/b`` the paintings (shorter side ``size``). Line styles: xdog, canny,
    pencil (``data.pairs.LINE_STYLES``). Existing files in ``out`` only with ``overwrite``.
    Returns a ``PairsReport`` with skipped files."""
    return build_pairs(
        source, out, style=line_style, size=size, progress=progress, overwrite=overwrite
    )
