"""Unconditional GANs: DCGAN, LSGAN, WGAN, WGAN-GP, SNGAN (hinge) and StyleGAN2-lite.

One class, many objectives: the methods differ only in their config defaults (objective, critic
normalisation, penalties, optimiser), so they are trained, saved and sampled the same way. A step
consumes ``n_critic`` real batches (one per critic update) and makes one generator update.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..losses import (
    OBJECTIVES,
    discriminator_adv_loss,
    generator_adv_loss,
    gradient_penalty,
    r1_penalty,
)
from ..nn import (
    DCGANConfig,
    DCGANDiscriminator,
    DCGANGenerator,
    StyleGAN2Config,
    StyleGAN2Discriminator,
    StyleGAN2Generator,
    mix_styles,
)
from ..nn.dcgan import D_NORMS, check_size
from ..nn.diffaugment import diff_augment, parse_policy
from .base import MODELS, TranslationModel

ARCHITECTURES = ("dcgan", "stylegan2")
GAN_METHODS = ("dcgan", "lsgan", "wgan", "wgan-gp", "sngan", "stylegan2")  # registered below
SAMPLE_GRID = 8  # the sample grid is SAMPLE_GRID x SAMPLE_GRID fixed latents


@dataclass
class GANConfig:
    architecture: str = "dcgan"  # dcgan | stylegan2
    objective: str = "vanilla"  # vanilla (non-saturating) | lsgan | wgan | hinge
    z_dim: int = 128
    ngf: int = 64  # dcgan generator width
    ndf: int = 64  # dcgan critic width
    d_norm: str = "batch"  # dcgan critic: batch | layer | none
    spectral_norm: bool = False  # spectral normalisation of every critic layer (SNGAN)
    channel_max: int = 128  # stylegan2 width cap (512 in the paper)
    mapping_layers: int = 4  # stylegan2 mapping depth (8 in the paper)
    style_mixing: float = 0.9  # stylegan2: share of G steps that mix two latents
    optimizer: str = "adam"  # adam | rmsprop (the WGAN paper)
    lr: float = 2e-4  # generator learning rate
    lr_d: float | None = None  # critic learning rate (TTUR); None = lr
    beta1: float = 0.5
    beta2: float = 0.999
    n_critic: int = 1  # critic updates per generator update
    clip: float = 0.0  # WGAN weight clipping bound; 0 = off
    lambda_gp: float = 0.0  # WGAN-GP gradient penalty weight; 0 = off
    r1_gamma: float = 0.0  # R1 penalty weight on real images; 0 = off
    r1_every: int = 1  # lazy R1: every k-th critic update, scaled by k (StyleGAN2 uses 16)
    ema: float = 0.0  # generator EMA decay (e.g. 0.999); 0 = export the raw generator
    augment: str = ""  # differentiable augmentation for the critic: color,translation,cutout
    decay_fraction: float = 0.0  # share of the steps over which the LRs fall linearly to 0
    size: int = 0  # set from the run's size

    def resolve(self, size: int) -> None:
        """Check the options against each other before any work starts."""
        check_size(size)
        self.size = size
        checks = [
            (self.architecture in ARCHITECTURES, f"architecture in {ARCHITECTURES}"),
            (self.objective in OBJECTIVES, f"objective in {OBJECTIVES}"),
            (self.d_norm in D_NORMS, f"d_norm in {D_NORMS}"),
            (self.optimizer in ("adam", "rmsprop"), "optimizer adam or rmsprop"),
            (self.n_critic >= 1 and self.r1_every >= 1, "n_critic and r1_every >= 1"),
            (0.0 <= self.ema < 1.0, "0 <= ema < 1"),
            (not (self.lambda_gp and self.d_norm == "batch"), "no batch-norm critic with the GP"),
        ]
        for ok, rule in checks:
            if not ok:
                raise ConfigError(f"model options break the rule: {rule}")
        parse_policy(self.augment)

    def generator_config(self) -> DCGANConfig | StyleGAN2Config:
        if self.architecture == "stylegan2":
            return StyleGAN2Config(
                self.size, self.z_dim, self.z_dim, self.mapping_layers, channel_max=self.channel_max
            )
        return DCGANConfig(self.size, self.z_dim, self.ngf)


@MODELS.register("dcgan")
class UnconditionalGAN(TranslationModel):
    """Generator ``g`` (and its EMA copy ``g_ema``) against critic ``d`` on one image folder."""

    config_cls = GANConfig
    data_kind = "images"
    load_scale = 1.0  # shorter side = size; the crop only moves along the longer side
    default_batch_size = 32

    def __init__(self, config: GANConfig, device: torch.device, *, seed: int = 0, **kwargs):
        super().__init__(config, device, seed=seed, **kwargs)
        self.policy = parse_policy(config.augment)
        gen_config = config.generator_config()
        if config.architecture == "stylegan2":
            self.g = self.add_network("g", StyleGAN2Generator(gen_config))
            self.d = self.add_network("d", StyleGAN2Discriminator(gen_config))
        else:
            self.g = self.add_network("g", DCGANGenerator(gen_config))
            critic = DCGANDiscriminator(
                config.size, config.ndf, config.d_norm, config.spectral_norm
            )
            self.d = self.add_network("d", critic)
        self.exports = {"generator": "g"}
        if config.ema > 0:
            self.g_ema = self.add_network("g_ema", copy.deepcopy(self.g).eval())
            self.requires_grad([self.g_ema], False)
            self.exports = {"generator": "g_ema"}
        self.optimizers = {
            "g": self._optimizer(self.g, config.lr),
            "d": self._optimizer(self.d, config.lr_d or config.lr),
        }
        self.counters = torch.zeros(2, dtype=torch.long)  # generator steps, critic steps
        fixed = torch.Generator().manual_seed(seed + 1)
        self.fixed_z = torch.randn(SAMPLE_GRID**2, config.z_dim, generator=fixed).to(device)

    @property
    def batches_per_step(self) -> int:
        return self.config.n_critic

    def learning_rates(self) -> dict[str, float]:
        return {"g": self.config.lr, "d": self.config.lr_d or self.config.lr}

    def architecture(self) -> dict:
        return {"generator": vars(self.config.generator_config())}

    def _optimizer(self, net, lr: float) -> torch.optim.Optimizer:
        if self.config.optimizer == "rmsprop":
            return torch.optim.RMSprop(net.parameters(), lr=lr)
        betas = (self.config.beta1, self.config.beta2)
        return torch.optim.Adam(net.parameters(), lr=lr, betas=betas)

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, device=self.device)

    def _generate(self, n: int) -> torch.Tensor:
        """Training samples; StyleGAN2 mixes two latents at a random layer in most steps."""
        if self.config.architecture != "stylegan2":
            return self.g(self._z(n))
        ws = self.g.ws(self._z(n), track_beta=0.995)
        if torch.rand(1, generator=self.rng).item() < self.config.style_mixing:
            cut = int(torch.randint(1, self.g.num_ws, (1,), generator=self.rng))
            ws = mix_styles(ws, self.g.ws(self._z(n)), torch.full((n,), cut))
        return self.g.synthesis(ws)

    def _critic(self, x: torch.Tensor) -> torch.Tensor:
        return self.d(diff_augment(x, self.policy) if self.policy else x)

    def _critic_step(self, real: torch.Tensor, losses: dict[str, float]) -> None:
        c = self.config
        n = real.shape[0]
        with torch.no_grad(), self.autocast():
            fake = self._generate(n)
        self.counters[1] += 1
        lazy_r1 = c.r1_gamma > 0 and int(self.counters[1]) % c.r1_every == 0
        if lazy_r1:
            real = real.detach().requires_grad_(True)
        self.optimizers["d"].zero_grad(set_to_none=True)
        with self.autocast():
            real_logits, fake_logits = self._critic(real), self._critic(fake)
            loss = discriminator_adv_loss(c.objective, real_logits, fake_logits)
        total = loss
        if c.lambda_gp > 0:
            gp = gradient_penalty(self.d, real, fake)
            total = total + c.lambda_gp * gp
            losses["loss/d/gp"] = losses.get("loss/d/gp", 0.0) + gp.item() / c.n_critic
        if lazy_r1:
            r1 = r1_penalty(real_logits, real)
            total = total + 0.5 * c.r1_gamma * c.r1_every * r1
            losses["loss/d/r1"] = r1.item()
        total.backward()
        self.update("d")
        if c.clip > 0:
            with torch.no_grad():
                for p in self.d.parameters():
                    p.clamp_(-c.clip, c.clip)
        for key, value in (
            ("loss/d/adv", loss),
            ("diag/d_real", real_logits.float().mean()),
            ("diag/d_fake", fake_logits.float().mean()),
        ):
            losses[key] = losses.get(key, 0.0) + value.item() / c.n_critic

    def train_step(self, batch):
        real_batches = self.prepare(batch)["real"].chunk(self.config.n_critic)
        losses: dict[str, float] = {}
        self.requires_grad([self.d], True)
        for real in real_batches:
            self._critic_step(real, losses)
        self.requires_grad([self.d], False)
        self.optimizers["g"].zero_grad(set_to_none=True)
        with self.autocast():
            adv = generator_adv_loss(self.config.objective, self._critic(self._generate(len(real))))
        adv.backward()
        self.update("g")
        self.counters[0] += 1
        self._update_ema()
        losses["loss/g/adv"] = adv.item()
        return losses

    @torch.no_grad()
    def _update_ema(self) -> None:
        """EMA with a warm-up: early on the decay is low so the average is not the random init."""
        if self.config.ema <= 0:
            return
        steps = int(self.counters[0])
        beta = min(self.config.ema, (1 + steps) / (10 + steps))
        for p_ema, p in zip(self.g_ema.parameters(), self.g.parameters(), strict=True):
            p_ema.lerp_(p, 1 - beta)
        for b_ema, b in zip(self.g_ema.buffers(), self.g.buffers(), strict=True):
            b_ema.copy_(b)

    def exported_generator(self):
        return self.networks[self.exports["generator"]]

    @torch.no_grad()
    def sample(self, batch):
        """An 8x8 grid of the exported generator's images for fixed latents."""
        net = self.exported_generator()
        was_training = net.training
        net.eval()
        with self.autocast():
            images = net(self.fixed_z).float()
        net.train(was_training)
        return [list(images.chunk(SAMPLE_GRID))]

    def inference_fn(self):
        """For the training evaluator: new samples each call, the same sequence every time."""
        net = self.exported_generator()
        rng = torch.Generator().manual_seed(1234)

        def generate(x: torch.Tensor) -> torch.Tensor:
            z = torch.randn(x.shape[0], self.config.z_dim, generator=rng).to(self.device)
            with torch.no_grad(), self.autocast():
                return net(z).float()

        return generate

    def train(self, mode: bool = True) -> None:
        for name, net in self.networks.items():
            net.train(mode and name != "g_ema")

    def extra_state(self):
        return {**super().extra_state(), "counters": self.counters.clone()}

    def load_extra_state(self, state):
        super().load_extra_state(state)
        self.counters.copy_(state["counters"])


