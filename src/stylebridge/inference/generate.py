"""Sampling a trained unconditional GAN: image sets, latent walks (GIF) and style-mixing grids.

Latent ``i`` of seed ``S`` is drawn from its own random stream ``(S, i)``, and StyleGAN2's noise
inputs are fixed per seed, so an image depends only on (run, seed, index, truncation): asking
for 8 or 64 images gives the same first 8, whatever the batch size or device.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import ConfigError
from ..fileio import atomic_write, check_outputs
from ..imageio import save_image, to_pixel_range
from ..models.files import generator_from_config, read_run_config
from ..models.gan import GAN_METHODS
from ..nn import choose_precision, pick_device, prepare_runtime

Progress = Callable[[int, int], None]
COARSE_STYLES = 4  # StyleGAN2 styles of the 4x4 and 8x8 layers: layout; the rest: colour, detail


@dataclass
class GenerateResult:
    files: list[Path]
    grid: Path | None = None
    extras: dict[str, Path] = field(default_factory=dict)  # "interpolation", "style_mixing"


def image_grid(images: list[Image.Image], columns: int | None = None, pad: int = 2) -> Image.Image:
    """Equal-size images in rows of ``columns`` (default: a near-square grid) on white."""
    if not images:
        raise ValueError("image_grid needs at least one image")
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    w, h = images[0].size
    grid = Image.new("RGB", (columns * (w + pad) + pad, rows * (h + pad) + pad), "white")
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid.paste(image, (pad + c * (w + pad), pad + r * (h + pad)))
    return grid


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: Gaussian latents keep their typical norm along the path, where
    a straight line would pass through improbable low-norm points near the origin."""
    cos = (a * b).sum() / (a.norm() * b.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-6:
        return a.lerp(b, t)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def _to_pil(images: torch.Tensor) -> list[Image.Image]:
    pixels = to_pixel_range(images)
    return [Image.fromarray(p.permute(1, 2, 0).cpu().numpy(), "RGB") for p in pixels]


class ImageGenerator:
    """Loads the exported generator of a GAN run folder (dcgan ... stylegan2) once.

    ``images(z)`` maps latents to images; ``sample``, ``interpolation`` and ``style_mixing``
    build the user-facing outputs on top of it.
    """

    def __init__(
        self, run_dir: str | os.PathLike, *, device: str = "auto", precision: str = "auto"
    ):
        self.run_dir = Path(run_dir)
        config = read_run_config(self.run_dir)
        if config.get("method") not in GAN_METHODS:
            kind = f"{config['task']} model" if config.get("task") else "translation model"
            raise ConfigError(
                f"{self.run_dir} holds a {config.get('method')} {kind}, not a GAN "
                f"({', '.join(GAN_METHODS)}); use stylebridge stylize"
            )
        net, config = generator_from_config(self.run_dir, "generator")
        self.config = config
        self.architecture = config["generator"].get("architecture", "dcgan")
        self.device = pick_device(device)
        prepare_runtime(self.device)
        self.amp_dtype = choose_precision(precision, self.device)
        self.net = net.to(self.device)

    @property
    def z_dim(self) -> int:
        return self.net.z_dim

    @property
    def size(self) -> int:
        return int(self.config["generator"]["size"])

    def latents(self, count: int, seed: int, start: int = 0) -> torch.Tensor:
        """(count, z_dim) standard normal latents; row ``i`` depends only on (seed, start + i)."""
        rows = [
            np.random.default_rng([seed, start + i]).standard_normal(self.z_dim)
            for i in range(count)
        ]
        return torch.from_numpy(np.stack(rows)).float()

    @torch.no_grad()
    def images(
        self,
        z: torch.Tensor,
        *,
        truncation: float = 1.0,
        noise_seed: int = 0,
        ws: torch.Tensor | None = None,
        batch_size: int = 64,
    ) -> torch.Tensor:
        """Latents (or StyleGAN2 styles ``ws``) -> (N, 3, H, W) float images in [-1, 1], CPU."""
        if not 0.0 <= truncation <= 1.0:
            raise ConfigError(f"truncation must be within [0, 1], got {truncation}")
        source = z if ws is None else ws
        out = []
        for start in range(0, source.shape[0], batch_size):
            chunk = source[start : start + batch_size].to(self.device)
            with self._autocast():
                if self.architecture != "stylegan2":
                    images = self.net(chunk, truncation)
                elif ws is None:
                    images = self.net(chunk, truncation, noise_seed)
                else:
                    images = self.net.synthesis(chunk, noise_seed)
            out.append(images.float().cpu())
        return torch.cat(out)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def sample(
        self,
        count: int,
        seed: int,
        *,
        truncation: float = 1.0,
        progress: Progress | None = None,
        batch_size: int = 64,
    ) -> list[Image.Image]:
        """``count`` images for ``seed``."""
        results: list[Image.Image] = []
        for start in range(0, count, batch_size):
            n = min(batch_size, count - start)
            z = self.latents(n, seed, start)
            results += _to_pil(self.images(z, truncation=truncation, noise_seed=seed))
            if progress is not None:
                progress(len(results), count)
        return results

    def interpolation(
        self, seed: int, *, keyframes: int = 4, frames_per_key: int = 12, truncation: float = 1.0
    ) -> list[Image.Image]:
        """A closed loop through ``keyframes`` latents, ``frames_per_key`` slerp steps apart."""
        if keyframes < 2 or frames_per_key < 1:
            raise ConfigError("an interpolation needs at least 2 keyframes and 1 frame per key")
        keys = self.latents(keyframes, seed)
        path = [
            slerp(keys[k], keys[(k + 1) % keyframes], f / frames_per_key)
            for k in range(keyframes)
            for f in range(frames_per_key)
        ]
        return _to_pil(self.images(torch.stack(path), truncation=truncation, noise_seed=seed))

    def style_mixing(
        self,
        seed: int,
        *,
        rows: int = 4,
        columns: int = 4,
        truncation: float = 1.0,
        coarse: int = COARSE_STYLES,
    ) -> Image.Image:
        """The StyleGAN figure: a top row of column sources, a left column of row sources, and
        in each cell the row source's coarse styles (layout) with the column source's fine
        styles (colour, texture)."""
        if self.architecture != "stylegan2":
            raise ConfigError(f"style mixing needs a stylegan2 run, not {self.architecture}")
        z = self.latents(rows + columns, seed)
        with torch.no_grad():
            ws = self.net.ws(z.to(self.device), truncation).float().cpu()
        ws_rows, ws_cols = ws[:rows], ws[rows:]
        mixed = ws_cols.repeat(rows, 1, 1).clone()  # cell (r, c) at r * columns + c
        mixed[:, :coarse] = ws_rows.repeat_interleave(columns, dim=0)[:, :coarse]
        sources = _to_pil(self.images(z, ws=ws, noise_seed=seed))
        cells = _to_pil(self.images(z, ws=mixed, noise_seed=seed))
        blank = Image.new("RGB", sources[0].size, "white")
        layout = [blank, *sources[rows:]]
        for r in range(rows):
            layout += [sources[r], *cells[r * columns : (r + 1) * columns]]
        return image_grid(layout, columns + 1)


def save_gif(
    frames: list[Image.Image],
    path: str | os.PathLike,
    *,
    frame_ms: int = 80,
    min_side: int = 256,
    replace: bool = True,
) -> Path:
    """An endlessly looping GIF, frames enlarged (nearest) to at least ``min_side`` px, written
    atomically."""
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ConfigError(f"{path}: an interpolation is written as .gif")
    scale = max(1, math.ceil(min_side / max(frames[0].size)))
    big = [f.resize((f.width * scale, f.height * scale), Image.Resampling.NEAREST) for f in frames]
    buffer = io.BytesIO()
    big[0].save(
        buffer, format="GIF", save_all=True, append_images=big[1:], duration=frame_ms, loop=0
    )
    atomic_write(path, buffer.getvalue(), replace=replace)
    return path


def generate_files(
    run_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    count: int = 64,
    seed: int = 0,
    truncation: float = 1.0,
    grid: bool = True,
    interpolation_frames: int = 0,
    style_mixing: bool = False,
    device: str = "auto",
    progress: Progress | None = None,
    overwrite: bool = False,
) -> GenerateResult:
    """Write ``count`` images as ``OUT/seed{S}_{i:04d}.png``, plus ``grid.png``, optionally
    ``interpolation.gif`` (a loop of 4 keyframes, ``interpolation_frames`` frames in all) and
    ``style_mixing.png`` (stylegan2 only). Existing files (or the run's own) are refused before
    any work unless ``overwrite`` (never the run's own)."""
    if count < 1:
        raise ConfigError(f"count must be at least 1, got {count}")
    generator = ImageGenerator(run_dir, device=device)
    if style_mixing and generator.architecture != "stylegan2":
        raise ConfigError(f"style mixing needs a stylegan2 run, not {generator.architecture}")
    out = Path(out)
    names = [f"seed{seed}_{i:04d}.png" for i in range(count)]
    extras = {
        "grid.png": grid,
        "interpolation.gif": interpolation_frames,
        "style_mixing.png": style_mixing,
    }
    targets = [out / n for n in [*names, *(n for n, wanted in extras.items() if wanted)]]
    check_outputs(targets, Path(run_dir).iterdir(), overwrite=overwrite)
    images = generator.sample(count, seed, truncation=truncation, progress=progress)
    files = [
        save_image(im, out / n, replace=overwrite) for n, im in zip(names, images, strict=True)
    ]
    result = GenerateResult(files)
    if grid:
        result.grid = save_image(image_grid(images), out / "grid.png", replace=overwrite)
    if interpolation_frames:
        per_key = max(1, round(interpolation_frames / 4))
        frames = generator.interpolation(seed, frames_per_key=per_key, truncation=truncation)
        gif = save_gif(frames, out / "interpolation.gif", replace=overwrite)
        result.extras["interpolation"] = gif
    if style_mixing:
        sheet = generator.style_mixing(seed, truncation=truncation)
        mixing = save_image(sheet, out / "style_mixing.png", replace=overwrite)
        result.extras["style_mixing"] = mixing
    return result
