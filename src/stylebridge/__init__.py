"""stylebridge: GAN style transfer between visual cultures, style measurement and design tools."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ConfigError, DataError, ImageError, ModelFileError, StylebridgeError

__all__ = [
    "ConfigError",
    "DataError",
    "ImageError",
    "ModelFileError",
    "StylebridgeError",
    "__version__",
    "export",
    "feature_engine",
    "load",
    "model_folder",
    "save",
    "style_code",
    "stylize",
    "train",
]


API_NAMES = (
    "load",
    "save",
    "model_folder",
    "stylize",
    "train",
    "check_data",
    "evaluate",
    "export",
    "feature_engine",
    "style_code",
)


def __getattr__(name: str):
    """Keep ``import stylebridge`` light: the API (and torch models) load on first use."""
    if name in API_NAMES:
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
