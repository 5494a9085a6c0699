"""Rebuild any generator from the ``generator`` section of a run folder's ``config.json``."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import ConfigError
from .dcgan import DCGANConfig, DCGANGenerator
from .generators import ResnetGenerator, ResnetGeneratorConfig
from .restoration import (
    Denoiser,
    DenoiserConfig,
    Inpainter,
    InpainterConfig,
    SRNet,
    SRNetConfig,
)
from .stylegan import StyleGAN2Config, StyleGAN2Generator
from .texture import TextureGenerator, TextureGeneratorConfig
from .unet import UnetGenerator, UnetGeneratorConfig

# section["architecture"] -> (config dataclass, network); sections without the key are ResNets
GENERATORS: dict[str, tuple[type, type[nn.Module]]] = {
    "resnet": (ResnetGeneratorConfig, ResnetGenerator),
    "unet": (UnetGeneratorConfig, UnetGenerator),
    "dcgan": (DCGANConfig, DCGANGenerator),
    "stylegan2": (StyleGAN2Config, StyleGAN2Generator),
    "srnet": (SRNetConfig, SRNet),
    "denoiser": (DenoiserConfig, Denoiser),
    "inpainter": (InpainterConfig, Inpainter),
    "texture": (TextureGeneratorConfig, TextureGenerator),
}


def build_generator(section: dict[str, Any]) -> nn.Module:
    """A fresh network of the architecture the section describes (weights not loaded)."""
    section = dict(section)
    kind = section.pop("architecture", "resnet")
    if kind not in GENERATORS:
        raise ConfigError(f"unknown generator architecture {kind!r}")
    config_cls, net_cls = GENERATORS[kind]
    if kind != "resnet":
        section["architecture"] = kind
    return net_cls(config_cls(**section))
