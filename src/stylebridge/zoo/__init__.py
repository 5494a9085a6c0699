"""Bundled pretrained culture models: each a folder with config.json, safetensors and a card."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError

ZOO_DIR = Path(__file__).resolve().parent


def styles() -> dict[str, Path]:
    """Style name -> model folder, for every bundled model."""
    return {p.name: p for p in sorted(ZOO_DIR.iterdir()) if (p / "config.json").is_file()}


def style_path(name: str) -> Path:
    found = styles()
    if name not in found:
        valid = ", ".join(found) or "(none bundled)"
        raise ConfigError(f"unknown style {name!r}; bundled styles: {valid}")
    return found[name]


def describe(name: str) -> dict:
    """The ``card`` section of a bundled model's config.json."""
    return json.loads((style_path(name) / "config.json").read_text()).get("card", {})
