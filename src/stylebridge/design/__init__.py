"""Fashion and textile design: garment masks and masked restyling, seamless patterns, palettes."""

from .garment import (
    GarmentResult,
    default_feather,
    garment_mask,
    restyle_garment,
    save_garment,
    stylize_masked,
    variants,
)
from .masks import AutoMask, auto_mask, feather, find_face, load_mask, overlay
from .palette import Palette, palette_of, recolor
from .pattern import (
    PatternSet,
    generate_set,
    learn_patterns,
    load_motifs,
    load_texture_model,
    save_set,
    save_texture_model,
)
from .seams import SeamScore, seam_score, tile_preview
from .texture import TextureConfig, TextureGenerator, TextureReport, generate, train_texture

__all__ = [
    "AutoMask",
    "GarmentResult",
    "Palette",
    "PatternSet",
    "SeamScore",
    "TextureConfig",
    "TextureGenerator",
    "TextureReport",
    "auto_mask",
    "default_feather",
    "feather",
    "find_face",
    "garment_mask",
    "generate",
    "generate_set",
    "learn_patterns",
    "load_mask",
    "load_motifs",
    "load_texture_model",
    "overlay",
    "palette_of",
    "recolor",
    "restyle_garment",
    "save_garment",
    "save_set",
    "save_texture_model",
    "seam_score",
    "stylize_masked",
    "tile_preview",
    "train_texture",
    "variants",
]
