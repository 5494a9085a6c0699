"""U-Net generator for paired translation (pix2pix, Isola et al. 2017).

Skip connections carry the input's layout (a sketch's lines) straight to the decoder, so the
bottleneck only has to decide what to paint. Instance norm by default: the stylizer's tiled
inference can then freeze whole-image statistics, as for the ResNet generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import Upsample2x, conv_bias, init_weights, make_norm


@dataclass
class UnetGeneratorConfig:
    ngf: int = 64
    num_downs: int = 7  # 2**num_downs must divide the input side; 8 at 256 px in the paper
    norm: str = "instance"
    upsample: str = "transpose"  # transpose (the paper) | resize | pixelshuffle
    architecture: str = "unet"


class UnetGenerator(nn.Module):
    def __init__(self, config: UnetGeneratorConfig):
        super().__init__()
        self.config = config
        ngf, norm, bias = config.ngf, config.norm, conv_bias(config.norm)
        widths = [ngf * min(8, 2**i) for i in range(config.num_downs)]
        self.down = nn.ModuleList()
        cin = 3
        for i, cout in enumerate(widths):
            innermost, outermost = i == len(widths) - 1, i == 0
            layers: list[nn.Module] = [] if outermost else [nn.LeakyReLU(0.2, True)]
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=bias or innermost or outermost))
            if not (innermost or outermost):  # no norm on a 1x1 bottleneck or on the input
                layers.append(make_norm(norm, cout))
            self.down.append(nn.Sequential(*layers))
            cin = cout
        self.up = nn.ModuleList()
        for i in reversed(range(len(widths))):
            skip_in = widths[i] if i == len(widths) - 1 else widths[i] * 2
            if i == 0:
                layers = [nn.ReLU(True), Upsample2x(skip_in, 3, config.upsample, True), nn.Tanh()]
            else:
                layers = [
                    nn.ReLU(True),
                    Upsample2x(skip_in, widths[i - 1], config.upsample, bias),
                    make_norm(norm, widths[i - 1]),
                ]
            self.up.append(nn.Sequential(*layers))
        init_weights(self)

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this (the stylizer pads to it)."""
        return 2**self.config.num_downs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = self.up[0](skips.pop())
        for layer in self.up[1:]:
            x = layer(torch.cat([x, skips.pop()], dim=1))
        return x
