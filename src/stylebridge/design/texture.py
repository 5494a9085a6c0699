"""A small texture GAN: learn one fabric from a few motif images, generate it at any size.

After the spatial GAN of Jetchev et al. (2016): the generator is fully convolutional and maps a
grid of noise vectors to pixels, so a bigger noise grid gives a bigger pattern. Every convolution
pads circularly and every upsampling wraps around, so the generator computes on a torus: the
output's right edge continues into its left edge and the pattern tiles without a seam. A patch
discriminator judges random crops of the motif(s) against generated crops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from ..errors import ConfigError
from ..imageio import to_tensor, to_uint8
from ..losses import discriminator_adv_loss, generator_adv_loss
from ..nn import prepare_runtime


@dataclass
class TextureConfig:
    """Texture GAN settings; the defaults train in a few minutes on two CPU cores."""

    noise_channels: int = 32  # channels of the spatial noise grid
    widths: tuple[int, ...] = (128, 96, 64, 32, 16)  # generator widths, coarse to fine
    ndf: int = 48  # discriminator base width
    d_layers: int = 4  # stride-2 layers of the discriminator: its patch is ~78 px at 4
    crop: int = 64  # side of the training crops (motif and generated)
    batch_size: int = 4
    steps: int = 1500
    lr: float = 2e-4
    rotate: bool = True  # 90-degree rotations as augmentation (most fabrics allow them)
    circular: bool = True  # train with circular padding (False: an ordinary zero-padded SGAN)
    seed: int = 0
    time_limit_s: float = 0.0  # stop early after this many seconds (0 = no limit)
    extra: dict = field(default_factory=dict)  # free-form notes saved with the model

    @property
    def scale(self) -> int:
        """Output pixels per noise cell."""
        return 2 ** (len(self.widths) - 1)

    def check(self) -> None:
        if self.crop % self.scale or self.crop < 2 * self.scale:
            raise ConfigError(
                f"crop {self.crop} must be a multiple of {self.scale}, at least {2 * self.scale}"
            )
        if self.steps < 1 or self.batch_size < 1:
            raise ConfigError("steps and batch_size must be at least 1")


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

    def __init__(self, config: TextureConfig):
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
        self, height: int, width: int, batch: int = 1, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The noise grid for an output of at least ``height`` x ``width`` pixels."""
        h, w = -(-height // self.scale), -(-width // self.scale)
        return torch.randn(batch, self.noise_channels, h, w, generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)


class TextureDiscriminator(nn.Module):
    """Patch discriminator (4 layers: one logit per ~78 px patch); spectral norm keeps it smooth."""

    def __init__(self, ndf: int, layers: int = 4):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        widths = [3] + [ndf * min(2**i, 4) for i in range(layers)]
        layers: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [sn(nn.Conv2d(cin, cout, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, True)]
        layers.append(sn(nn.Conv2d(widths[-1], 1, 3, padding=1)))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class MotifCrops:
    """Random augmented crops of the motif images: the discriminator's real examples."""

    def __init__(self, motifs: list[Image.Image], crop: int, rotate: bool, seed: int):
        self.images = [to_tensor(m.convert("RGB"))[0] for m in motifs]
        small = [m for m in self.images if min(m.shape[1:]) < crop]
        if small:
            raise ConfigError(
                f"a motif is smaller than the {crop} px training crop "
                f"({small[0].shape[2]}x{small[0].shape[1]} px)"
            )
        self.crop, self.rotate = crop, rotate
        self.rng = np.random.default_rng(seed)

    def sample(self, batch: int) -> torch.Tensor:
        out = []
        for _ in range(batch):
            image = self.images[self.rng.integers(len(self.images))]
            _, h, w = image.shape
            y, x = self.rng.integers(0, h - self.crop + 1), self.rng.integers(0, w - self.crop + 1)
            patch = image[:, y : y + self.crop, x : x + self.crop]
            if self.rng.random() < 0.5:
                patch = patch.flip(2)
            if self.rotate:
                patch = torch.rot90(patch, int(self.rng.integers(4)), dims=(1, 2))
            out.append(patch)
        return torch.stack(out)


@dataclass
class TextureReport:
    """Progress of texture training, given to the progress callback after each step."""

    step: int
    steps: int
    loss_g: float
    loss_d: float
    elapsed_s: float


def _step(g, d, opt_g, opt_d, real: torch.Tensor, z: torch.Tensor) -> tuple[float, float]:
    fake = g(z)
    loss_d = discriminator_adv_loss("hinge", d(real), d(fake.detach()))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    loss_g = generator_adv_loss("hinge", d(fake))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return float(loss_g.detach()), float(loss_d.detach())


def train_texture(
    motifs: list[Image.Image],
    config: TextureConfig | None = None,
    progress: Callable[[TextureReport], None] | None = None,
) -> TextureGenerator:
    """Fit a texture generator to the motif image(s) on the CPU; returns it in eval mode."""
    config = config or TextureConfig()
    config.check()
    if not motifs:
        raise ConfigError("give at least one motif image")
    prepare_runtime(torch.device("cpu"))
    torch.manual_seed(config.seed)
    crops = MotifCrops(motifs, config.crop, config.rotate, config.seed)
    g, d = TextureGenerator(config), TextureDiscriminator(config.ndf, config.d_layers)
    g.set_tileable(config.circular)
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=(0.5, 0.99))
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr, betas=(0.5, 0.99))
    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        z = g.noise(config.crop, config.crop, config.batch_size)
        loss_g, loss_d = _step(g, d, opt_g, opt_d, crops.sample(config.batch_size), z)
        elapsed = time.perf_counter() - start
        if progress:
            progress(TextureReport(step, config.steps, loss_g, loss_d, elapsed))
        if config.time_limit_s and elapsed > config.time_limit_s:
            break
    return g.eval()


@torch.no_grad()
def generate(
    g: TextureGenerator, height: int, width: int, seed: int = 0, tileable: bool = True
) -> Image.Image:
    """One pattern of exactly ``height`` x ``width`` pixels from noise seeded by ``seed``.

    Tileable output needs sides that are multiples of the generator's scale (the noise grid
    must cover the torus exactly).
    """
    if tileable and (height % g.scale or width % g.scale):
        raise ConfigError(
            f"tileable patterns need sides that are multiples of {g.scale} px, got {width}x{height}"
        )
    generator = torch.Generator().manual_seed(seed)
    g.set_tileable(tileable)
    try:
        image = g(g.noise(height, width, 1, generator))[:, :, :height, :width]
    finally:
        g.set_tileable(True)
    return Image.fromarray(to_uint8(image), "RGB")


def config_dict(config: TextureConfig) -> dict:
    values = asdict(config)
    values["widths"] = list(config.widths)
    return values


def config_from_dict(values: dict) -> TextureConfig:
    known = {k: v for k, v in values.items() if k in TextureConfig.__dataclass_fields__}
    if "widths" in known:
        known["widths"] = tuple(int(w) for w in known["widths"])
    return TextureConfig(**known)
