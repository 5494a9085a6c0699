"""Seamless textile patterns from a trained texture GAN (the ``texture`` method): choose the
motifs and their scale for training, load the run folder, generate several seeds."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from ..data import expand_inputs
from ..errors import ConfigError, ImageError, ModelFileError
from ..imageio import probe_image, save_image, to_uint8
from ..models.files import CONFIG_NAME, generator_from_config, read_tensors
from ..nn.texture import TextureGenerator, TextureGeneratorConfig
from .seams import SeamScore, seam_score, tile_preview

MAX_MOTIF_SIDE = 512  # motifs are shrunk to this longer side: the GAN learns texture at this scale
LEGACY_FORMAT = "stylebridge.texture/1"  # texture folders written before the one training loop


def motif_files(
    paths: list[str | os.PathLike],
    on_skip: Callable[[str], None] | None = None,
    min_side: int = 64,
) -> tuple[list[Path], int]:
    """The usable motif files and the shorter side to train them at (``load_size``).

    Headers only: unreadable files and motifs smaller than the ``min_side`` px training crop
    are reported and left out. All motifs are brought to one scale, that of the smallest
    (after shrinking each to ``MAX_MOTIF_SIDE``), so no motif is enlarged into blur.
    """
    files, sides = [], []
    for path in expand_inputs(paths):
        try:
            info = probe_image(path)
            if min(info.width, info.height) < min_side:
                size = f"{info.width}x{info.height} px"
                raise ImageError(path, f"{size} is smaller than the {min_side} px training crop")
        except ImageError as err:
            if on_skip:
                on_skip(str(err))
            continue
        shrink = min(1.0, MAX_MOTIF_SIDE / max(info.width, info.height))
        files.append(path)
        sides.append(max(min_side, round(min(info.width, info.height) * shrink)))
    if not files:
        raise ImageError(", ".join(str(p) for p in paths), "no readable motif image")
    return files, min(sides)


def load_texture_model(folder: str | os.PathLike) -> TextureGenerator:
    """The generator of a ``texture`` run folder (or of a ``stylebridge.texture/1`` folder from
    earlier versions); anything else is a one-line ``ModelFileError``."""
    folder = Path(folder)
    legacy = _legacy_config(folder)
    if legacy is not None:
        return _load_legacy(folder, legacy)
    g, config = generator_from_config(folder, "generator")
    if config.get("method") != "texture" or not isinstance(g, TextureGenerator):
        found = config.get("method")
        raise ModelFileError(folder, f"not a texture model (method is {found!r}, not 'texture')")
    return g


def _legacy_config(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / CONFIG_NAME).read_text())
    except (OSError, ValueError):
        return None  # generator_from_config gives the one-line reason
    return data if isinstance(data, dict) and data.get("format") == LEGACY_FORMAT else None


def _load_legacy(folder: Path, data: dict) -> TextureGenerator:
    settings = data.get("config") if isinstance(data.get("config"), dict) else {}
    try:
        config = TextureGeneratorConfig(settings["noise_channels"], settings["widths"])
    except (KeyError, TypeError, ValueError, ConfigError):
        raise ModelFileError(folder / CONFIG_NAME, "texture settings are missing or bad") from None
    g = TextureGenerator(config)
    tensors, _ = read_tensors(folder / "generator.safetensors")
    try:
        g.load_state_dict(tensors)
    except RuntimeError as err:
        message = str(err).splitlines()[0]
        path = folder / "generator.safetensors"
        raise ModelFileError(path, f"weights do not fit ({message})") from None
    return g.eval()


@torch.no_grad()
def generate(
    g: TextureGenerator, height: int, width: int, seed: int = 0, tileable: bool = True
) -> Image.Image:
    """One pattern of exactly ``height`` x ``width`` pixels from noise seeded by ``seed``.

    Tileable output needs sides that are multiples of the generator's scale (the noise grid
    must cover the torus exactly).
    """
    if tileable and (height % g.scale or width % g.scale):
        raise ConfigError(
            f"tileable patterns need sides that are multiples of {g.scale} px, got {width}x{height}"
        )
    generator = torch.Generator().manual_seed(seed)
    device = next(g.parameters()).device
    g.set_tileable(tileable)
    try:
        image = g(g.noise(height, width, 1, generator, device))[:, :, :height, :width]
    finally:
        g.set_tileable(True)
    return Image.fromarray(to_uint8(image), "RGB")


@dataclass
class PatternSet:
    """Generated patterns per seed, their seam scores, and the files written."""

    images: dict[int, Image.Image]
    seams: dict[int, SeamScore]
    files: list[Path] = field(default_factory=list)
    model_dir: Path | None = None


def generate_set(
    g: TextureGenerator, size: int | tuple[int, int], seeds: list[int], tileable: bool = True
) -> PatternSet:
    """One pattern per seed; ``size`` is a side or (width, height)."""
    width, height = (size, size) if isinstance(size, int) else size
    images, seams = {}, {}
    for seed in seeds:
        images[seed] = generate(g, height, width, seed=seed, tileable=tileable)
        seams[seed] = seam_score(images[seed])
    return PatternSet(images, seams)


def pattern_files(out: str | os.PathLike, seed: int, prefix: str = "pattern") -> list[Path]:
    """The pattern and its 2x2 tiling preview for one seed, as ``save_set`` names them."""
    return [Path(out) / f"{prefix}_seed{seed}.png", Path(out) / f"{prefix}_seed{seed}_tiled2x2.png"]


def save_set(
    patterns: PatternSet,
    out: str | os.PathLike,
    prefix: str = "pattern",
    *,
    replace: bool = True,
) -> PatternSet:
    """``<prefix>_seedN.png`` and ``<prefix>_seedN_tiled2x2.png`` per seed; ``replace=False``
    never clobbers a file."""
    for seed, image in patterns.images.items():
        whole, tiled = pattern_files(out, seed, prefix)
        patterns.files.append(save_image(image, whole, replace=replace))
        patterns.files.append(save_image(tile_preview(image), tiled, replace=replace))
    return patterns
