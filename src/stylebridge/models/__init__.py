"""Translation and generation methods: one file each, found by name through ``MODELS``."""

from . import (  # noqa: F401  (registration)
    cut,
    cyclegan,
    denoise,
    gan,
    inpaint,
    multiculture,
    pix2pix,
    stylenet,
    superres,
    texture,
)
from .base import MODELS, GeneratorOptions, TranslationModel
from .cut import CUTConfig, FastCUTConfig
from .cyclegan import CycleGANConfig
from .gan import GANConfig, UnconditionalGAN
from .multiculture import MultiCultureConfig
from .pix2pix import Pix2PixConfig
from .stylenet import ENGINE_METHODS, StyleNetConfig
from .texture import TextureConfig, TextureGAN

__all__ = [
    "ENGINE_METHODS",
    "MODELS",
    "MultiCultureConfig",
    "CUTConfig",
    "CycleGANConfig",
    "FastCUTConfig",
    "GANConfig",
    "Pix2PixConfig",
    "StyleNetConfig",
    "TextureConfig",
    "TextureGAN",
    "UnconditionalGAN",
    "GeneratorOptions",
    "TranslationModel",
]
