"""Fashion and textile design: garment masks and masked restyling, seamless patterns, palettes."""

from .garment import (
    GarmentResult,
    default_feather,
    garment_files,
    garment_mask,
    restyle_garment,
    save_garment,
    stylize_masked,
    variants,
)
from .masks import AutoMask, auto_mask, feather, find_face, load_mask, overlay
from .palette import Palette, colourway_of, dyes_of, palette_of, recolor
from .pattern import (
    PatternSet,
    generate,
    generate_set,
    load_texture_model,
    motif_files,
    pattern_files,
    save_set,
)
from .seams import SeamScore, seam_score, tile_preview

__all__ = [
    "AutoMask",
    "GarmentResult",
    "Palette",
    "PatternSet",
    "SeamScore",
    "auto_mask",
    "default_feather",
    "feather",
    "find_face",
    "garment_files",
    "garment_mask",
    "generate",
    "generate_set",
    "load_mask",
    "load_texture_model",
    "motif_files",
    "overlay",
    "colourway_of",
    "dyes_of",
    "palette_of",
    "pattern_files",
    "recolor",
    "restyle_garment",
    "save_garment",
    "save_set",
    "seam_score",
    "stylize_masked",
    "tile_preview",
    "variants",
]
