"""Degradations that restoration models learn to undo, drawn from one seeded generator.

Super-resolution trains on ``bicubic`` (the benchmarks' downscale) or ``realistic`` pairs: a
second-order chain after Real-ESRGAN (Wang et al. 2021): blur, resize, noise and JPEG, twice,
so a model also copes with scanned prints and web copies, not only clean downscales. Denoising
trains on Gaussian and real-like (signal-dependent plus JPEG) noise. All functions take and
return float NCHW tensors in [-1, 1]; randomness comes only from the ``torch.Generator`` given.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..imageio import to_model_range, to_pixel_range

SR_DEGRADATIONS = ("bicubic", "realistic")
NOISE_KINDS = ("gaussian", "realistic")


def _uniform(rng: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=rng))


def downscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Antialiased bicubic downscale by an integer factor (PIL's and MATLAB's imresize kind)."""
    h, w = images.shape[-2:]
    return F.interpolate(
        images, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False
    ).clamp(-1, 1)


def upscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic upscale by an integer factor: the baseline and the networks' global skip."""
    return F.interpolate(images, scale_factor=scale, mode="bicubic", align_corners=False)


def gaussian_kernel(sigma: float, size: int = 21) -> torch.Tensor:
    half = size // 2
    x = torch.arange(-half, half + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur, reflect-padded."""
    if sigma <= 0:
        return images
    size = min(2 * math.ceil(3 * sigma) + 1, 2 * (min(images.shape[-2:]) // 2) - 1)
    k = gaussian_kernel(sigma, max(size, 3)).to(images)
    c = images.shape[1]
    pad = k.numel() // 2
    x = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def jpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    """Round trip through a real JPEG encoder (PIL), image by image."""
    out = []
    for image in images:
        pixels = to_pixel_range(image).permute(1, 2, 0).cpu().numpy()
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=int(quality))
        decoded = np.asarray(Image.open(buffer).convert("RGB")).copy()
        out.append(to_model_range(torch.from_numpy(decoded).permute(2, 0, 1)))
    return torch.stack(out).to(images)


def gaussian_noise(images: torch.Tensor, sigma: float | torch.Tensor, rng: torch.Generator):
    """Additive white Gaussian noise; ``sigma`` in 0..255 pixel units (scalar or per image)."""
    sigma = torch.as_tensor(sigma, dtype=torch.float32).reshape(-1, 1, 1, 1)
    noise = torch.randn(images.shape, generator=rng) * (sigma * 2 / 255)
    return images + noise.to(images)


def realistic_noise(images: torch.Tensor, rng: torch.Generator, strength: float = 1.0):
    """Sensor-like noise: signal-dependent (Poisson-like) plus colour and grey read noise."""
    level = _uniform(rng, 2, 25) * strength
    light = (images + 1) / 2
    shot = torch.randn(images.shape, generator=rng).to(images) * light.clamp(0).sqrt()
    grey = torch.randn((images.shape[0], 1, *images.shape[2:]), generator=rng).to(images)
    mix = _uniform(rng, 0, 1)
    noise = shot * 0.6 + (grey * mix + torch.randn(images.shape, generator=rng) * (1 - mix))
    return images + noise * (level * 2 / 255)


def _one_order(images: torch.Tensor, rng: torch.Generator, scales: tuple, noise_max: float):
    """One blur -> resize -> noise -> JPEG round of the second-order chain."""
    x = blur(images, _uniform(rng, 0.2, 2.0) if float(torch.rand((), generator=rng)) < 0.8 else 0)
    h, w = x.shape[-2:]
    factor = _uniform(rng, *scales)
    size = (max(4, round(h * factor)), max(4, round(w * factor)))
    mode = ("bicubic", "bilinear", "area")[int(torch.randint(3, (1,), generator=rng))]
    if mode == "area":
        x = F.interpolate(x, size=size, mode="area")
    else:
        x = F.interpolate(x, size=size, mode=mode, antialias=True)
    if float(torch.rand((), generator=rng)) < 0.5:
        x = gaussian_noise(x, _uniform(rng, 1, noise_max), rng)
    else:
        x = realistic_noise(x, rng, noise_max / 25)
    return jpeg(x.clamp(-1, 1), int(_uniform(rng, 30, 95)))


def degrade_for_sr(hr: torch.Tensor, scale: int, kind: str, rng: torch.Generator) -> torch.Tensor:
    """High-resolution crops -> their low-resolution inputs (size // scale)."""
    if kind == "bicubic":
        return downscale(hr, scale)
    if kind != "realistic":
        raise ValueError(f"unknown degradation {kind!r}; use one of {', '.join(SR_DEGRADATIONS)}")
    h, w = hr.shape[-2:]
    x = _one_order(hr, rng, (0.5, 1.2), 25)
    x = _one_order(x, rng, (0.5, 1.0), 15)
    return F.interpolate(x, size=(h // scale, w // scale), mode="bicubic", antialias=True).clamp(
        -1, 1
    )


def add_noise(
    clean: torch.Tensor, kind: str, rng: torch.Generator, sigma_range=(0.0, 55.0)
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean crops -> (noisy crops, per-image Gaussian-equivalent sigma in pixel units)."""
    n = clean.shape[0]
    if kind == "gaussian":
        sigma = torch.rand(n, generator=rng) * (sigma_range[1] - sigma_range[0]) + sigma_range[0]
        return gaussian_noise(clean, sigma, rng), sigma
    if kind != "realistic":
        raise ValueError(f"unknown noise kind {kind!r}; use one of {', '.join(NOISE_KINDS)}")
    noisy = torch.cat([realistic_noise(clean[i : i + 1], rng) for i in range(n)])
    sigma = ((noisy - clean).flatten(1).std(1) * 255 / 2).cpu()
    return noisy, sigma


MASK_KINDS = ("strokes", "cracks", "blobs", "torn")


def _random_walk(draw, size: int, rng: np.random.Generator, width: int, steps: int, turn: float):
    x, y = rng.uniform(0, size, 2)
    angle = rng.uniform(0, 2 * np.pi)
    for _ in range(steps):
        angle += rng.normal(0, turn)
        length = rng.uniform(size * 0.05, size * 0.2)
        nx, ny = x + length * np.cos(angle), y + length * np.sin(angle)
        draw.line([(x, y), (nx, ny)], fill=255, width=width, joint="curve")
        x, y = np.clip(nx, 0, size - 1), np.clip(ny, 0, size - 1)


def damage_mask(size: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """A bool size x size mask of synthetic damage: brush ``strokes``, thin branching
    ``cracks`` (craquelure, scratches), ``blobs`` (stains, flaking paint) or ``torn`` edges."""
    from PIL import ImageDraw

    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    if kind == "strokes":
        for _ in range(int(rng.integers(1, 5))):
            width = int(rng.integers(max(2, size // 40), max(3, size // 10)))
            _random_walk(draw, size, rng, width, int(rng.integers(2, 6)), 0.8)
    elif kind == "cracks":
        for _ in range(int(rng.integers(2, 7))):
            _random_walk(draw, size, rng, int(rng.integers(1, 4)), int(rng.integers(4, 12)), 0.5)
    elif kind == "blobs":
        for _ in range(int(rng.integers(1, 4))):
            cx, cy = rng.uniform(0, size, 2)
            r = rng.uniform(size * 0.04, size * 0.15)
            angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
            radii = r * rng.uniform(0.6, 1.4, 12)
            draw.polygon(
                [
                    (cx + q * np.cos(a), cy + q * np.sin(a))
                    for a, q in zip(angles, radii, strict=True)
                ],
                fill=255,
            )
    elif kind == "torn":
        side = int(rng.integers(4))
        depth = rng.uniform(size * 0.05, size * 0.25)
        xs = np.linspace(0, size, 16)
        edge = depth * (0.5 + np.cumsum(rng.normal(0, 0.25, 16)).clip(-0.45, 0.45))
        points = [(x, e) for x, e in zip(xs, edge, strict=True)] + [(size, 0), (0, 0)]
        draw.polygon(points, fill=255)
        canvas = canvas.rotate(90 * side)
    else:
        raise ValueError(f"unknown mask kind {kind!r}; use one of {', '.join(MASK_KINDS)}")
    return np.asarray(canvas) > 127


def damage_masks(
    n: int, size: int, rng: torch.Generator, kinds=MASK_KINDS, max_fraction: float = 0.45
) -> torch.Tensor:
    """(n, 1, size, size) float masks, 1 = missing; each of one or two kinds, never empty and
    never more than ``max_fraction`` of the image."""
    seeds = torch.randint(2**31 - 1, (n,), generator=rng).tolist()
    masks = []
    for seed in seeds:
        gen = np.random.default_rng(seed)
        mask = np.zeros((size, size), bool)
        for _ in range(int(gen.integers(1, 3))):
            mask |= damage_mask(size, kinds[int(gen.integers(len(kinds)))], gen)
        if mask.mean() > max_fraction or not mask.any():
            mask = damage_mask(size, "cracks", gen)
        masks.append(torch.from_numpy(mask))
    return torch.stack(masks)[:, None].float()
