"""Translation methods: one file each, found by name through ``MODELS``."""

from . import cut, cyclegan  # noqa: F401  (registration)
from .base import MODELS, GeneratorOptions, TranslationModel
from .cut import CUTConfig, FastCUTConfig
from .cyclegan import CycleGANConfig

__all__ = [
    "MODELS",
    "CUTConfig",
    "CycleGANConfig",
    "FastCUTConfig",
    "GeneratorOptions",
    "TranslationModel",
]
