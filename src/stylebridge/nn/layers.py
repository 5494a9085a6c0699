"""Building blocks shared by the generators and discriminators."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

NORMS = ("instance", "batch", "none")
UPSAMPLES = ("resize", "transpose", "pixelshuffle")


class GlobalStatsInstanceNorm(nn.InstanceNorm2d):
    """Instance norm whose statistics can be gathered over many tiles and then frozen.

    Tiled stylisation of a huge image would otherwise normalise every tile by its own statistics
    and show seams; with ``mode="collect"`` a first pass sums statistics over all tiles, with
    ``mode="frozen"`` the second pass normalises every tile by the whole image's statistics.
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__(num_features, eps=eps, affine=False, track_running_stats=False)
        self.mode = "instance"
        self._sum: torch.Tensor | None = None
        self._sumsq: torch.Tensor | None = None
        self._count = 0

    def reset_stats(self) -> None:
        self._sum, self._sumsq, self._count = None, None, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "instance":
            # group norm with one channel per group is instance norm; its CPU kernel is 2-3x
            # faster and keeps channels_last (instance_norm reshapes and copies)
            return F.group_norm(x, self.num_features, eps=self.eps)
        if self.mode == "collect":
            flat = x.detach().double()
            s, sq = flat.sum(dim=(0, 2, 3)), flat.square().sum(dim=(0, 2, 3))
            self._sum = s if self._sum is None else self._sum + s
            self._sumsq = sq if self._sumsq is None else self._sumsq + sq
            self._count += x.shape[0] * x.shape[2] * x.shape[3]
            return F.group_norm(x, self.num_features, eps=self.eps)
        if self._sum is None or self._count == 0:
            raise RuntimeError("frozen instance norm used before any statistics were collected")
        mean = self._sum / self._count
        var = (self._sumsq / self._count - mean.square()).clamp_min(0)
        scale = (var + self.eps).rsqrt().to(x.dtype).view(1, -1, 1, 1)
        return (x - mean.to(x.dtype).view(1, -1, 1, 1)) * scale


def make_norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return GlobalStatsInstanceNorm(channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {kind!r}; choose one of: {', '.join(NORMS)}")


def conv_bias(norm: str) -> bool:
    """A bias before instance or batch norm is cancelled by the mean subtraction."""
    return norm not in ("instance", "batch")


class ResnetBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with a residual connection (Johnson et al.)."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        bias = conv_bias(norm)
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(norm, channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _icnr_(weight: torch.Tensor, scale: int = 2) -> None:
    """ICNR init: every sub-pixel starts equal, so pixel shuffle starts checkerboard-free."""
    out_ch = weight.shape[0] // (scale * scale)
    base = torch.empty(out_ch, *weight.shape[1:])
    nn.init.normal_(base, 0.0, 0.02)
    weight.data.copy_(base.repeat_interleave(scale * scale, dim=0))


class Upsample2x(nn.Module):
    """x2 upsampling convolution. ``resize`` (bilinear + 3x3 conv) avoids checkerboard artefacts;
    ``transpose`` is the CycleGAN paper's layer; ``pixelshuffle`` costs the same as transpose."""

    def __init__(self, in_ch: int, out_ch: int, kind: str, bias: bool):
        super().__init__()
        self.kind = kind
        if kind == "resize":
            self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=bias)
        elif kind == "transpose":
            self.conv = nn.ConvTranspose2d(in_ch, out_ch, 3, 2, 1, output_padding=1, bias=bias)
        elif kind == "pixelshuffle":
            self.conv = nn.Conv2d(in_ch, out_ch * 4, 3, padding=1, bias=bias)
            _icnr_(self.conv.weight)
            self.conv._icnr = True  # init_weights keeps this initialisation
        else:
            raise ConfigError(f"unknown upsample {kind!r}; choose one of: {', '.join(UPSAMPLES)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "resize":
            return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
        if self.kind == "pixelshuffle":
            return F.pixel_shuffle(self.conv(x), 2)
        return self.conv(x)


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """N(0, 0.02) convolutions as in the CycleGAN/CUT papers; norms at weight 1, bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if getattr(m, "_icnr", False):
                continue
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
