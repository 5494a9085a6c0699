"""Super-resolution: a PSNR-oriented residual network, then a GAN on top of it.

``srresnet`` learns the L1 mapping from degraded low-resolution crops to the originals (the
sharpest average; what PSNR rewards). ``srgan`` starts from such a run (``model.init_from``) and
adds a patch discriminator and a perceptual term, trading some PSNR for texture (Ledig et al.
2017; ESRGAN, Wang et al. 2018, with its relativistic discriminator as an option). The
perceptual term uses EfficientNet-Lite1 features, never Lite0, which the KID metric uses.
Data: one folder of images (``--data``); low-resolution inputs are made on the fly by the
configured degradation (``data.degrade``), so any photo or painting collection is training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..data.degrade import SR_DEGRADATIONS, degrade_for_sr, upscale
from ..errors import ConfigError
from ..losses import (
    check_gan_loss,
    discriminator_adv_loss,
    generator_adv_loss,
    relative_mse,
    relativistic_adv_losses,
)
from ..nn import PatchDiscriminator, PatchDiscriminatorConfig
from ..nn.restoration import SRNet, SRNetConfig
from .base import MODELS, TranslationModel
from .files import generator_from_config

PERCEPTUAL_BLOCKS = [4, 7, 11]  # Lite1 expansions at stride 4, 8, 16


@dataclass
class SRConfig:
    scale: int = 4
    channels: int = 32
    blocks: int = 10
    degradation: str = "bicubic"  # bicubic | realistic (Real-ESRGAN-like second order)
    lr: float = 5e-4
    beta1: float = 0.9
    beta2: float = 0.999
    decay_fraction: float = 0.5

    def resolve(self, size: int) -> None:
        if self.scale not in (2, 4):
            raise ConfigError(f"model.scale must be 2 or 4, got {self.scale}")
        if self.degradation not in SR_DEGRADATIONS:
            raise ConfigError(f"model.degradation must be one of {', '.join(SR_DEGRADATIONS)}")
        if size % (self.scale * 4):
            raise ConfigError(f"size must be a multiple of {self.scale * 4} for x{self.scale}")
        if not self.lr > 0:
            raise ConfigError("model.lr must be > 0")
        self.generator_config()

    def generator_config(self) -> SRNetConfig:
        try:
            return SRNetConfig(self.scale, self.channels, self.blocks)
        except ValueError as err:
            raise ConfigError(f"model: {err}") from None


@MODELS.register("srresnet")
class SuperResolution(TranslationModel):
    """Generator ``g``: low-resolution crop -> high-resolution crop, trained on L1."""

    config_cls = SRConfig
    data_kind = "images"
    directions: dict[str, str] = {}
    exports = {"generator": "g"}
    task = "super-resolution"
    load_scale = 2.0  # shorter side 2x the crop: crops keep the photos' own scale
    default_batch_size = 16

    def __init__(self, config: SRConfig, device: torch.device, **kwargs):
        super().__init__(config, device, **kwargs)
        self.g = self.add_network("g", SRNet(config.generator_config()))
        self.optimizers = {"g": self.adam(self.g)}

    def architecture(self) -> dict:
        return {"generator": self.g.config.to_dict(), "task": self.task}

    def low_resolution(self, hr: torch.Tensor) -> torch.Tensor:
        """The degraded inputs, made on the CPU from the model's own seeded generator."""
        lr = degrade_for_sr(hr.cpu().float(), self.config.scale, self.config.degradation, self.rng)
        return self.prepare({"lr": lr})["lr"]

    def train_step(self, batch):
        hr = self.prepare(batch)["real"]
        lr = self.low_resolution(batch["real"])
        self.optimizers["g"].zero_grad(set_to_none=True)
        with self.autocast():
            sr = self.g(lr)
        loss = (sr.float() - hr.float()).abs().mean()
        loss.backward()
        self.update("g")
        return self.read_losses({"loss/l1": loss.detach()})

    def inference_fn(self):
        raise ConfigError(f"{self.task} runs are measured by `stylebridge evaluate` on pairs")

    @torch.no_grad()
    def sample(self, batch):
        """Rows: original, bicubic upscale of the degraded input, the network's upscale."""
        hr = self.prepare(batch)["real"].float()
        lr = self.low_resolution(batch["real"])
        with self.autocast():
            sr = self.g(lr).float().clamp(-1, 1)
        return [[hr, upscale(lr, self.config.scale).clamp(-1, 1), sr]]


