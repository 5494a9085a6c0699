"""Blind denoising: a noise-level-conditioned U-Net trained on synthetic noise.

Each step adds Gaussian noise of a random level (0-55 in pixel units) or sensor-like noise
(signal-dependent, colour and grey, see ``data.degrade``) to clean crops and teaches the net to
remove it given the level. At inference the level is estimated from the image (or set by hand),
so one model serves light film grain and heavy scanner noise alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.degrade import NOISE_KINDS, add_noise
from ..errors import ConfigError
from ..nn.restoration import Denoiser, DenoiserConfig
from .base import MODELS, TranslationModel


@dataclass
class DenoiseConfig:
    channels: int = 32
    depth: int = 2
    noise: str = "gaussian,realistic"  # kinds drawn per step
    sigma_max: float = 55.0  # Gaussian levels drawn uniformly in [0, sigma_max]
    lr: float = 5e-4
    beta1: float = 0.9
    beta2: float = 0.999
    decay_fraction: float = 0.5

    def resolve(self, size: int) -> None:
        if size % 4:
            raise ConfigError(f"denoise needs a size that is a multiple of 4, got {size}")
        if not 0 < self.sigma_max <= 255:
            raise ConfigError("model.sigma_max must be in (0, 255]")
        if not self.lr > 0:
            raise ConfigError("model.lr must be > 0")
        self.kinds()
        self.generator_config()

    def kinds(self) -> list[str]:
        kinds = [k.strip() for k in str(self.noise).split(",") if k.strip()]
        if not kinds or any(k not in NOISE_KINDS for k in kinds):
            raise ConfigError(f"model.noise must name some of {', '.join(NOISE_KINDS)}")
        return kinds

    def generator_config(self) -> DenoiserConfig:
        try:
            return DenoiserConfig(self.channels, self.depth)
        except ValueError as err:
            raise ConfigError(f"model: {err}") from None


@MODELS.register("denoise")
class Denoising(TranslationModel):
    config_cls = DenoiseConfig
    data_kind = "images"
    directions: dict[str, str] = {}
    exports = {"generator": "g"}
    task = "denoising"
    load_scale = 2.0  # crops at the photos' own scale: noise is a per-pixel property
    default_batch_size = 16

    def __init__(self, config: DenoiseConfig, device: torch.device, **kwargs):
        super().__init__(config, device, **kwargs)
        self.g = self.add_network("g", Denoiser(config.generator_config()))
        self.kinds = config.kinds()
        self.optimizers = {"g": self.adam(self.g)}

    def architecture(self) -> dict:
        return {"generator": self.g.config.to_dict(), "task": self.task}

    def noisy(self, clean: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pick = int(torch.randint(len(self.kinds), (1,), generator=self.rng))
        noisy, sigma = add_noise(
            clean.cpu().float(), self.kinds[pick], self.rng, (0.0, self.config.sigma_max)
        )
        return self.prepare({"noisy": noisy})["noisy"], sigma.to(self.device)

    def train_step(self, batch):
        clean = self.prepare(batch)["real"]
        noisy, sigma = self.noisy(batch["real"])
        self.optimizers["g"].zero_grad(set_to_none=True)
        with self.autocast():
            out = self.g(noisy, sigma)
        loss = (out.float() - clean.float()).abs().mean()
        loss.backward()
        self.update("g")
        return self.read_losses({"loss/l1": loss.detach()})

    def inference_fn(self):
        raise ConfigError(f"{self.task} runs are measured by `stylebridge evaluate` on pairs")

    @torch.no_grad()
    def sample(self, batch):
        """Rows: clean, noisy, denoised."""
        clean = self.prepare(batch)["real"].float()
        noisy, sigma = self.noisy(batch["real"])
        with self.autocast():
            out = self.g(noisy, sigma).float().clamp(-1, 1)
        return [[clean, noisy.float().clamp(-1, 1), out]]
