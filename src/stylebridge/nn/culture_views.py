"""Culture views: differentiable maps of one property a culture's look lives in.

A discriminator that sees whole RGB images learns palette first, the easiest difference between
photos and paintings. Shown a view instead, it can only judge that property, so the generator
has to get it right: ChipGAN's ink-wash constraint (He et al. 2018) shows D an eroded, blurred
image, so it judges wash tones rather than detail. All views take RGB in [-1, 1] (NCHW) and
return maps of the same size, roughly in [-1, 1]; none has weights.

- ``ink_wash``: luminance eroded by 3x3 then Gaussian-blurred (ChipGAN's ink-wash view);
- ``strokes``: Sobel gradient magnitude of luminance (contour strokes and their width);
- ``outlines``: dark lines, luminance below its blurred surround (ukiyo-e's key block);
- ``flatness``: local colour spread in 5x5 windows (flat colour regions read near -1);
- ``orientation``: the smoothed structure tensor, (cos 2θ, sin 2θ) weighted by coherence, and
  energy (the direction and regularity of brush strokes in oil).

``empty_space_loss`` is ChipGAN's void constraint as a statistic rather than a view.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)


def luma(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] RGB -> luminance in [0, 1], one channel."""
    weights = images.new_tensor(LUMA).view(1, 3, 1, 1)
    return ((images.float() + 1) * 0.5 * weights).sum(1, keepdim=True)


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian with reflect padding; channels are blurred independently."""
    radius = max(1, math.ceil(2.5 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = maps.shape[1]
    out = F.pad(maps, (radius, radius, 0, 0), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    out = F.pad(out, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(out, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def _sobel(lum: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    k = lum.new_tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
    padded = F.pad(lum, (1, 1, 1, 1), mode="replicate")
    return F.conv2d(padded, k.view(1, 1, 3, 3)), F.conv2d(padded, k.t().reshape(1, 1, 3, 3))


def ink_wash(images: torch.Tensor) -> torch.Tensor:
    lum = luma(images)
    eroded = -F.max_pool2d(-F.pad(lum, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return gaussian_blur(eroded, 2.0) * 2 - 1


def strokes(images: torch.Tensor) -> torch.Tensor:
    gx, gy = _sobel(luma(images))
    # a hard edge between black and white is ~0.5; x4 spreads ordinary edges over [-1, 1]
    return (gx.square() + gy.square() + 1e-8).sqrt().mul(4).clamp(max=2) - 1


def outlines(images: torch.Tensor) -> torch.Tensor:
    lum = luma(images)
    dark = (gaussian_blur(lum, 2.0) - lum).clamp(min=0)
    return dark.mul(8).clamp(max=2) - 1


def flatness(images: torch.Tensor) -> torch.Tensor:
    rgb = (images.float() + 1) * 0.5
    padded = F.pad(rgb, (2, 2, 2, 2), mode="reflect")
    mean = F.avg_pool2d(padded, 5, stride=1)
    square = F.avg_pool2d(padded.square(), 5, stride=1)
    spread = (square - mean.square()).clamp(min=0).add(1e-6).sqrt()
    return spread.mul(8).clamp(max=2) - 1


def orientation(images: torch.Tensor) -> torch.Tensor:
    gx, gy = _sobel(luma(images))
    tensor = gaussian_blur(torch.cat([gx * gx, gy * gy, gx * gy], 1), 2.0)
    jxx, jyy, jxy = tensor[:, :1], tensor[:, 1:2], tensor[:, 2:]
    energy = jxx + jyy + 1e-6
    cos2, sin2 = (jxx - jyy) / energy, 2 * jxy / energy  # coherence * (cos 2θ, sin 2θ)
    return torch.cat([cos2, sin2, energy.mul(400).log1p().mul(0.5).clamp(max=2) - 1], 1)


def empty_space_share(
    images: torch.Tensor, cell: int = 4, spread: float = 0.025, softness: float = 0.006
) -> torch.Tensor:
    """Each image's share of empty cells (no marks: luminance spread below ``spread``), made
    soft so it has a gradient: the negative-space descriptor of the analysis, per image (N,)."""
    lum = luma(images)
    mean = F.avg_pool2d(lum, cell)
    std = (F.avg_pool2d(lum.square(), cell) - mean.square()).clamp(min=0).add(1e-8).sqrt()
    return torch.sigmoid((spread - std) / softness).mean((1, 2, 3))


def empty_space_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """ChipGAN's void constraint as a statistic: each output's empty-space share against a
    painting of its group. In expectation the gradient pulls the share to the group's mean,
    so an ink rendering keeps the large blank areas of ink painting instead of filling them."""
    return (empty_space_share(fake) - empty_space_share(real).detach()).square().mean()


# name -> (view, channels)
VIEWS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], int]] = {
    "ink_wash": (ink_wash, 1),
    "strokes": (strokes, 1),
    "outlines": (outlines, 1),
    "flatness": (flatness, 3),
    "orientation": (orientation, 3),
}
