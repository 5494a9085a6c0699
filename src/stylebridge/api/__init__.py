"""The stable Python API. The CLI and the web UI call these functions and nothing deeper.

One module per concern; every public name is re-exported here, so callers write
``from stylebridge.api import stylize`` and never name a module. Modules are named after
their concern, not after a function, so ``stylebridge.api.<module>`` never resolves to a
function of the same name.
"""

from __future__ import annotations

from .analysis import analyze, analyze_translation, cache_info, clear_cache, closest_cultures
from .batch import ENGINES, stylize_batch
from .data import (
    anonymize,
    anonymize_log_path,
    check_data,
    default_manifest_path,
    expand_inputs,
    make_pairs,
    read_image,
    write_manifest,
)
from .demos import DemoResult, demo
from .design import (
    design_dyes,
    design_garment,
    design_palette,
    design_pattern,
    design_recolor,
    design_variants,
    wax_options,
)
from .evaluation import evaluate, evaluation_options, generate
from .models import (
    export,
    import_cyclegan,
    is_culture_style,
    load,
    model_folder,
    save,
    style_card,
    style_notes,
    styles,
)
from .rendering import (
    FINISHES,
    FUSIONS,
    RENDER_SIDE,
    culture_codes,
    feature_engine,
    feature_engines,
    fuse,
    parse_mix,
    portrait_stylizer,
    style_code,
    style_renderer,
    stylize,
)
from .restoration import (
    denoise,
    detect_scratches,
    inpaint,
    restore_files,
    restore_old_photo,
    upscale,
)
from .training import config_to_dict, train, training_config

__all__ = [
    "FINISHES",
    "FUSIONS",
    "RENDER_SIDE",
    "DemoResult",
    "ENGINES",
    "analyze",
    "analyze_translation",
    "anonymize",
    "anonymize_log_path",
    "cache_info",
    "check_data",
    "clear_cache",
    "closest_cultures",
    "config_to_dict",
    "culture_codes",
    "default_manifest_path",
    "demo",
    "denoise",
    "design_garment",
    "design_dyes",
    "design_palette",
    "design_pattern",
    "design_recolor",
    "design_variants",
    "wax_options",
    "detect_scratches",
    "evaluate",
    "evaluation_options",
    "expand_inputs",
    "export",
    "feature_engine",
    "feature_engines",
    "fuse",
    "generate",
    "import_cyclegan",
    "is_culture_style",
    "inpaint",
    "load",
    "make_pairs",
    "model_folder",
    "parse_mix",
    "portrait_stylizer",
    "read_image",
    "restore_files",
    "restore_old_photo",
    "save",
    "style_card",
    "style_code",
    "style_notes",
    "style_renderer",
    "styles",
    "stylize",
    "stylize_batch",
    "train",
    "training_config",
    "upscale",
    "write_manifest",
]
