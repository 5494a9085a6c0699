"""Serving trained generators: any-size images, tiles, batches, strength blending."""

from .stylizer import Stylizer, StylizeResult
from .tiling import TileRunner, set_norm_mode

__all__ = ["StylizeResult", "Stylizer", "TileRunner", "set_norm_mode"]
