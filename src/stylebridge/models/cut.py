"""CUT and FastCUT (Park et al. 2020): one generator, patchwise contrastive content loss."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..losses import check_gan_loss, discriminator_adv_loss, generator_adv_loss, mean_patch_nce
from ..nn import PatchDiscriminator, PatchDiscriminatorConfig, PatchSampleMLP
from .base import MODELS, GeneratorOptions, TranslationModel


@dataclass
class CUTConfig(GeneratorOptions):
    lambda_gan: float = 1.0
    lambda_nce: float = 1.0
    nce_idt: bool = True  # also NCE between real_b and g(real_b): CUT's identity term
    # generator layers whose patches are contrasted; auto = the paper's 0,4,8,12,16 (input, the
    # two downsampling convs, residual blocks 1 and 5), the last clipped to fewer blocks
    nce_layers: str = "auto"
    num_patches: int = 256
    nce_tau: float = 0.07
    netf_dim: int = 256  # projection head width
    flip_equivariance: bool = False

    def resolve(self, size: int) -> None:
        super().resolve(size)
        if self.nce_layers == "auto":  # saved resolved, so a run folder says what was used
            self.nce_layers = paper_nce_layers(self.n_blocks)


def paper_nce_layers(n_blocks: int, n_downsampling: int = 2) -> str:
    """CUT's layers 0, 4, 8, 12, 16 for this encoder: the input, each downsampling conv, the
    first residual block and the one four later, or the last block when there are fewer."""
    first_block = 4 * (n_downsampling + 1)
    last_block = first_block + n_blocks - 1
    layers = [4 * i for i in range(n_downsampling + 1)] + [first_block, first_block + 4]
    return ",".join(str(v) for v in dict.fromkeys(min(v, last_block) for v in layers))


@dataclass
class FastCUTConfig(CUTConfig):
    lambda_nce: float = 10.0
    nce_idt: bool = False
    flip_equivariance: bool = True
    decay_fraction: float = 0.25  # the paper's 150 + 50 epochs


@MODELS.register("cut")
class CUT(TranslationModel):
    """The input features for PatchNCE come from the same forward pass that makes the fake, so
    no generator pass is computed twice (the reference implementation encodes the input again).

    On a CPU the identity term's pass (real_b through the generator) is back-propagated on its
    own after the main loss: the gradients are the same sum, but only one image's generator
    graph is alive at a time, which lowers peak memory (batch-1 speed is the same there). On a
    GPU, or with batch norm (whose statistics span the batch), both run as one batch as in the
    paper: at batch 1 a GPU step is bound by kernel launches, so one pass of two images is
    faster than two passes of one."""

    config_cls = CUTConfig
    directions = {"a2b": "g_ab"}

    def __init__(self, config: CUTConfig, device: torch.device, **kwargs):
        super().__init__(config, device, **kwargs)
        check_gan_loss(config.gan_loss)
        spec = str(config.nce_layers)
        if spec == "auto":
            spec = paper_nce_layers(config.n_blocks)
        try:
            self.layers = [int(v) for v in spec.split(",") if v.strip()]
        except ValueError:
            raise ConfigError(
                f"nce_layers must be comma-separated integers: {config.nce_layers!r}"
            ) from None
        self.g_ab = self.add_network("g_ab", self.make_generator())
        encoder_end = 4 * (self.g_ab.config.n_downsampling + 1) + config.n_blocks
        if not self.layers or min(self.layers) < 0 or max(self.layers) >= encoder_end:
            raise ConfigError(
                f"nce_layers {config.nce_layers!r} must index encoder layers "
                f"0..{encoder_end - 1} (with n_blocks={config.n_blocks})"
            )
        channels = self.g_ab.feature_channels(self.layers)
        self.d_b = self.add_network(
            "d_b",
            PatchDiscriminator(PatchDiscriminatorConfig(config.ndf, config.d_layers, config.norm)),
        )
        self.f = self.add_network("f", PatchSampleMLP(channels, config.netf_dim))
        self.optimizers = {
            "g": self.adam(self.g_ab),
            "d": self.adam(self.d_b),
            "f": self.adam(self.f),
        }
        self.split_identity = device.type == "cpu" and config.norm != "batch"

    def _nce(self, source_feats, output_feats, batch_size):
        keys, ids = self.f(source_feats, self.config.num_patches, generator=self.rng)
        queries, _ = self.f(output_feats, self.config.num_patches, patch_ids=ids)
        return mean_patch_nce(queries, keys, batch_size, self.config.nce_tau)

    def train_step(self, batch):
        c = self.config
        batch = self.prepare(batch)
        real_a, real_b = batch["real_a"], batch["real_b"]
        n = real_a.shape[0]
        use_idt = c.nce_idt and c.lambda_nce > 0
        split = use_idt and self.split_identity
        if c.flip_equivariance and torch.rand(1, generator=self.rng).item() < 0.5:
            real_a, real_b = real_a.flip(-1), real_b.flip(-1)
        real = torch.cat([real_a, real_b]) if use_idt and not split else real_a
        losses: dict[str, torch.Tensor] = {}
        with self.autocast():
            fake, source_feats = self.g_ab(real, self.layers)
        fake_b = fake[:n]

        # D step on the detached fake
        self.requires_grad([self.d_b], True)
        self.optimizers["d"].zero_grad(set_to_none=True)
        with self.autocast():
            real_logits, fake_logits = self.d_b(real_b), self.d_b(fake_b.detach())
            loss_d = discriminator_adv_loss(c.gan_loss, real_logits, fake_logits)
        loss_d.backward()
        self.update("d")

        # G and F step: adv + mean of the NCE terms, the identity one on its own graph if split
        self.requires_grad([self.d_b], False)
        self.optimizers["g"].zero_grad(set_to_none=True)
        self.optimizers["f"].zero_grad(set_to_none=True)
        nce_share = 0.5 if use_idt else 1.0
        with self.autocast():
            adv = generator_adv_loss(c.gan_loss, self.d_b(fake_b)) * c.lambda_gan
            total = adv
            if c.lambda_nce > 0:
                _, output_feats = self.g_ab(fake, self.layers, encode_only=True)
                nce = (
                    self._nce([f[:n] for f in source_feats], [f[:n] for f in output_feats], n)
                    * c.lambda_nce
                )
                losses["loss/g/nce"] = nce.detach()
                total = total + nce * nce_share
                if use_idt and not split:
                    nce_y = (
                        self._nce([f[n:] for f in source_feats], [f[n:] for f in output_feats], n)
                        * c.lambda_nce
                    )
                    total = total + nce_y * nce_share
        total.backward()
        if split:  # the first graph is freed; now the identity pass alone
            with self.autocast():
                idt_b, idt_source = self.g_ab(real_b, self.layers)
                _, idt_output = self.g_ab(idt_b, self.layers, encode_only=True)
                nce_y = self._nce(idt_source, idt_output, n) * c.lambda_nce
            (nce_y * nce_share).backward()
        if use_idt:
            losses["loss/g/nce_idt"] = nce_y.detach()
        self.update("g")
        self.update("f")
        losses["loss/g/adv"] = adv.detach()
        losses["loss/d/b"] = loss_d.detach()
        losses["diag/d_b_real"] = real_logits.detach().float().mean()
        losses["diag/d_b_fake"] = fake_logits.detach().float().mean()
        losses["diag/change_ab"] = (fake_b.detach().float() - real_a.float()).abs().mean()
        return self.read_losses(losses)

    @torch.no_grad()
    def sample(self, batch):
        batch = self.prepare(batch)
        with self.autocast():
            rows = [
                [batch["real_a"], self.g_ab(batch["real_a"])],
                [batch["real_b"], self.g_ab(batch["real_b"])],
            ]
        return [[t.float() for t in row] for row in rows]


@MODELS.register("fastcut")
class FastCUT(CUT):
    """CUT with a stronger NCE weight, no identity pass and flip equivariance: cheaper per step."""

    config_cls = FastCUTConfig
