"""StyleGAN2-lite (Karras et al. 2020): mapping network, modulated/demodulated convolutions, noise
inputs, skip-to-RGB generator, residual discriminator, style mixing and truncation.

Small by default (128 channels at most) so it trains at 64 px on a CPU; ``channel_max`` and
``channel_base`` scale it up on a GPU. Equalised learning rate everywhere: weights are stored
N(0, 1) and scaled at run time, so Adam sees every layer at the same scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .dcgan import check_size


@dataclass
class StyleGAN2Config:
    size: int = 64
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4
    channel_base: int = 4096  # channels at resolution r: min(channel_max, channel_base // r)
    channel_max: int = 128
    architecture: str = "stylegan2"


def channels_at(config: StyleGAN2Config, res: int) -> int:
    return max(8, min(config.channel_max, config.channel_base // res))


class EqualLinear(nn.Module):
    def __init__(
        self,
        cin: int,
        cout: int,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activate: bool = False,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(cin)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.activate else x


class EqualConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale = 1 / math.sqrt(cin * kernel * kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.weight.shape[-1] // 2)


class MappingNetwork(nn.Module):
    """z -> w through an MLP at 1/100 learning rate; tracks the mean w for truncation."""

    def __init__(self, config: StyleGAN2Config):
        super().__init__()
        dims = [config.z_dim] + [config.w_dim] * config.mapping_layers
        self.layers = nn.Sequential(
            *[
                EqualLinear(a, b, lr_mul=0.01, activate=True)
                for a, b in zip(dims, dims[1:], strict=False)
            ]
        )
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

    def forward(self, z: torch.Tensor, track_beta: float | None = None) -> torch.Tensor:
        z = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()  # pixel norm
        w = self.layers(z)
        if track_beta is not None:
            self.w_avg.copy_(w.detach().float().mean(0).lerp(self.w_avg, track_beta))
        return w


class ModulatedConv2d(nn.Module):
    """A convolution whose input channels are scaled per sample by the style, then whose output
    is divided by its expected norm (demodulation). Written as scale -> shared conv -> scale,
    which equals the per-sample weight form and needs no grouped convolution."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        w_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)
        self.scale = 1 / math.sqrt(cin * kernel * kernel)
        self.demodulate = demodulate
        self.upsample = upsample

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        style = self.affine(w)  # (N, cin)
        weight = self.weight * self.scale
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = F.conv2d(x * style[:, :, None, None], weight, padding=weight.shape[-1] // 2)
        if self.demodulate:
            energy = style.square() @ weight.square().sum(dim=(2, 3)).t()  # (N, cout)
            x = x * (energy + 1e-8).rsqrt()[:, :, None, None]
        return x


class StyledLayer(nn.Module):
    """Modulated conv + per-pixel noise (learnt strength, starts at 0) + bias + leaky ReLU."""

    def __init__(self, cin: int, cout: int, w_dim: int, upsample: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(cin, cout, 3, w_dim, upsample=upsample)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x, w, noise: torch.Tensor | None = None):
        x = self.conv(x, w)
        if noise is None:
            noise = torch.randn(
                x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype
            )
        x = x + noise * self.noise_strength + self.bias[:, None, None]
        return F.leaky_relu(x, 0.2) * math.sqrt(2)


class ToRGB(nn.Module):
    def __init__(self, cin: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(cin, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x, w):
        return self.conv(x, w) + self.bias[:, None, None]


class StyleGAN2Generator(nn.Module):
    """``g(z, truncation=0.7)`` for images; ``mapping`` and ``synthesis`` for style mixing."""

    def __init__(self, config: StyleGAN2Config):
        super().__init__()
        self.config = config
        log_size = check_size(config.size)
        self.mapping = MappingNetwork(config)
        c4 = channels_at(config, 4)
        self.const = nn.Parameter(torch.randn(1, c4, 4, 4))
        self.layers = nn.ModuleList([StyledLayer(c4, c4, config.w_dim)])
        self.to_rgb = nn.ModuleList([ToRGB(c4, config.w_dim)])
        cin = c4
        for level in range(3, log_size + 1):
            cout = channels_at(config, 2**level)
            self.layers.append(StyledLayer(cin, cout, config.w_dim, upsample=True))
            self.layers.append(StyledLayer(cout, cout, config.w_dim))
            self.to_rgb.append(ToRGB(cout, config.w_dim))
            cin = cout
        self.num_ws = len(self.layers) + 1  # one per layer, plus the last to-RGB

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    def ws(self, z: torch.Tensor, truncation: float = 1.0, track_beta: float | None = None):
        """(N, num_ws, w_dim) styles, all layers sharing one w, pulled towards the mean w."""
        w = self.mapping(z, track_beta)
        if truncation != 1.0:
            w = self.mapping.w_avg.to(w.dtype).lerp(w, truncation)
        return w[:, None].expand(-1, self.num_ws, -1)

    def synthesis(self, ws: torch.Tensor, noise_seed: int | None = None) -> torch.Tensor:
        """Styles -> images. ``noise_seed`` fixes the noise inputs and shares them across the
        batch, so a latent gives the same image in any batch and latent walks do not flicker;
        None draws fresh noise per sample (training)."""
        gen = None if noise_seed is None else torch.Generator().manual_seed(noise_seed)

        def noise(res: int) -> torch.Tensor | None:
            if gen is None:
                return None
            return torch.randn(1, 1, res, res, generator=gen).to(ws.device, ws.dtype)

        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0], noise(4))
        rgb = self.to_rgb[0](x, ws[:, 1])
        for i, torgb in enumerate(self.to_rgb[1:]):
            res = 2 ** (i + 3)
            x = self.layers[2 * i + 1](x, ws[:, 2 * i + 1], noise(res))
            x = self.layers[2 * i + 2](x, ws[:, 2 * i + 2], noise(res))
            rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
            rgb = rgb + torgb(x, ws[:, 2 * i + 3])
        return rgb

    def forward(
        self, z: torch.Tensor, truncation: float = 1.0, noise_seed: int | None = None
    ) -> torch.Tensor:
        return self.synthesis(self.ws(z, truncation), noise_seed)


