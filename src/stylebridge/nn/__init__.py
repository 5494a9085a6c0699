"""Network building blocks and architectures; no optimisers, no losses."""

from .device import choose_precision, pick_device, prepare_runtime
from .discriminators import PatchDiscriminator, PatchDiscriminatorConfig
from .generators import ResnetGenerator, ResnetGeneratorConfig
from .layers import NORMS, UPSAMPLES, GlobalStatsInstanceNorm
from .patch_mlp import PatchSampleMLP

__all__ = [
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
