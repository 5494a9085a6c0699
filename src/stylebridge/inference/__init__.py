"""Serving trained generators: any-size images, tiles, batches, strength blending, ONNX."""

from .color import preserve_color
from .onnx import ONNX_TOLERANCE, OnnxExport, OnnxGenerator, export_module, export_onnx, onnx_for
from .stylizer import BACKENDS, Stylizer, StylizeResult
from .tiling import TileRunner, set_norm_mode

__all__ = [
    "BACKENDS",
    "ONNX_TOLERANCE",
    "OnnxExport",
    "OnnxGenerator",
    "StylizeResult",
    "Stylizer",
    "TileRunner",
    "export_module",
    "export_onnx",
    "onnx_for",
    "preserve_color",
    "set_norm_mode",
]
