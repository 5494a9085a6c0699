"""CycleGAN (Zhu et al. 2017): two generators tied by cycle consistency."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..losses import check_gan_loss, discriminator_adv_loss, generator_adv_loss, l1
from ..nn import PatchDiscriminator, PatchDiscriminatorConfig
from .base import MODELS, GeneratorOptions, TranslationModel
from .image_pool import ImagePool


@dataclass
class CycleGANConfig(GeneratorOptions):
    lambda_a: float = 10.0  # cycle weight A -> B -> A
    lambda_b: float = 10.0  # cycle weight B -> A -> B
    lambda_identity: float = 0.5  # identity weight, relative to the cycle weights
    pool_size: int = 50


@MODELS.register("cyclegan")
class CycleGAN(TranslationModel):
    """The G step runs the A-path and the B-path one after the other and back-propagates each at
    once: the gradients equal the joint loss's, while only half the graph is alive at a time."""

    config_cls = CycleGANConfig
    directions = {"a2b": "g_ab", "b2a": "g_ba"}

    def __init__(self, config: CycleGANConfig, device: torch.device, **kwargs):
        super().__init__(config, device, **kwargs)
        check_gan_loss(config.gan_loss)
        d_config = PatchDiscriminatorConfig(config.ndf, config.d_layers, config.norm)
        self.g_ab = self.add_network("g_ab", self.make_generator())
        self.g_ba = self.add_network("g_ba", self.make_generator())
        self.d_a = self.add_network("d_a", PatchDiscriminator(d_config))
        self.d_b = self.add_network("d_b", PatchDiscriminator(d_config))
        self.optimizers = {"g": self.adam(self.g_ab, self.g_ba), "d": self.adam(self.d_a, self.d_b)}
        self.pool_a = ImagePool(config.pool_size, self.rng)
        self.pool_b = ImagePool(config.pool_size, self.rng)

    def _generator_path(self, real, g_fwd, g_back, d_target, lambda_cycle, suffix, losses):
        """One half of the G loss; returns the detached fake for the D step."""
        c = self.config
        with self.autocast():
            fake = g_fwd(real)
            rec = g_back(fake)
            adv = generator_adv_loss(c.gan_loss, d_target(fake))
            cycle = l1(rec, real) * lambda_cycle
        (adv + cycle).backward()
        if c.lambda_identity > 0:
            # g_back maps into real's domain, so it should leave real unchanged; a backward of
            # its own keeps only one generator graph alive at a time
            with self.autocast():
                idt = l1(g_back(real), real) * lambda_cycle * c.lambda_identity
            idt.backward()
            losses[f"loss/g/idt_{suffix}"] = idt.detach()
        losses[f"loss/g/adv_{suffix}"] = adv.detach()
        losses[f"loss/g/cycle_{suffix}"] = cycle.detach()
        return fake.detach()

    def _discriminator(self, d, real, fake, name, losses):
        with self.autocast():
            real_logits, fake_logits = d(real), d(fake)
            loss = discriminator_adv_loss(self.config.gan_loss, real_logits, fake_logits)
        loss.backward()
        losses[f"loss/d/{name}"] = loss.detach()
        losses[f"diag/d_{name}_real"] = real_logits.detach().float().mean()
        losses[f"diag/d_{name}_fake"] = fake_logits.detach().float().mean()

    def train_step(self, batch):
        batch = self.prepare(batch)
        real_a, real_b = batch["real_a"], batch["real_b"]
        losses: dict[str, torch.Tensor] = {}
        discriminators = [self.d_a, self.d_b]
        self.requires_grad(discriminators, False)
        self.optimizers["g"].zero_grad(set_to_none=True)
        fake_b = self._generator_path(
            real_a, self.g_ab, self.g_ba, self.d_b, self.config.lambda_a, "ab", losses
        )
        fake_a = self._generator_path(
            real_b, self.g_ba, self.g_ab, self.d_a, self.config.lambda_b, "ba", losses
        )
        self.update("g")

        self.requires_grad(discriminators, True)
        self.optimizers["d"].zero_grad(set_to_none=True)
        self._discriminator(self.d_b, real_b, self.pool_b.query(fake_b), "b", losses)
        self._discriminator(self.d_a, real_a, self.pool_a.query(fake_a), "a", losses)
        self.update("d")
        losses["diag/change_ab"] = (fake_b.float() - real_a.float()).abs().mean()
        return self.read_losses(losses)

    @torch.no_grad()
    def sample(self, batch):
        batch = self.prepare(batch)
        with self.autocast():
            fake_b = self.g_ab(batch["real_a"])
            fake_a = self.g_ba(batch["real_b"])
            rows = [
                [batch["real_a"], fake_b, self.g_ba(fake_b)],
                [batch["real_b"], fake_a, self.g_ab(fake_a)],
            ]
        return [[t.float() for t in row] for row in rows]

    def extra_state(self):
        state = super().extra_state()
        state["pool_a"] = self.pool_a.state()
        state["pool_b"] = self.pool_b.state()
        return state

    def load_extra_state(self, state):
        super().load_extra_state(state)
        self.pool_a.load_state(state["pool_a"], self.device)
        self.pool_b.load_state(state["pool_b"], self.device)
