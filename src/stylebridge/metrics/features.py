"""Feature extractors for the set metrics, each named and versioned so results say what made them.

An extractor takes RGB pixel values in [0, 255] (float, NCHW, any size), resizes them to its own
input size if needed, and returns pooled features plus class logits (``None`` when it has no
classifier). Folder evaluation resizes with PIL beforehand, so that step is then a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import pick_device
from ..nn.efficientnet_lite import default_cache_dir
from ..registry import Registry
from .lite0 import NUM_CLASSES, NUM_FEATURES, WHEEL_FILE, fuse_batchnorm, load_lite0


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """Cache folder for weights and features: argument, env var, else ~/.cache/stylebridge."""
    return Path(override) if override else default_cache_dir()


best_device = pick_device  # one device policy for the whole package


class FeatureExtractor(nn.Module):
    """Base class: ``forward(pixels_0_255) -> (features (N, D) float32, logits (N, C) or None)``."""

    name: str = ""
    version: str = ""
    input_size: int = 0  # square side the network sees
    num_features: int = 0
    num_classes: int = 0  # 0: no classifier, so no Inception Score
    standard: bool = False  # True only for the published FID Inception network
    label: str = ""  # how results name it, e.g. "FID (lite0)"; defaults to ``name``
    device: torch.device = torch.device("cpu")  # set by build_extractor

    def resize(self, x: torch.Tensor) -> torch.Tensor:
        """Bicubic with antialiasing, like PIL, for tensors that arrive at another size."""
        if x.shape[-2:] == (self.input_size, self.input_size):
            return x
        size = (self.input_size, self.input_size)
        return F.interpolate(x, size, mode="bicubic", align_corners=False, antialias=True)

    def describe(self) -> dict[str, object]:
        """What every result records about the extractor."""
        return {
            "name": self.name,
            "version": self.version,
            "dims": self.num_features,
            "classes": self.num_classes,
            "input_size": self.input_size,
            "standard": self.standard,
            "label": self.label or self.name,
        }


class Lite0Extractor(FeatureExtractor):
    """EfficientNet-Lite0 ImageNet: 1280-d pooled features and 1000 ImageNet logits at 224 px."""

    name = "lite0"
    version = f"1:{WHEEL_FILE}:bicubic224:tfnorm"
    input_size = 224
    num_features = NUM_FEATURES
    num_classes = NUM_CLASSES

    def __init__(self, cache: Path):
        super().__init__()
        self.net = fuse_batchnorm(load_lite0(cache))
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (self.resize(x).clamp(0, 255) - 127.0) / 128.0  # TF-style normalisation
        features, logits = self.net(x.contiguous(memory_format=torch.channels_last))
        return features.float(), logits.float()


class PixelExtractor(FeatureExtractor):
    """Cheap baseline and test double: the image shrunk to 8x8 RGB, scaled to [0, 1] (192-d)."""

    name = "pixel"
    version = "1:bicubic8"
    input_size = 8
    num_features = 3 * 8 * 8

    def __init__(self, cache: Path | None = None):
        super().__init__()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return (self.resize(x).clamp(0, 255) / 255.0).flatten(1).float(), None


ExtractorFactory = Callable[..., FeatureExtractor]
FEATURES: Registry[ExtractorFactory] = Registry("feature extractor")
FEATURES.register("lite0")(lambda cache, weights=None: Lite0Extractor(cache))
FEATURES.register("pixel")(lambda cache, weights=None: PixelExtractor(cache))


def build_extractor(
    name: str,
    *,
    device: str | torch.device = "auto",
    cache: str | os.PathLike | None = None,
    weights: str | os.PathLike | None = None,
) -> FeatureExtractor:
    """Registry name -> extractor in eval mode on the device, channels-last where it helps."""
    factory = FEATURES.get(name)
    device = device if isinstance(device, torch.device) else best_device(device)
    extractor = factory(cache_dir(cache), weights=weights).eval()
    extractor = extractor.to(device=device, memory_format=torch.channels_last)
    extractor.device = device
    return extractor
