"""DCGAN-style generator and discriminator for any power-of-two size from 16 to 256 px.

The same pair serves DCGAN, LSGAN, WGAN, WGAN-GP and SNGAN: the objectives differ, the shapes
do not. The discriminator's normalisation is chosen per objective (batch norm breaks the
per-sample gradient penalty, spectral norm is SNGAN's point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ..errors import ConfigError

D_NORMS = ("batch", "layer", "none")


def check_size(size: int, low: int = 16, high: int = 256) -> int:
    """log2 of a power-of-two image side within [low, high]."""
    if size < low or size > high or size & (size - 1):
        raise ConfigError(f"size must be a power of two from {low} to {high}, got {size}")
    return int(math.log2(size))


@dataclass
class DCGANConfig:
    """What a run folder stores to rebuild the generator."""

    size: int = 64
    z_dim: int = 128
    ngf: int = 64  # channels at the last hidden layer; doubled per step towards 4x4, max 8x
    architecture: str = "dcgan"


def _widths(size: int, base: int) -> list[int]:
    """Channels at 4x4, 8x8, ... size/2 for a net whose widest layer is 8x the base."""
    steps = check_size(size) - 2
    return [base * min(8, 2 ** (steps - 1 - i)) for i in range(steps)]


class DCGANGenerator(nn.Module):
    """z -> 4x4 by a transposed convolution, then x2 transposed convolutions with batch norm."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        widths = _widths(config.size, config.ngf)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.z_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [
                nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], 3, 4, 2, 1), nn.Tanh()]
        self.layers = nn.Sequential(*layers)
        _dcgan_init(self)

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    def forward(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        """``truncation`` < 1 shrinks z towards 0 (the mean of the prior)."""
        return self.layers((z * truncation)[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """Strided 4x4 convolutions down to 4x4, then one logit per image."""

    def __init__(self, size: int, ndf: int = 64, norm: str = "batch", spectral: bool = False):
        super().__init__()
        if norm not in D_NORMS:
            raise ConfigError(f"unknown d_norm {norm!r}; choose one of: {', '.join(D_NORMS)}")
        widths = list(reversed(_widths(size, ndf)))
        wrap = _spectral_norm if spectral else (lambda m: m)
        layers: list[nn.Module] = [wrap(nn.Conv2d(3, widths[0], 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        res = size // 2
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            res //= 2
            layers += [
                wrap(nn.Conv2d(cin, cout, 4, 2, 1, bias=norm == "none")),
                _norm(norm, cout, res),
            ]
            layers.append(nn.LeakyReLU(0.2, True))
        layers.append(wrap(nn.Conv2d(widths[-1], 1, 4, 1, 0)))
        self.layers = nn.Sequential(*layers)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).flatten(1)


def _norm(kind: str, channels: int, res: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # per-sample, so the gradient penalty stays per-sample (WGAN-GP paper)
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def _dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) weights and N(1, 0.02) norm scales, as in the DCGAN paper."""
    for m in module.modules():
        weight = getattr(m, "weight", None)
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            target = (
                m.parametrizations.weight.original if hasattr(m, "parametrizations") else weight
            )
            nn.init.normal_(target, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
