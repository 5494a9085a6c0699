"""Texture GAN networks after the spatial GAN of Jetchev et al. (2016).

The generator is fully convolutional and maps a grid of noise vectors to pixels, so a bigger
noise grid gives a bigger pattern. Every convolution pads circularly and every upsampling wraps
around, so the generator computes on a torus: the output's right edge continues into its left
edge and the pattern tiles without a seam. A patch discriminator judges crops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError


@dataclass
class TextureGeneratorConfig:
    """What a run folder stores to rebuild the texture generator."""

    noise_channels: int = 32  # channels of the spatial noise grid
    widths: tuple[int, ...] | str = (128, 96, 64, 32, 16)  # coarse to fine; x2 between them
    architecture: str = "texture"

    def __post_init__(self):
        items = self.widths.split(",") if isinstance(self.widths, str) else self.widths
        try:
            self.widths = tuple(int(w) for w in items)  # config.json: "128,96,64,32,16"
        except (TypeError, ValueError):
            raise ConfigError(f"texture generator: bad widths {self.widths!r}") from None
        if len(self.widths) < 1 or min(self.widths) < 1 or self.noise_channels < 1:
            raise ConfigError("texture generator: widths and noise_channels must be >= 1")

    @property
    def scale(self) -> int:
        """Output pixels per noise cell."""
        return 2 ** (len(self.widths) - 1)


class PeriodicUpsample(nn.Module):
    """Bilinear x2 that wraps around the borders (exactly periodic) or clamps them."""

    def __init__(self):
        super().__init__()
        self.wrap = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.wrap:
            return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        padded = F.pad(x, (1, 1, 1, 1), mode="circular")
        up = F.interpolate(padded, scale_factor=2, mode="bilinear", align_corners=False)
        return up[:, :, 2:-2, 2:-2]


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, padding=1, padding_mode="circular"),
        nn.GroupNorm(cout, cout),  # instance norm: same in training and at any output size
        nn.LeakyReLU(0.2, inplace=True),
    ]


class TextureGenerator(nn.Module):
    """Noise grid (N, noise_channels, h, w) -> image (N, 3, h*scale, w*scale) in [-1, 1]."""

    def __init__(self, config: TextureGeneratorConfig):
        super().__init__()
        widths = config.widths
        layers: list[nn.Module] = [
            *_block(config.noise_channels, widths[0]),
            *_block(widths[0], widths[0]),
        ]
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [PeriodicUpsample(), *_block(cin, cout)]
        layers += [nn.Conv2d(widths[-1], 3, 3, padding=1, padding_mode="circular"), nn.Tanh()]
        self.layers = nn.Sequential(*layers)
        self.config = config
        self.noise_channels = config.noise_channels
        self.scale = config.scale

    def set_tileable(self, tileable: bool) -> None:
        """Circular padding (a torus: seamless tiles) or zero padding (an ordinary image)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                module.padding_mode = "circular" if tileable else "zeros"
            elif isinstance(module, PeriodicUpsample):
                module.wrap = tileable

    def noise(
        self,
        height: int,
        width: int,
        batch: int = 1,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """The noise grid for an output of at least ``height`` x ``width`` pixels."""
        h, w = -(-height // self.scale), -(-width // self.scale)
        z = torch.randn(batch, self.noise_channels, h, w, generator=generator)
        return z if device is None else z.to(device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)


class TextureDiscriminator(nn.Module):
    """Patch discriminator (4 layers: one logit per ~78 px patch); spectral norm keeps it smooth."""

    def __init__(self, ndf: int, layers: int = 4):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        widths = [3] + [ndf * min(2**i, 4) for i in range(layers)]
        modules: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            modules += [sn(nn.Conv2d(cin, cout, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, True)]
        modules.append(sn(nn.Conv2d(widths[-1], 1, 3, padding=1)))
        self.layers = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