# the papers' settings; every one can be changed with model.KEY=VALUE
@dataclass
class LSGANConfig(GANConfig):
    objective: str = "lsgan"


@dataclass
class WGANConfig(GANConfig):
    objective: str = "wgan"
    optimizer: str = "rmsprop"
    lr: float = 5e-5
    n_critic: int = 5
    clip: float = 0.01


@dataclass
class WGANGPConfig(GANConfig):
    objective: str = "wgan"
    d_norm: str = "layer"
    lambda_gp: float = 10.0
    n_critic: int = 5
    lr: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.9


@dataclass
class SNGANConfig(GANConfig):
    objective: str = "hinge"
    d_norm: str = "none"
    spectral_norm: bool = True
    lr: float = 1e-4
    lr_d: float | None = 4e-4  # TTUR
    beta1: float = 0.0
    beta2: float = 0.9


@dataclass
class StyleGAN2MethodConfig(GANConfig):
    architecture: str = "stylegan2"
    lr: float = 2e-3
    beta1: float = 0.0
    beta2: float = 0.99
    r1_gamma: float = 0.05
    r1_every: int = 4
    ema: float = 0.995
    augment: str = "color,translation"


@MODELS.register("lsgan")
class LSGAN(UnconditionalGAN):
    config_cls = LSGANConfig


@MODELS.register("wgan")
class WGAN(UnconditionalGAN):
    config_cls = WGANConfig


@MODELS.register("wgan-gp")
class WGANGP(UnconditionalGAN):
    config_cls = WGANGPConfig


@MODELS.register("sngan")
class SNGAN(UnconditionalGAN):
    config_cls = SNGANConfig


@MODELS.register("stylegan2")
class StyleGAN2(UnconditionalGAN):
    config_cls = StyleGAN2MethodConfig