@dataclass
class SRGANConfig(SRConfig):
    init_from: str = ""  # a srresnet run or model folder to start from (recommended)
    lambda_pixel: float = 1.0
    lambda_perceptual: float = 1.0
    lambda_adv: float = 0.01
    # the perceptual term sees both images shifted by the same random 0..N-1 px each step, so
    # the generator cannot lower it with a pattern locked to the features' stride phase (16:
    # the deepest tap's stride; without it a 4 px grid was drawn over every texture)
    perceptual_jitter: int = 16
    gan_loss: str = "relativistic"  # relativistic | lsgan | vanilla | hinge
    ndf: int = 32
    d_layers: int = 3
    lr: float = 1e-4
    lr_d: float = 1e-4

    def resolve(self, size: int) -> None:
        super().resolve(size)
        if self.gan_loss != "relativistic":
            check_gan_loss(self.gan_loss)
        for name in ("lambda_pixel", "lambda_perceptual", "lambda_adv"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"model.{name} must be >= 0")
        if not 0 <= self.perceptual_jitter <= size // 2:
            raise ConfigError(f"model.perceptual_jitter must be 0..{size // 2} px")
        if self.init_from and not Path(self.init_from).is_dir():
            raise ConfigError(f"model.init_from: {self.init_from} is not a folder")


@MODELS.register("srgan")
class SRGAN(SuperResolution):
    """``g`` against a patch discriminator ``d``, with L1 and Lite1-feature terms."""

    config_cls = SRGANConfig

    def __init__(self, config: SRGANConfig, device: torch.device, **kwargs):
        TranslationModel.__init__(self, config, device, **kwargs)
        from .stylenet import StyleEncoder  # the frozen Lite1 encoder, shared with stylenet

        g = SRNet(config.generator_config())
        if config.init_from:
            g.load_state_dict(self._pretrained(Path(config.init_from), g))
        self.g = self.add_network("g", g)
        self.d = self.add_network(
            "d", PatchDiscriminator(PatchDiscriminatorConfig(config.ndf, config.d_layers, "none"))
        )
        self.features = StyleEncoder("lite1").to(device)
        self.optimizers = {"g": self.adam(self.g), "d": self.adam(self.d)}

    @staticmethod
    def _pretrained(run_dir: Path, g: SRNet) -> dict[str, torch.Tensor]:
        net, config = generator_from_config(run_dir, "generator")
        if not isinstance(net, SRNet) or net.config != g.config:
            raise ConfigError(
                f"model.init_from: {run_dir} holds {config.get('method')} with another "
                "generator; use a srresnet run of the same scale, channels and blocks"
            )
        return net.state_dict()

    def learning_rates(self) -> dict[str, float]:
        return {"g": self.config.lr, "d": self.config.lr_d}

    def _adv(self, real_logits, fake_logits, for_generator: bool) -> torch.Tensor:
        kind = self.config.gan_loss
        if kind == "relativistic":
            return relativistic_adv_losses(real_logits, fake_logits, for_generator)
        if for_generator:
            return generator_adv_loss(kind, fake_logits)
        return discriminator_adv_loss(kind, real_logits, fake_logits)

    def train_step(self, batch):
        c = self.config
        hr = self.prepare(batch)["real"]
        lr = self.low_resolution(batch["real"])
        with self.autocast():
            sr = self.g(lr)
        # discriminator
        self.requires_grad([self.d], True)
        self.optimizers["d"].zero_grad(set_to_none=True)
        with self.autocast():
            loss_d = self._adv(self.d(hr), self.d(sr.detach()), for_generator=False)
        loss_d.backward()
        self.update("d")
        # generator
        self.requires_grad([self.d], False)
        self.optimizers["g"].zero_grad(set_to_none=True)
        with self.autocast():
            real_logits = self.d(hr).detach() if c.gan_loss == "relativistic" else None
            loss_adv = self._adv(real_logits, self.d(sr), for_generator=True) * c.lambda_adv
            loss_pixel = (sr.float() - hr.float()).abs().mean() * c.lambda_pixel
            losses = {"loss/adv_g": loss_adv, "loss/pixel": loss_pixel, "loss/d": loss_d}
            total = loss_adv + loss_pixel
            if c.lambda_perceptual > 0:
                seen_hr, seen_sr = hr, sr
                if c.perceptual_jitter:
                    dy, dx = (int(v) for v in torch.randint(c.perceptual_jitter, (2,)))
                    seen_hr, seen_sr = hr[..., dy:, dx:], sr[..., dy:, dx:]
                with torch.no_grad():
                    target = self.features.taps(seen_hr, PERCEPTUAL_BLOCKS)
                output = self.features.taps(seen_sr, PERCEPTUAL_BLOCKS)
                loss_perceptual = sum(
                    relative_mse(o.float(), t.float()) for o, t in zip(output, target, strict=True)
                ) * (c.lambda_perceptual / len(PERCEPTUAL_BLOCKS))
                total = total + loss_perceptual
                losses["loss/perceptual"] = loss_perceptual
        total.backward()
        self.update("g")
        return self.read_losses({k: v.detach() for k, v in losses.items()})
