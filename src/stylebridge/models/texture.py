"""Texture GAN: learn one fabric from a few motif images (``stylebridge design pattern``).

A spatial GAN (``nn/texture.py``): the generator maps a noise grid to pixels on a torus, so its
patterns have any size and tile without a seam; a spectral-norm patch critic with the hinge
loss judges random crops of the motifs (``size`` px) against generated crops. Crops are also
turned by multiples of 90 degrees (most fabrics allow it). Trained by the one loop like every
method; the run folder exports ``generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..losses import discriminator_adv_loss, generator_adv_loss
from ..nn.texture import TextureDiscriminator, TextureGenerator, TextureGeneratorConfig
from .base import MODELS, TranslationModel


@dataclass
class TextureConfig:
    """Texture GAN options; the defaults (with ``size=64``) train in minutes on two CPU cores."""

    noise_channels: int = 32  # channels of the spatial noise grid
    widths: str = "128,96,64,32,16"  # generator widths, coarse to fine; x2 upsampling between
    ndf: int = 48  # critic base width
    d_layers: int = 4  # stride-2 critic layers: its patch is ~78 px at 4
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.99
    rotate: bool = True  # 90-degree turns of the motif crops as augmentation
    circular: bool = True  # train on a torus (False: an ordinary zero-padded SGAN)
    decay_fraction: float = 0.0  # share of the steps over which the LR falls linearly to 0

    def generator_config(self) -> TextureGeneratorConfig:
        try:
            widths = tuple(int(w) for w in str(self.widths).split(","))
        except ValueError:
            problem = f"model.widths: expected comma-separated ints, got {self.widths!r}"
            raise ConfigError(problem) from None
        return TextureGeneratorConfig(self.noise_channels, widths)

    def resolve(self, size: int) -> None:
        """The crop must hold a whole number of noise cells, at least two per side."""
        scale = self.generator_config().scale
        if size % scale or size < 2 * scale:
            raise ConfigError(f"texture size {size} must be a multiple of {scale}, >= {2 * scale}")
        if self.d_layers < 1 or self.ndf < 1:
            raise ConfigError("model.ndf and model.d_layers must be at least 1")


@MODELS.register("texture")
class TextureGAN(TranslationModel):
    """Generator ``g`` against patch critic ``d`` on crops of the motif image(s)."""

    config_cls = TextureConfig
    data_kind = "images"
    load_scale = 4.0  # motifs' shorter side = 4 crops: the texture's scale (design sets it)
    default_batch_size = 4

    def __init__(self, config: TextureConfig, device: torch.device, *, seed: int = 0, **kwargs):
        super().__init__(config, device, seed=seed, **kwargs)
        self.g = self.add_network("g", TextureGenerator(config.generator_config()))
        self.d = self.add_network("d", TextureDiscriminator(config.ndf, config.d_layers))
        self.g.set_tileable(config.circular)
        self.exports = {"generator": "g"}
        self.optimizers = {"g": self.adam(self.g), "d": self.adam(self.d)}
        self.fixed = torch.Generator().manual_seed(seed + 1)

    def architecture(self) -> dict:
        section = vars(self.config.generator_config()).copy()
        section["widths"] = ",".join(map(str, section["widths"]))  # plain values only
        return {"generator": section}

    def _turn(self, real: torch.Tensor) -> torch.Tensor:
        if not self.config.rotate:
            return real
        turns = torch.randint(4, (real.shape[0],), generator=self.rng).tolist()
        return torch.stack(
            [torch.rot90(x, k, dims=(1, 2)) for x, k in zip(real, turns, strict=True)]
        )

    def train_step(self, batch):
        real = self._turn(self.prepare(batch)["real"])
        n, _, h, w = real.shape
        z = self.g.noise(h, w, n, device=self.device)
        self.requires_grad([self.d], True)
        with self.autocast():
            fake = self.g(z)
            loss_d = discriminator_adv_loss("hinge", self.d(real), self.d(fake.detach()))
        self.optimizers["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.update("d")
        self.requires_grad([self.d], False)
        with self.autocast():
            loss_g = generator_adv_loss("hinge", self.d(fake))
        self.optimizers["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.update("g")
        return self.read_losses({"loss/g/adv": loss_g, "loss/d/adv": loss_d})

    @torch.no_grad()
    def sample(self, batch):
        """One line per fixed motif crop: the crop, then a generated crop from fixed noise."""
        real = batch["real"].float()
        n, _, h, w = real.shape
        z = self.g.noise(h, w, n, generator=self.fixed.manual_seed(1), device=self.device)
        with self.autocast():
            fake = self.g(z).float().cpu()
        return [[real, fake]]

    def inference_fn(self):
        """For the training evaluator: patterns the size of the given images."""

        def generate(x: torch.Tensor) -> torch.Tensor:
            z = self.g.noise(x.shape[2], x.shape[3], x.shape[0], device=self.device)
            with torch.no_grad(), self.autocast():
                return self.g(z).float()[:, :, : x.shape[2], : x.shape[3]]

        return generate
