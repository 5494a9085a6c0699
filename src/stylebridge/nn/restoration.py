"""Restoration networks: super-resolution and noise-level-conditioned denoising.

Both are small so that they train in a background run on a laptop CPU and upscale a 512 px
image to 2048 px in seconds: the work happens at the input's resolution and only the last
layers run at the output's (EDSR-style blocks without normalisation, Lim et al. 2017; a
pixel-shuffle tail, Shi et al. 2016). The super-resolution net predicts the difference from a
bicubic upscale, and the denoiser the noise itself, given a noise-level map (FFDNet, Zhang et al.
2018), so one model covers every noise strength and the level can be set by hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class SRNetConfig:
    scale: int = 4  # 2 or 4
    channels: int = 32
    blocks: int = 10
    architecture: str = "srnet"

    def __post_init__(self):
        if self.scale not in (2, 4):
            raise ValueError(f"scale must be 2 or 4, got {self.scale}")
        if not 1 <= self.channels <= 512 or not 1 <= self.blocks <= 64:
            raise ValueError("channels must be in 1..512 and blocks in 1..64")

    def to_dict(self) -> dict:
        return asdict(self)


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity: stable and fast
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


class SRNet(nn.Module):
    """[-1, 1] images -> images ``scale`` times larger (bicubic upscale plus a learned residual)."""

    multiple = 1

    def __init__(self, config: SRNetConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.head = nn.Conv2d(3, c, 3, padding=1)
        self.body = nn.Sequential(*[_Residual(c) for _ in range(config.blocks)])
        self.body_out = nn.Conv2d(c, c, 3, padding=1)
        tail: list[nn.Module] = []
        if config.scale == 4:  # first x2 at the input's resolution, then a thin x2 to RGB
            tail += [nn.Conv2d(c, 4 * c, 3, padding=1), nn.PixelShuffle(2), nn.LeakyReLU(0.1)]
        tail += [nn.Conv2d(c, 12, 3, padding=1), nn.PixelShuffle(2)]
        nn.init.zeros_(tail[-2].weight)  # an untrained net is exactly its bicubic skip
        nn.init.zeros_(tail[-2].bias)
        self.tail = nn.Sequential(*tail)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.config.scale, mode="bicubic", align_corners=False)
        features = self.head(x)
        features = features + self.body_out(self.body(features))
        return base + self.tail(features)


@dataclass
class DenoiserConfig:
    channels: int = 32  # width at full resolution; x2 and x4 below
    depth: int = 2  # convolutions per level
    architecture: str = "denoiser"

    def __post_init__(self):
        if not 1 <= self.channels <= 256 or not 1 <= self.depth <= 8:
            raise ValueError("channels must be in 1..256 and depth in 1..8")

    def to_dict(self) -> dict:
        return asdict(self)


def _convs(cin: int, cout: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class Denoiser(nn.Module):
    """A three-level U-Net that removes noise of a given level (pixel units, 0-255 scale).

    ``sigma`` is a number or one per image; the network sees it as a constant input plane, so
    the caller can ask for gentler or stronger cleaning than the estimated level.
    """

    multiple = 4
    sigma_unit = 50.0  # the noise-level plane holds sigma / 50

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        self.config = config
        c, d = config.channels, config.depth
        self.enc1 = _convs(4, c, d)
        self.down1 = nn.Conv2d(c, 2 * c, 2, stride=2)
        self.enc2 = _convs(2 * c, 2 * c, d)
        self.down2 = nn.Conv2d(2 * c, 4 * c, 2, stride=2)
        self.mid = _convs(4 * c, 4 * c, d)
        self.up2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2)
        self.dec2 = _convs(2 * c, 2 * c, d)
        self.up1 = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        self.dec1 = _convs(c, c, d)
        self.out = nn.Conv2d(c, 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # an untrained net returns its input: no added noise
        nn.init.zeros_(self.out.bias)
        self.register_buffer("default_sigma", torch.tensor(25.0), persistent=False)

    def forward(self, x: torch.Tensor, sigma: float | torch.Tensor | None = None) -> torch.Tensor:
        if sigma is None:
            sigma = self.default_sigma
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
        plane = (sigma / self.sigma_unit).expand(x.shape[0], 1, *x.shape[2:])
        e1 = self.enc1(torch.cat([x, plane.to(x.dtype)], 1))
        e2 = self.enc2(self.down1(e1))
        m = self.mid(self.down2(e2))
        d2 = self.dec2(self.up2(m) + e2)
        d1 = self.dec1(self.up1(d2) + e1)
        return x - self.out(d1)


@dataclass
class InpainterConfig:
    channels: int = 32
    architecture: str = "inpainter"

    def __post_init__(self):
        if not 4 <= self.channels <= 256:
            raise ValueError("channels must be in 4..256")

    def to_dict(self) -> dict:
        return asdict(self)


class GatedConv(nn.Module):
    """A convolution whose output is gated by a learned soft mask (Yu et al. 2019): the layer
    itself learns which pixels are valid, instead of a hand-updated partial-conv mask."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1):
        super().__init__()
        padding = dilation * (kernel - 1) // 2
        self.conv = nn.Conv2d(cin, 2 * cout, kernel, stride, padding, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features, gate = self.conv(x).chunk(2, dim=1)
        return F.elu(features) * torch.sigmoid(gate)


def push_pull_fill(image: torch.Tensor, holes: torch.Tensor, smoothing: int = 16) -> torch.Tensor:
    """Fill holes with the average of the valid pixels around them, coarse to fine (push-pull,
    Gortler et al. 1996): masked averages are pushed down an image pyramid until every pixel is
    covered, then pulled back up, each level keeping its own valid pixels and relaxing its holes
    toward their neighbours' average (a multigrid membrane fill). Smooth, fast, any hole size,
    and the same on every device."""
    x, m = image * (1 - holes), 1 - holes
    pyramid = []
    while True:
        pyramid.append((x, m))
        if min(m.shape[-2:]) <= 1 or bool((m > 0).all()):
            break
        x = F.avg_pool2d(x, 2, ceil_mode=True)
        m = F.avg_pool2d(m, 2, ceil_mode=True)
    filled = x / m.clamp_min(1e-6)
    for x_level, m_level in reversed(pyramid[:-1]):
        filled = F.interpolate(
            filled, size=x_level.shape[-2:], mode="bilinear", align_corners=False
        )
        confidence = m_level.clamp(0, 1)
        own = confidence * (x_level / m_level.clamp_min(1e-6))
        for _ in range(smoothing):  # relax toward the harmonic (membrane) fill at every level
            around = F.avg_pool2d(F.pad(filled, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
            filled = own + (1 - confidence) * around
    return filled


class Inpainter(nn.Module):
    """Gated-convolution encoder-decoder with dilated middle layers for a wide view, refining
    a push-pull fill of the holes.

    The network sees the image with its holes pre-filled smoothly (not grey) and the mask
    (1 = missing), and adds texture and edges to that fill; its last layer starts at zero, so
    an untrained model returns the push-pull fill and training only has to improve on it.
    """

    multiple = 4

    def __init__(self, config: InpainterConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.net = nn.Sequential(
            GatedConv(4, c, 5),
            GatedConv(c, 2 * c, 3, stride=2),
            GatedConv(2 * c, 2 * c),
            GatedConv(2 * c, 4 * c, 3, stride=2),
            GatedConv(4 * c, 4 * c),
            GatedConv(4 * c, 4 * c, dilation=2),
            GatedConv(4 * c, 4 * c, dilation=4),
            GatedConv(4 * c, 4 * c, dilation=8),
            GatedConv(4 * c, 4 * c),
            nn.Upsample(scale_factor=2, mode="nearest"),
            GatedConv(4 * c, 2 * c),
            GatedConv(2 * c, 2 * c),
            nn.Upsample(scale_factor=2, mode="nearest"),
            GatedConv(2 * c, c),
            nn.Conv2d(c, 3, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.to(x.dtype)
        coarse = push_pull_fill(x.float(), mask.float()).to(x.dtype)
        out = (coarse + self.net(torch.cat([coarse, mask], 1))).clamp(-1, 1)
        return out * mask + x * (1 - mask)
