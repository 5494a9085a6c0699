"""Training objectives: adversarial, gradient penalty, R1, cycle/identity and PatchNCE."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .errors import ConfigError

GAN_LOSSES = ("lsgan", "vanilla", "hinge")
OBJECTIVES = (*GAN_LOSSES, "wgan")  # the unconditional GANs also take the Wasserstein loss


def check_gan_loss(kind: str) -> str:
    if kind not in GAN_LOSSES:
        raise ConfigError(f"unknown gan_loss {kind!r}; choose one of: {', '.join(GAN_LOSSES)}")
    return kind


def generator_adv_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """What G minimises so that D calls its output real."""
    fake_logits = fake_logits.float()
    if kind == "lsgan":
        return (fake_logits - 1).square().mean()
    if kind == "vanilla":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if kind in ("hinge", "wgan"):
        return -fake_logits.mean()
    raise ConfigError(f"unknown gan_loss {kind!r}")


def discriminator_adv_loss(
    kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """D's loss, halved for lsgan/vanilla as in CycleGAN so D learns slower than G."""
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if kind == "lsgan":
        return 0.5 * ((real_logits - 1).square().mean() + fake_logits.square().mean())
    if kind == "vanilla":
        real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        return 0.5 * (real + fake)
    if kind == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    if kind == "wgan":  # the critic's estimate of the Wasserstein-1 distance, negated
        return fake_logits.mean() - real_logits.mean()
    raise ConfigError(f"unknown gan_loss {kind!r}")


def gradient_penalty(
    critic, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor | None = None
) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): mean of (||grad critic(x)|| - 1)^2 at random points x on
    the lines between real and fake samples; ``mix`` (N,) fixes those points for tests."""
    if mix is None:
        mix = torch.rand(real.shape[0], device=real.device)
    mix = mix.to(real.dtype).view(-1, *([1] * (real.dim() - 1)))
    points = (real.detach() * mix + fake.detach() * (1 - mix)).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(points).float().sum(), points, create_graph=True)
    return (grad.float().flatten(1).norm(dim=1) - 1).square().mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): mean squared gradient norm of D on real images; ``real`` must
    require grad and ``real_logits`` be computed from it. Multiply by gamma / 2."""
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real, create_graph=True)
    return grad.float().flatten(1).square().sum(dim=1).mean()


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.float() - b.float()).abs().mean()


def patch_nce_loss(
    queries: torch.Tensor, keys: torch.Tensor, batch_size: int, tau: float = 0.07
) -> torch.Tensor:
    """InfoNCE over patches: each output patch must match the input patch at the same place
    against the other patches of the same image (Park et al., CUT).

    ``queries``/``keys``: (B*P, D) unit vectors from the output/input; keys are not back-propagated.
    """
    keys = keys.detach()
    num = queries.shape[0]
    dim = queries.shape[1]
    pos = (queries * keys).sum(dim=1, keepdim=True)  # (B*P, 1)
    q = queries.view(batch_size, -1, dim)
    k = keys.view(batch_size, -1, dim)
    neg = torch.bmm(q, k.transpose(1, 2))  # (B, P, P)
    patches = q.shape[1]
    eye = torch.eye(patches, device=queries.device, dtype=torch.bool)[None]
    neg = neg.masked_fill(eye, -10.0).view(num, patches)
    logits = torch.cat([pos, neg], dim=1).float() / tau
    target = torch.zeros(num, dtype=torch.long, device=queries.device)
    return F.cross_entropy(logits, target)


def mean_patch_nce(
    queries: Sequence[torch.Tensor], keys: Sequence[torch.Tensor], batch_size: int, tau: float
) -> torch.Tensor:
    losses = [patch_nce_loss(q, k, batch_size, tau) for q, k in zip(queries, keys, strict=True)]
    return torch.stack(losses).mean()


# --- feature-statistics losses of the feature-fusion style engine ----------------------------


