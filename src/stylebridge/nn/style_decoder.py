"""The decoder of the feature-fusion style engine: encoder features at stride 8 -> RGB.

Nearest-neighbour upsampling and reflection-padded 3x3 convolutions without normalisation
(as in AdaIN's decoder): a normalisation layer would undo the statistics that carry the style.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class StyleDecoderConfig:
    in_channels: int = 240
    widths: tuple[int, ...] = (192, 128, 64, 32)  # one per resolution, stride 8 -> 1

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": ",".join(str(w) for w in self.widths)}

    @classmethod
    def from_dict(cls, data: dict) -> StyleDecoderConfig:
        widths = data.get("widths", cls.widths)
        if isinstance(widths, str):
            widths = tuple(int(w) for w in widths.split(",") if w.strip())
        return cls(int(data.get("in_channels", 240)), tuple(widths))


def _conv(c_in: int, c_out: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3)]
    return [*layers, nn.ReLU(inplace=True)] if relu else layers


class StyleDecoder(nn.Module):
    def __init__(self, config: StyleDecoderConfig):
        super().__init__()
        if len(config.widths) != 4 or min(config.widths) < 1 or config.in_channels < 1:
            raise ValueError("the decoder needs four positive widths (stride 8, 4, 2, 1)")
        self.config = config
        w8, w4, w2, w1 = config.widths
        layers = _conv(config.in_channels, w8)
        for c_in, c_out in ((w8, w4), (w4, w2)):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv(c_in, c_out)]
            layers += _conv(c_out, c_out)
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv(w2, w1)]
        layers += _conv(w1, 3, relu=False)
        self.body = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Features (N, C, H/8, W/8) -> image (N, 3, H, W) in about [-1, 1] (not clamped, so
        the losses see gradients at the extremes)."""
        return self.body(features)
