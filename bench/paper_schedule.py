"""The per-iteration computation of the original CycleGAN/CUT training scripts, restated on
stylebridge's networks so it can be timed beside ours in the same run when no reference checkout
is at hand: contiguous fp32 tensors, transposed-convolution upsampling, one joint generator
backward holding every forward graph, and CUT's extra encoder pass over the input."""

from __future__ import annotations

import torch

from stylebridge.losses import discriminator_adv_loss, generator_adv_loss, l1, mean_patch_nce
from stylebridge.nn import (
    GlobalStatsInstanceNorm,
    PatchDiscriminator,
    PatchDiscriminatorConfig,
    PatchSampleMLP,
    ResnetGenerator,
    ResnetGeneratorConfig,
)


def _reference_norms(net: torch.nn.Module) -> torch.nn.Module:
    """The original scripts' nn.InstanceNorm2d in place of our group-norm based layer."""
    for name, child in net.named_children():
        if isinstance(child, GlobalStatsInstanceNorm):
            setattr(net, name, torch.nn.InstanceNorm2d(child.num_features))
        else:
            _reference_norms(child)
    return net


def _adam(*nets):
    return torch.optim.Adam([p for n in nets for p in n.parameters()], lr=2e-4, betas=(0.5, 0.999))


class PaperCycleGAN:
    def __init__(self, n_blocks: int, device):
        gcfg = ResnetGeneratorConfig(64, n_blocks, "instance", "transpose")
        self.g_ab, self.g_ba = (
            _reference_norms(ResnetGenerator(gcfg)).to(device) for _ in range(2)
        )
        dcfg = PatchDiscriminatorConfig()
        self.d_a, self.d_b = (
            _reference_norms(PatchDiscriminator(dcfg)).to(device) for _ in range(2)
        )
        self.opt_g, self.opt_d = _adam(self.g_ab, self.g_ba), _adam(self.d_a, self.d_b)

    def step(self, a, b):
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)
        rec_a, rec_b = self.g_ba(fake_b), self.g_ab(fake_a)
        for d in (self.d_a, self.d_b):
            d.requires_grad_(False)
        self.opt_g.zero_grad()
        idt_a, idt_b = self.g_ab(b), self.g_ba(a)
        loss = (
            generator_adv_loss("lsgan", self.d_b(fake_b))
            + generator_adv_loss("lsgan", self.d_a(fake_a))
            + 10 * l1(rec_a, a)
            + 10 * l1(rec_b, b)
            + 5 * l1(idt_a, b)
            + 5 * l1(idt_b, a)
        )
        loss.backward()
        self.opt_g.step()
        for d in (self.d_a, self.d_b):
            d.requires_grad_(True)
        self.opt_d.zero_grad()
        discriminator_adv_loss("lsgan", self.d_b(b), self.d_b(fake_b.detach())).backward()
        discriminator_adv_loss("lsgan", self.d_a(a), self.d_a(fake_a.detach())).backward()
        self.opt_d.step()


class PaperCUT:
    def __init__(self, n_blocks: int, device, fast: bool):
        gcfg = ResnetGeneratorConfig(64, n_blocks, "instance", "transpose")
        self.g = _reference_norms(ResnetGenerator(gcfg)).to(device)
        self.d = _reference_norms(PatchDiscriminator(PatchDiscriminatorConfig())).to(device)
        self.layers = [0, 4, 8, 12, 16]
        self.f = PatchSampleMLP(self.g.feature_channels(self.layers)).to(device)
        self.opt_g, self.opt_d, self.opt_f = _adam(self.g), _adam(self.d), _adam(self.f)
        self.fast = fast

    def _nce(self, src, out):
        _, fq = self.g(out, self.layers, encode_only=True)
        _, fk = self.g(src, self.layers, encode_only=True)  # the input encoded a second time
        keys, ids = self.f(fk, 256)
        queries, _ = self.f(fq, 256, patch_ids=ids)
        return mean_patch_nce(queries, keys, src.shape[0], 0.07)

    def step(self, a, b):
        real = a if self.fast else torch.cat([a, b])
        fake = self.g(real)
        fake_b = fake[: a.shape[0]]
        self.opt_d.zero_grad()
        discriminator_adv_loss("lsgan", self.d(b), self.d(fake_b.detach())).backward()
        self.opt_d.step()
        self.d.requires_grad_(False)
        self.opt_g.zero_grad()
        self.opt_f.zero_grad()
        loss = generator_adv_loss("lsgan", self.d(fake_b))
        nce = self._nce(a, fake_b)
        if not self.fast:
            nce = (nce + self._nce(b, fake[a.shape[0] :])) * 0.5
        (loss + (10 if self.fast else 1) * nce).backward()
        self.opt_g.step()
        self.opt_f.step()
        self.d.requires_grad_(True)
