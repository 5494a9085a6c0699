"""Network building blocks and architectures; no optimisers, no losses."""

from .architectures import GENERATORS, build_generator
from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from .device import choose_precision, pick_device, prepare_runtime
from .discriminators import PatchDiscriminator, PatchDiscriminatorConfig
from .generators import ResnetGenerator, ResnetGeneratorConfig
from .layers import NORMS, UPSAMPLES, GlobalStatsInstanceNorm
from .patch_mlp import PatchSampleMLP
from .stylegan import StyleGAN2Config, StyleGAN2Discriminator, StyleGAN2Generator, mix_styles
from .unet import UnetGenerator, UnetGeneratorConfig

__all__ = [
    "GENERATORS",
    "DCGANConfig",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "StyleGAN2Config",
    "StyleGAN2Discriminator",
    "StyleGAN2Generator",
    "UnetGenerator",
    "UnetGeneratorConfig",
    "build_generator",
    "mix_styles",
    "NORMS",
    "choose_precision",
    "pick_device",
    "prepare_runtime",
    "UPSAMPLES",
    "GlobalStatsInstanceNorm",
    "PatchDiscriminator",
    "PatchDiscriminatorConfig",
    "PatchSampleMLP",
    "ResnetGenerator",
    "ResnetGeneratorConfig",
]