def mix_styles(ws_a: torch.Tensor, ws_b: torch.Tensor, crossover: torch.Tensor) -> torch.Tensor:
    """Layers before each sample's crossover index take ``ws_a``, the rest ``ws_b``."""
    index = torch.arange(ws_a.shape[1], device=ws_a.device)[None, :, None]
    return torch.where(index < crossover.to(ws_a.device)[:, None, None], ws_a, ws_b)


class DiscriminatorBlock(nn.Module):
    """Two 3x3 convolutions and an average-pool downsampling, with a scaled residual path."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = EqualConv2d(cin, cin, 3)
        self.conv2 = EqualConv2d(cin, cout, 3)
        self.skip = EqualConv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        y = F.leaky_relu(self.conv1(x), 0.2) * math.sqrt(2)
        y = F.avg_pool2d(F.leaky_relu(self.conv2(y), 0.2) * math.sqrt(2), 2)
        return (y + F.avg_pool2d(self.skip(x), 2)) / math.sqrt(2)


class StyleGAN2Discriminator(nn.Module):
    """Residual discriminator with a minibatch standard deviation feature at 4x4."""

    def __init__(self, config: StyleGAN2Config, mbstd_group: int = 4):
        super().__init__()
        log_size = check_size(config.size)
        self.from_rgb = EqualConv2d(3, channels_at(config, config.size), 1)
        blocks = []
        for level in range(log_size, 2, -1):
            blocks.append(
                DiscriminatorBlock(
                    channels_at(config, 2**level), channels_at(config, 2 ** (level - 1))
                )
            )
        self.blocks = nn.Sequential(*blocks)
        c4 = channels_at(config, 4)
        self.mbstd_group = mbstd_group
        self.conv = EqualConv2d(c4 + 1, c4, 3)
        self.fc = EqualLinear(c4 * 16, c4, activate=True)
        self.out = EqualLinear(c4, 1)

    def _mbstd(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.mbstd_group, n)
        while n % g:
            g -= 1
        y = x.float().reshape(g, -1, c, h, w)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n/g,)
        y = y.to(x.dtype).repeat(g)[:, None, None, None].expand(n, 1, h, w)
        return torch.cat([x, y], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.from_rgb(x), 0.2) * math.sqrt(2)
        x = self.blocks(x)
        x = F.leaky_relu(self.conv(self._mbstd(x)), 0.2) * math.sqrt(2)
        return self.out(self.fc(x.flatten(1)))
