"""pix2pix (Isola et al. 2017): paired translation with a U-Net, a conditional PatchGAN, L1 + GAN.

The PatchGAN sees the input and the output side by side (6 channels), so it judges whether the
painting fits the sketch, while L1 keeps the colours near the target's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..losses import check_gan_loss, discriminator_adv_loss, generator_adv_loss, l1
from ..nn import PatchDiscriminator, PatchDiscriminatorConfig, UnetGenerator, UnetGeneratorConfig
from .base import MODELS, TranslationModel


@dataclass
class Pix2PixConfig:
    ngf: int = 64
    num_downs: int | None = None  # U-Net depth; None = down to 2x2 at the training size, max 8
    norm: str = "instance"  # instance (tile-friendly) | batch (the paper) | none
    upsample: str = "transpose"  # transpose (the paper) | resize | pixelshuffle
    ndf: int = 64
    d_layers: int = 3  # PatchGAN depth; 3 = 70x70 patches
    gan_loss: str = "vanilla"  # vanilla (the paper) | lsgan | hinge
    lambda_l1: float = 100.0
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_fraction: float = 0.5

    def resolve(self, size: int) -> None:
        check_gan_loss(self.gan_loss)
        if self.num_downs is None:
            self.num_downs = max(1, min(8, int(math.log2(size)) - 1))
        if size % (2**self.num_downs):
            raise ConfigError(
                f"size {size} must be a multiple of 2**num_downs ({2**self.num_downs})"
            )

    def generator_config(self) -> UnetGeneratorConfig:
        if self.num_downs is None:
            raise ValueError("num_downs must be resolved (see training.config.resolve) first")
        return UnetGeneratorConfig(self.ngf, self.num_downs, self.norm, self.upsample)


@MODELS.register("pix2pix")
class Pix2Pix(TranslationModel):
    config_cls = Pix2PixConfig
    directions = {"a2b": "g_ab"}
    data_kind = "paired"

    def __init__(self, config: Pix2PixConfig, device: torch.device, **kwargs):
        super().__init__(config, device, **kwargs)
        self.g_ab = self.add_network("g_ab", UnetGenerator(config.generator_config()))
        d_config = PatchDiscriminatorConfig(config.ndf, config.d_layers, config.norm)
        self.d_b = self.add_network("d_b", PatchDiscriminator(d_config, in_channels=6))
        self.optimizers = {"g": self.adam(self.g_ab), "d": self.adam(self.d_b)}

    def architecture(self) -> dict:
        return {"generator": vars(self.config.generator_config())}

    def train_step(self, batch):
        c = self.config
        batch = self.prepare(batch)
        real_a, real_b = batch["real_a"], batch["real_b"]
        with self.autocast():
            fake_b = self.g_ab(real_a)

        self.requires_grad([self.d_b], True)
        self.optimizers["d"].zero_grad(set_to_none=True)
        with self.autocast():
            real_logits = self.d_b(torch.cat([real_a, real_b], 1))
            fake_logits = self.d_b(torch.cat([real_a, fake_b.detach()], 1))
            loss_d = discriminator_adv_loss(c.gan_loss, real_logits, fake_logits)
        loss_d.backward()
        self.update("d")

        self.requires_grad([self.d_b], False)
        self.optimizers["g"].zero_grad(set_to_none=True)
        with self.autocast():
            adv = generator_adv_loss(c.gan_loss, self.d_b(torch.cat([real_a, fake_b], 1)))
            rec = l1(fake_b, real_b) * c.lambda_l1
        (adv + rec).backward()
        self.update("g")
        return {
            "loss/g/adv": adv.item(),
            "loss/g/l1": rec.item(),
            "loss/d/b": loss_d.item(),
            "diag/d_b_real": real_logits.float().mean().item(),
            "diag/d_b_fake": fake_logits.float().mean().item(),
        }

    @torch.no_grad()
    def sample(self, batch):
        """Rows of sketch, painting made from it, the real painting."""
        batch = self.prepare(batch)
        with self.autocast():
            fake_b = self.g_ab(batch["real_a"])
        return [[batch["real_a"].float(), fake_b.float(), batch["real_b"].float()]]
