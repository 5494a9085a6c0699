"""Bundled pretrained culture models: each a folder with config.json, safetensors and a card."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError

ZOO_DIR = Path(__file__).resolve().parent


ENGINE_DIR = ZOO_DIR / "feature_engine"  # the feature-fusion decoder and its culture codes
# a distilled decoder 2-3x faster on the same encoder, reading the same codes; a name
# (``--engine fast``) like "bundled" for the one above
ENGINES = {"bundled": ENGINE_DIR, "fast": ENGINE_DIR / "fast"}


CULTURE_STYLE = "engine_style"  # config method of a culture style: the engine + a culture code
LOOK_SUFFIX = "_look"  # the FastCUT colour looks that held the culture names before the engine


def _method(folder: Path) -> str:
    try:
        return str(json.loads((folder / "config.json").read_text()).get("method", ""))
    except (OSError, ValueError):
        return ""


def styles() -> dict[str, Path]:
    """Style name -> model folder for every bundled style: the culture styles (the feature-
    fusion engine with a culture's code at its measured settings) first, then the translation
    models (the FastCUT ``*_look`` styles)."""
    found = [
        p for p in sorted(ZOO_DIR.iterdir()) if (p / "config.json").is_file() and p != ENGINE_DIR
    ]
    found.sort(key=lambda p: _method(p) != CULTURE_STYLE)  # stable: names stay sorted within
    return {p.name: p for p in found}


def culture_styles() -> dict[str, Path]:
    """The bundled culture styles only (``load`` gives the engine bound to the culture)."""
    return {n: p for n, p in styles().items() if _method(p) == CULTURE_STYLE}


def looks() -> dict[str, Path]:
    """The bundled translation models only (FastCUT colour looks, one generator each)."""
    return {n: p for n, p in styles().items() if _method(p) != CULTURE_STYLE}


def engine_dir(name: str = "bundled") -> Path:
    """A bundled feature-fusion engine (``stylebridge train stylenet``'s model folder):
    ``bundled`` or ``fast``."""
    folder = ENGINES.get(name)
    if folder is None or not (folder / "config.json").is_file():
        raise ConfigError(f"no feature-fusion engine {name!r} is bundled with this installation")
    return folder


def culture_codes(engine_dir: Path = ENGINE_DIR) -> dict[str, Path]:
    """Culture name -> style code in an engine folder's ``codes/`` (moments of the engine's
    features over a corpus): the bundled engine's by default, or a multiculture run's."""
    folder = Path(engine_dir) / "codes"
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.safetensors"))}


RESTORE_DIR = ZOO_DIR / "restore"  # bundled restoration models, one folder per task
_RESTORE_FOLDERS = {
    "super-resolution": "upscale_x{scale}",
    "denoising": "denoise",
    "inpainting": "inpaint",
}


def restoration_dir(task: str, scale: int | None = None, *, gan: bool = False) -> Path:
    """The bundled model folder of a restoration task (super-resolution: of that scale, and
    with ``gan`` the GAN model: sharper, invented texture)."""
    if gan and task != "super-resolution":
        raise ConfigError(f"the GAN model is for upscaling, not {task}")
    name = _RESTORE_FOLDERS[task].format(scale=scale or 4) + ("_gan" if gan else "")
    folder = RESTORE_DIR / name
    if not (folder / "config.json").is_file():
        shipped = sorted(p.name for p in RESTORE_DIR.glob("*") if (p / "config.json").is_file())
        raise ConfigError(
            f"no bundled {task} model {name!r} (bundled: {', '.join(shipped) or 'none'}); "
            "pass --model with a run folder from stylebridge train"
        )
    return folder


def style_path(name: str) -> Path:
    found = styles()
    if name not in found:
        valid = ", ".join(found) or "(none bundled)"
        raise ConfigError(f"unknown style {name!r}; bundled styles: {valid}")
    return found[name]


def describe(name: str) -> dict:
    """The ``card`` section of a bundled model's config.json."""
    return json.loads((style_path(name) / "config.json").read_text()).get("card", {})