def softmax_smooth(features: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Activation smoothing (Wang et al., CVPR 2021): a softmax over all activations of a layer
    of one image, rescaled by their count so a flat map stays at 1. It raises the entropy of
    peaky non-VGG activations, which otherwise make statistics losses noisy."""
    n = features.shape[0]
    flat = features.float().reshape(n, -1) / temperature
    count = flat.shape[1]
    return (torch.softmax(flat, dim=1) * count).reshape(features.shape)


def moment_style_loss(output: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Per-channel mean and standard deviation of two feature maps, matched (as AdaIN's loss),
    relative to the style's own scale so layers of any magnitude weigh alike."""
    o, s = output.float(), style.float()
    o_mean, s_mean = o.mean((2, 3)), s.mean((2, 3))
    o_std = o.var((2, 3), unbiased=False).add(1e-5).sqrt()
    s_std = s.var((2, 3), unbiased=False).add(1e-5).sqrt()
    scale = (s_mean.square().mean(1) + s_std.square().mean(1)).detach().add(1e-8)
    diff = (o_mean - s_mean).square().mean(1) + (o_std - s_std).square().mean(1)
    return (diff / scale).mean()


def relative_mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE divided by the target's mean square: a content loss whose size does not depend on
    the layer's activation scale."""
    o, t = output.float(), target.float()
    return (o - t).square().mean() / t.square().mean().detach().add(1e-8)


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """L1 in pixels plus L1 of the horizontal and vertical differences: a student decoder that
    matched only the colours would smooth away the teacher's strokes and grain."""
    student, teacher = student.float(), teacher.float()
    pixels = (student - teacher).abs().mean()
    dx = (student.diff(dim=-1) - teacher.diff(dim=-1)).abs().mean()
    dy = (student.diff(dim=-2) - teacher.diff(dim=-2)).abs().mean()
    return pixels + dx + dy


def total_variation(images: torch.Tensor) -> torch.Tensor:
    x = images.float()
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (
        x[..., :, 1:] - x[..., :, :-1]
    ).abs().mean()


def phase_grid_loss(images: torch.Tensor, period: int = 4) -> torch.Tensor:
    """The energy of a fixed pattern repeating every ``period`` pixels: the mean squared
    per-phase mean of each image's detail finer than a ``period`` box filter (which nulls
    every frequency of that period, so a grid passes whole and smooth content not at all).
    A decoder reading stride-4 features leaves such a grid on smooth areas; content that is
    not aligned to the grid averages out over the phases."""
    x = images.float()
    h, w = x.shape[-2] - x.shape[-2] % period, x.shape[-1] - x.shape[-1] % period
    if h < 2 * period or w < 2 * period:
        raise ValueError(f"phase_grid_loss needs at least {2 * period} px a side")
    x = x[..., :h, :w]
    padded = F.pad(x, (period // 2, period - 1 - period // 2) * 2, mode="replicate")
    detail = x - F.avg_pool2d(padded, period, stride=1)
    phases = detail.unflatten(-1, (w // period, period)).unflatten(-3, (h // period, period))
    grid = phases.mean(dim=(-4, -2))  # (..., period, period): each phase's mean detail
    return (grid - grid.mean(dim=(-2, -1), keepdim=True)).square().mean()


def relativistic_adv_losses(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, for_generator: bool
) -> torch.Tensor:
    """Relativistic average GAN (Jolicoeur-Martineau 2018; ESRGAN): D judges whether a real
    image is more realistic than the average fake, and G is trained the other way round, so
    the generator also learns from the real images' gradients."""
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    real_rel = real_logits - fake_logits.mean()
    fake_rel = fake_logits - real_logits.mean()
    real_target, fake_target = (0.0, 1.0) if for_generator else (1.0, 0.0)
    return 0.5 * (
        F.binary_cross_entropy_with_logits(real_rel, torch.full_like(real_rel, real_target))
        + F.binary_cross_entropy_with_logits(fake_rel, torch.full_like(fake_rel, fake_target))
    )
