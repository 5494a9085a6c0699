"""Seamless textile patterns: train a texture GAN on motifs, save it, generate several seeds."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from ..data import expand_inputs
from ..errors import ImageError, ModelFileError
from ..imageio import load_image, save_image
from ..models.files import atomic_save_tensors, read_tensors, write_json
from .seams import SeamScore, seam_score, tile_preview
from .texture import (
    TextureConfig,
    TextureGenerator,
    TextureReport,
    config_dict,
    config_from_dict,
    generate,
    train_texture,
)

TEXTURE_FORMAT = "stylebridge.texture/1"
WEIGHTS_NAME = "generator.safetensors"
CONFIG_NAME = "config.json"
MAX_MOTIF_SIDE = 512  # larger motifs are shrunk: the GAN learns texture at this scale


def load_motifs(
    paths: list[str | os.PathLike],
    on_skip: Callable[[str], None] | None = None,
    min_side: int = 64,
) -> list[Image.Image]:
    """Motif images from files and folders; unreadable or too small ones are reported and left
    out (``min_side``: the training crop must fit inside every motif)."""
    motifs = []
    for path in expand_inputs(paths):
        try:
            image = load_image(path).rgb
            if min(image.size) < min_side:
                raise ImageError(
                    path,
                    f"{image.width}x{image.height} px is smaller than the "
                    f"{min_side} px training crop",
                )
        except ImageError as err:
            if on_skip:
                on_skip(str(err))
            continue
        image.thumbnail((MAX_MOTIF_SIDE, MAX_MOTIF_SIDE), Image.Resampling.LANCZOS)
        motifs.append(image)
    if not motifs:
        raise ImageError(", ".join(str(p) for p in paths), "no readable motif image")
    return motifs


def save_texture_model(
    g: TextureGenerator, config: TextureConfig, folder: str | os.PathLike, motif_names: list[str]
) -> Path:
    """A model folder: config.json (format, settings, motifs) + generator.safetensors."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(g.state_dict(), folder / WEIGHTS_NAME)
    write_json(
        folder / CONFIG_NAME,
        {"format": TEXTURE_FORMAT, "config": config_dict(config), "motifs": motif_names},
    )
    return folder


def load_texture_model(folder: str | os.PathLike) -> TextureGenerator:
    """Rebuild a saved texture generator; a wrong or damaged folder gets a one-line error."""
    import json

    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ModelFileError(path, "missing: not a stylebridge texture model folder")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(path, f"corrupt JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != TEXTURE_FORMAT:
        raise ModelFileError(path, f"not a texture model config (format is not {TEXTURE_FORMAT})")
    g = TextureGenerator(config_from_dict(data.get("config", {})))
    tensors, _ = read_tensors(folder / WEIGHTS_NAME)
    try:
        g.load_state_dict(tensors)
    except RuntimeError as err:
        message = str(err).splitlines()[0]
        raise ModelFileError(folder / WEIGHTS_NAME, f"weights do not fit ({message})") from None
    return g.eval()


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


def save_set(patterns: PatternSet, out: str | os.PathLike, prefix: str = "pattern") -> PatternSet:
    """``<prefix>_seedN.png`` and ``<prefix>_seedN_tiled2x2.png`` per seed."""
    out = Path(out)
    for seed, image in patterns.images.items():
        patterns.files.append(save_image(image, out / f"{prefix}_seed{seed}.png"))
        patterns.files.append(
            save_image(tile_preview(image), out / f"{prefix}_seed{seed}_tiled2x2.png")
        )
    return patterns


def learn_patterns(
    motifs: list[Image.Image],
    out: str | os.PathLike,
    *,
    size=1024,
    seeds: list[int] | None = None,
    tileable: bool = True,
    config: TextureConfig | None = None,
    progress: Callable[[TextureReport], None] | None = None,
    motif_names: list[str] | None = None,
) -> PatternSet:
    """Train on the motifs, save the model to ``out/texture_model``, write patterns and tilings."""
    config = config or TextureConfig()
    torch.manual_seed(config.seed)
    g = train_texture(motifs, config, progress)
    model_dir = save_texture_model(g, config, Path(out) / "texture_model", motif_names or [])
    patterns = save_set(generate_set(g, size, seeds or [0, 1, 2, 3], tileable), out)
    patterns.model_dir = model_dir
    return patterns
