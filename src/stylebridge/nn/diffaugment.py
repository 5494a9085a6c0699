"""Differentiable augmentation for small corpora (after Zhao et al. 2020, "DiffAugment").

The same kind of random transform is applied to real and generated images before the
discriminator and is differentiable, so G is trained through it; D then cannot memorise a few
hundred paintings, and G is not taught to produce augmented-looking images.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str) -> list[str]:
    parts = [p.strip() for p in policy.split(",") if p.strip()]
    bad = [p for p in parts if p not in POLICIES]
    if bad:
        raise ConfigError(
            f"unknown augmentation {', '.join(bad)}; use a comma list of: {', '.join(POLICIES)}"
        )
    return parts


def _rand(n: int, x: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype)


def color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5), on [-1, 1]."""
    n = x.shape[0]
    x = x + (_rand(n, x) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, x) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, x) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its side, filling with zeros (grey)."""
    n, _, h, w = x.shape
    shift = torch.stack(
        [torch.randint(-int(s * ratio), int(s * ratio) + 1, (n,), device=x.device) for s in (h, w)]
    )
    ys = torch.arange(h, device=x.device)[None, :] - shift[0][:, None]  # (n, h) source rows
    xs = torch.arange(w, device=x.device)[None, :] - shift[1][:, None]
    valid = ((ys >= 0) & (ys < h))[:, :, None] & ((xs >= 0) & (xs < w))[:, None, :]
    rows = ys.clamp(0, h - 1)[:, None, :, None].expand(-1, x.shape[1], -1, w)
    out = x.gather(2, rows)
    cols = xs.clamp(0, w - 1)[:, None, None, :].expand(-1, x.shape[1], h, -1)
    out = out.gather(3, cols)
    return out * valid[:, None].to(x.dtype)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one random square of half the image side per image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n,), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n,), device=x.device)
    yy = torch.arange(h, device=x.device)[None, :, None]
    xx = torch.arange(w, device=x.device)[None, None, :]
    inside = ((yy - cy[:, None, None]).abs() <= ch // 2) & (
        (xx - cx[:, None, None]).abs() <= cw // 2
    )
    return x * (~inside)[:, None].to(x.dtype)


_OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, policy: list[str]) -> torch.Tensor:
    for name in policy:
        x = _OPS[name](x)
    return x
