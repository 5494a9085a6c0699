"""Image-to-image generators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .layers import ResnetBlock, Upsample2x, conv_bias, init_weights, make_norm


@dataclass
class ResnetGeneratorConfig:
    """The architecture a run folder stores, so loading never depends on repeated flags."""

    ngf: int = 64  # channels after the stem; doubled by each downsampling
    n_blocks: int = 9  # residual blocks at 1/4 resolution (the papers: 9 at 256 px, 6 at 128 px)
    norm: str = "instance"
    upsample: str = "resize"  # resize | transpose (paper) | pixelshuffle
    n_downsampling: int = 2


class ResnetGenerator(nn.Module):
    """CycleGAN/CUT ResNet generator as one flat layer list.

    The flat list keeps the CUT paper's layer numbering for PatchNCE: 0 = padded input, 4 and 8 =
    the two downsampling convolutions, 12.. = residual blocks.
    """

    def __init__(self, config: ResnetGeneratorConfig):
        super().__init__()
        self.config = config
        ngf, norm, bias = config.ngf, config.norm, conv_bias(config.norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(3, ngf, 7, bias=bias),
            make_norm(norm, ngf),
            nn.ReLU(inplace=True),
        ]
        ch = ngf
        for _ in range(config.n_downsampling):
            layers += [
                nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1, bias=bias),
                make_norm(norm, ch * 2),
                nn.ReLU(inplace=True),
                nn.Identity(),  # keeps four layers per stage, as in CUT's numbering
            ]
            ch *= 2
        layers += [ResnetBlock(ch, norm) for _ in range(config.n_blocks)]
        for _ in range(config.n_downsampling):
            layers += [
                Upsample2x(ch, ch // 2, config.upsample, bias),
                make_norm(norm, ch // 2),
                nn.ReLU(inplace=True),
            ]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, 3, 7), nn.Tanh()]
        self.layers = nn.Sequential(*layers)
        init_weights(self)

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this (the stylizer pads to it)."""
        return 2**self.config.n_downsampling

    def forward(
        self, x: torch.Tensor, feature_layers: Sequence[int] = (), encode_only: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Plain call: the translated image. With ``feature_layers``: (image or None, features)."""
        if not feature_layers:
            return self.layers(x)
        wanted = set(feature_layers)
        last = max(wanted)
        features = []
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in wanted:
                features.append(x)
            if encode_only and index == last:
                return None, features
        return x, features

    def feature_channels(self, feature_layers: Sequence[int]) -> list[int]:
        """Channel count at each feature layer, found by a tiny dry run."""
        with torch.no_grad():
            probe = torch.zeros(1, 3, 32, 32, device=next(self.parameters()).device)
            _, feats = self.forward(probe, feature_layers, encode_only=True)
        return [f.shape[1] for f in feats]
