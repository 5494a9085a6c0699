"""Discriminators."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import conv_bias, init_weights, make_norm


@dataclass
class PatchDiscriminatorConfig:
    ndf: int = 64
    n_layers: int = 3  # 3 gives the papers' 70x70 receptive field
    norm: str = "instance"


class PatchDiscriminator(nn.Module):
    """PatchGAN: one real/fake logit per overlapping patch (Isola et al.); ``out_channels`` > 1
    gives one logit map per class (a multi-head, class-conditional discriminator)."""

    def __init__(
        self, config: PatchDiscriminatorConfig, in_channels: int = 3, out_channels: int = 1
    ):
        super().__init__()
        ndf, norm, bias = config.ndf, config.norm, conv_bias(config.norm)
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        ch = ndf
        for n in range(1, config.n_layers + 1):
            out = ndf * min(2**n, 8)
            stride = 2 if n < config.n_layers else 1
            layers += [
                nn.Conv2d(ch, out, 4, stride=stride, padding=1, bias=bias),
                make_norm(norm, out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            ch = out
        layers.append(nn.Conv2d(ch, out_channels, 4, stride=1, padding=1))
        self.layers = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
