"""Inpainting of damaged artworks and photos: a gated-convolution generator and a patch critic.

Each step punches synthetic damage (``data.degrade.damage_masks``: brush strokes, cracks,
stains, torn edges) into clean crops; the generator fills the holes, trained on L1 inside and
near the holes plus a spectrally normalised patch discriminator with the hinge loss (DeepFill
v2's SN-PatchGAN, Yu et al. 2019), which sees the mask, so it judges the filled parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..data.degrade import MASK_KINDS, damage_masks
from ..errors import ConfigError
from ..losses import discriminator_adv_loss, generator_adv_loss
from ..nn.restoration import Inpainter, InpainterConfig
from .base import MODELS, TranslationModel


@dataclass
class InpaintConfig:
    channels: int = 32
    masks: str = "strokes,cracks,blobs,torn"
    lambda_hole: float = 6.0  # L1 inside the holes
    lambda_valid: float = 1.0  # L1 over the whole output (keeps colours consistent)
    lambda_adv: float = 0.1
    ndf: int = 32
    lr: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_fraction: float = 0.3

    def resolve(self, size: int) -> None:
        if size % 4:
            raise ConfigError(f"inpaint needs a size that is a multiple of 4, got {size}")
        for name in ("lambda_hole", "lambda_valid", "lambda_adv"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"model.{name} must be >= 0")
        if not self.lr > 0 or not self.lr_d > 0:
            raise ConfigError("model.lr and model.lr_d must be > 0")
        self.kinds()
        self.generator_config()

    def kinds(self) -> tuple[str, ...]:
        kinds = tuple(k.strip() for k in str(self.masks).split(",") if k.strip())
        if not kinds or any(k not in MASK_KINDS for k in kinds):
            raise ConfigError(f"model.masks must name some of {', '.join(MASK_KINDS)}")
        return kinds

    def generator_config(self) -> InpainterConfig:
        try:
            return InpainterConfig(self.channels)
        except ValueError as err:
            raise ConfigError(f"model: {err}") from None


def _critic(ndf: int) -> nn.Sequential:
    """SN-PatchGAN: image and mask in, a grid of logits out."""
    sn = nn.utils.parametrizations.spectral_norm
    layers: list[nn.Module] = []
    cin = 4
    for cout in (ndf, 2 * ndf, 4 * ndf, 4 * ndf):
        layers += [sn(nn.Conv2d(cin, cout, 5, 2, 2)), nn.LeakyReLU(0.2, inplace=True)]
        cin = cout
    layers.append(sn(nn.Conv2d(cin, 1, 3, 1, 1)))
    return nn.Sequential(*layers)


@MODELS.register("inpaint")
class Inpainting(TranslationModel):
    config_cls = InpaintConfig
    data_kind = "images"
    directions: dict[str, str] = {}
    exports = {"generator": "g"}
    task = "inpainting"
    load_scale = 1.25
    default_batch_size = 8

    def __init__(self, config: InpaintConfig, device: torch.device, **kwargs):
        super().__init__(config, device, **kwargs)
        self.g = self.add_network("g", Inpainter(config.generator_config()))
        self.d = self.add_network("d", _critic(config.ndf))
        self.kinds = config.kinds()
        self.optimizers = {"g": self.adam(self.g), "d": self.adam(self.d)}

    def learning_rates(self) -> dict[str, float]:
        return {"g": self.config.lr, "d": self.config.lr_d}

    def architecture(self) -> dict:
        return {"generator": self.g.config.to_dict(), "task": self.task}

    def masks(self, images: torch.Tensor) -> torch.Tensor:
        n, _, size, _ = images.shape
        return self.prepare({"m": damage_masks(n, size, self.rng, self.kinds)})["m"]

    def train_step(self, batch):
        c = self.config
        real = self.prepare(batch)["real"]
        mask = self.masks(real)
        with self.autocast():
            fake = self.g(real, mask)
        self.requires_grad([self.d], True)
        self.optimizers["d"].zero_grad(set_to_none=True)
        with self.autocast():
            loss_d = discriminator_adv_loss(
                "hinge",
                self.d(torch.cat([real, mask], 1)),
                self.d(torch.cat([fake.detach(), mask], 1)),
            )
        loss_d.backward()
        self.update("d")
        self.requires_grad([self.d], False)
        self.optimizers["g"].zero_grad(set_to_none=True)
        with self.autocast():
            loss_adv = generator_adv_loss("hinge", self.d(torch.cat([fake, mask], 1)))
        error = (fake.float() - real.float()).abs()
        hole = (error * mask).sum() / mask.sum().clamp(min=1) / 3
        loss_hole = hole * c.lambda_hole
        loss_valid = error.mean() * c.lambda_valid
        total = loss_hole + loss_valid + loss_adv * c.lambda_adv
        total.backward()
        self.update("g")
        losses = {"loss/hole": loss_hole, "loss/valid": loss_valid, "loss/adv_g": loss_adv}
        return self.read_losses({**{k: v.detach() for k, v in losses.items()}, "loss/d": loss_d})

    def inference_fn(self):
        raise ConfigError(f"{self.task} runs are measured by `stylebridge evaluate` on pairs")

    @torch.no_grad()
    def sample(self, batch):
        """Rows: original, damaged (holes grey), filled."""
        real = self.prepare(batch)["real"].float()
        mask = self.masks(real)
        with self.autocast():
            fake = self.g(real, mask).float().clamp(-1, 1)
        return [[real, real * (1 - mask), fake]]
